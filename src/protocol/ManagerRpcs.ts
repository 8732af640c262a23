// src/protocol/: what the daemon and its clients (mcpctl, the interpreter's manager tools) share,
// pure: the RPC group and its Schemas and errors (this file), and the package version.
//
// The control protocol between mcp-manager and its clients (mcpctl, the code interpreter's
// manager tools). @effect/rpc frames it as newline-delimited JSON over a Unix domain socket.
import { Rpc, RpcGroup } from "@effect/rpc"
import { Schema } from "effect"
import { ConfigInvalid } from "../manager/config/ConfigInvalid.js"
import { RestartPolicy } from "../manager/ServerSpec.js"

export { ConfigInvalid }

/**
 * starting: being spawned · running: process alive · backoff: exited, waiting to restart ·
 * stopping: stop signal sent, waiting for the group to exit · stopped: stopped on request (or not
 * autostarted) · exited: exited and its restart policy says not to restart.
 */
export const ServerState = Schema.Literal("starting", "running", "backoff", "stopping", "stopped", "exited")
export type ServerState = typeof ServerState.Type

export class LastExit extends Schema.Class<LastExit>("LastExit")({
  code: Schema.NullOr(Schema.Int),
  signal: Schema.NullOr(Schema.String),
  at: Schema.DateTimeUtc
}) {}

export class ServerStatus extends Schema.Class<ServerStatus>("ServerStatus")({
  name: Schema.String,
  /** As written in the config. */
  command: Schema.String,
  state: ServerState,
  pid: Schema.NullOr(Schema.Int),
  /** Times the server was started again after its first start (crashes and manual restarts). */
  restarts: Schema.Int,
  startedAt: Schema.NullOr(Schema.DateTimeUtc),
  lastExit: Schema.NullOr(LastExit),
  nextRestartAt: Schema.NullOr(Schema.DateTimeUtc),
  /** Why the last start failed, e.g. the command was not found. */
  lastError: Schema.NullOr(Schema.String),
  autostart: Schema.Boolean,
  restartPolicy: RestartPolicy,
  /** Why the server's log file is not being written (e.g. the disk is full); absent from older daemons. */
  logProblem: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null })
}) {}

export const OutputStream = Schema.Literal("stdout", "stderr")
export type OutputStream = typeof OutputStream.Type

export class LogLine extends Schema.Class<LogLine>("LogLine")({
  server: Schema.String,
  stream: OutputStream,
  at: Schema.DateTimeUtc,
  text: Schema.String
}) {}

export class DaemonInfo extends Schema.Class<DaemonInfo>("DaemonInfo")({
  version: Schema.String,
  pid: Schema.Int,
  startedAt: Schema.DateTimeUtc,
  configFile: Schema.String,
  socket: Schema.String
}) {}

export class ReloadResult extends Schema.Class<ReloadResult>("ReloadResult")({
  added: Schema.Array(Schema.String),
  removed: Schema.Array(Schema.String),
  changed: Schema.Array(Schema.String),
  unchanged: Schema.Array(Schema.String),
  /** Entries of the file that were understood but are not supervised (e.g. remote servers). */
  skipped: Schema.Array(Schema.String)
}) {}

export class UnknownServer extends Schema.TaggedError<UnknownServer>("mcp-manager/UnknownServer")("UnknownServer", {
  target: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  override get message(): string {
    const known = this.known.length > 0 ? `known: ${this.known.join(", ")}` : "no servers are configured"
    return `no server named "${this.target}" and none with that command (${known})`
  }
}

export class AmbiguousServer extends Schema.TaggedError<AmbiguousServer>("mcp-manager/AmbiguousServer")("AmbiguousServer", {
  target: Schema.String,
  candidates: Schema.Array(Schema.String)
}) {
  override get message(): string {
    return `"${this.target}" is the command of several servers (${this.candidates.join(", ")}): use a name`
  }
}

export class BadState extends Schema.TaggedError<BadState>("mcp-manager/BadState")("BadState", {
  name: Schema.String,
  state: ServerState,
  action: Schema.String
}) {
  override get message(): string {
    return `cannot ${this.action} ${this.name}: it is ${this.state}`
  }
}

/** A connection asked for one more log stream than it may have open at once. */
export class TooManyStreams extends Schema.TaggedError<TooManyStreams>("mcp-manager/TooManyStreams")("TooManyStreams", {
  limit: Schema.Int
}) {
  override get message(): string {
    return `this connection already has ${this.limit} log streams open, the most one connection may have: end one, or use another connection`
  }
}

const Target = {
  /** A server's name, or its command exactly as written in the config. */
  target: Schema.String
}
const TargetErrors = Schema.Union(UnknownServer, AmbiguousServer)

export class ManagerRpcs extends RpcGroup.make(
  Rpc.make("Status", { success: Schema.Array(ServerStatus) }),
  Rpc.make("Restart", { payload: Target, success: ServerStatus, error: TargetErrors }),
  Rpc.make("RestartAll", { success: Schema.Array(ServerStatus) }),
  Rpc.make("Start", { payload: Target, success: ServerStatus, error: Schema.Union(UnknownServer, AmbiguousServer, BadState) }),
  Rpc.make("Stop", { payload: Target, success: ServerStatus, error: Schema.Union(UnknownServer, AmbiguousServer, BadState) }),
  Rpc.make("Logs", {
    payload: Schema.Struct({
      target: Schema.String,
      /** How many past lines to send first. */
      lines: Schema.optionalWith(Schema.Int.pipe(Schema.between(0, 100_000)), { default: () => 100 }),
      /** Keep the stream open and send new lines as they arrive. */
      follow: Schema.optionalWith(Schema.Boolean, { default: () => false })
    }),
    success: LogLine,
    error: Schema.Union(...TargetErrors.members, TooManyStreams),
    stream: true
  }),
  Rpc.make("Reload", { success: ReloadResult, error: ConfigInvalid }),
  Rpc.make("Version", { success: DaemonInfo })
) {}
