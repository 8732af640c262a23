// Guarding an HTTP listener (layers/shared/HttpAccessLive.ts): whether it may start at all, and
// for each request Host, Origin, bearer token and body size, before the request is served. The
// rules themselves are src/shared/httpAccess.ts; the interpreter's --http and the gateway use both.
import { Context, type Effect, Schema } from "effect"
import type * as Http from "node:http"

/** A listener on an address other than loopback, with no token: anyone who can reach it would be served. */
export class HttpTokenRequired extends Schema.TaggedError<HttpTokenRequired>("mcp-server-manager/HttpTokenRequired")("HttpTokenRequired", {
  host: Schema.String
}) {
  override get message(): string {
    return `refusing to serve HTTP on ${this.host} without a token: it is not a loopback address (127.0.0.0/8, ::1, localhost), ` +
      `so anyone who can reach it would be served. Give --http-token-file FILE (clients then send "Authorization: Bearer <token>"), or listen on 127.0.0.1`
  }
}

/** The token file cannot be read, or holds no token. */
export class HttpTokenFileInvalid extends Schema.TaggedError<HttpTokenFileInvalid>("mcp-server-manager/HttpTokenFileInvalid")("HttpTokenFileInvalid", {
  path: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `--http-token-file ${this.path}: ${this.reason}`
  }
}

export interface HttpListenerAccess {
  /** The address the listener will bind. */
  readonly host: string
  /** File holding the bearer token (read once, trimmed); required unless `host` is loopback. */
  readonly tokenFile: string | undefined
  readonly maxBodyBytes: number
}

/** Applies the access rules to one listener's requests. */
export interface HttpGuard {
  /** true: serve the request. false: it was refused (421, 403, 401 or 413) and answered; its body is not read. */
  readonly admit: (request: Http.IncomingMessage, response: Http.ServerResponse) => boolean
  /** The body, counted while it streams; past the bound, 413 is answered and the rest not read. undefined: refused or the client went away. */
  readonly readBody: (request: Http.IncomingMessage, response: Http.ServerResponse) => Promise<Buffer | undefined>
}

export class HttpAccess extends Context.Tag("mcp-server-manager/HttpAccess")<HttpAccess, {
  /** The guard of a listener about to start; fails when it must not start (no token for a non-loopback host, a bad token file). */
  readonly guard: (listener: HttpListenerAccess) => Effect.Effect<HttpGuard, HttpTokenRequired | HttpTokenFileInvalid>
}>() {}
