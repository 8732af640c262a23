// HttpAccess: the token read from its file at start (never logged), requests checked by the rules of
// src/shared/httpAccess.ts before anything else is done with them.
import { Effect, Layer } from "effect"
import * as Fs from "node:fs/promises"
import type * as Http from "node:http"
import { HttpAccess, type HttpGuard, type HttpListenerAccess, HttpTokenFileInvalid, HttpTokenRequired } from "../../services/shared/HttpAccess.js"
import { type AccessPolicy, bodyTooLarge, isLoopbackHost, type Refusal, refusal, tokenDigest } from "../../src/shared/httpAccess.js"

/** The token in `path`, trimmed; a warning when others than the owner may read the file. */
const readToken = (path: string) =>
  Effect.gen(function*() {
    const { mode, text } = yield* Effect.tryPromise({
      try: async () => {
        const file = await Fs.open(path, "r")
        try {
          return { mode: (await file.stat()).mode, text: await file.readFile("utf8") }
        } finally {
          await file.close()
        }
      },
      catch: (cause) =>
        // "ENOENT: no such file or directory, open '<path>'": the path is said once already
        new HttpTokenFileInvalid({ path, reason: `cannot read it: ${String((cause as Error).message ?? cause).replace(/, \w+ '.*'$/, "")}`, cause })
    })
    if ((mode & 0o077) !== 0) {
      yield* Effect.logWarning(`the token file ${path} is open to group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`)
    }
    const token = text.trim()
    if (token === "") return yield* new HttpTokenFileInvalid({ path, reason: "it holds no token (the file is empty)" })
    return token
  })

/** How long a refused body is still taken in (and dropped) after the answer, at the most. */
const lingerMs = 2_000

/**
 * Answers the refusal. The body is not wanted: what still comes is dropped, and if it has not ended
 * within `lingerMs` the connection is closed. Closing at once, on unread data, would reset the
 * connection, and the client would lose the answer with it.
 */
const refuse = (request: Http.IncomingMessage, response: Http.ServerResponse, { headers, message, status }: Refusal) => {
  if (!response.headersSent) {
    response.writeHead(status, { ...headers, "content-type": "application/json" })
    response.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }))
  }
  request.resume()
  if (request.complete) return
  const linger = setTimeout(() => request.socket.destroy(), lingerMs)
  request.once("close", () => clearTimeout(linger))
}

const guardOf = (policy: AccessPolicy): HttpGuard => ({
  admit: (request, response) => {
    // the port the connection came in on is the listener's (also when it was asked for port 0)
    const refused = refusal(policy, request.socket.localPort ?? 0, request.headers)
    if (refused === undefined) return true
    refuse(request, response, refused)
    return false
  },
  readBody: (request, response) =>
    new Promise((resolve) => {
      const chunks: Array<Buffer> = []
      let size = 0
      const onData = (chunk: Buffer) => {
        size += chunk.length
        if (size <= policy.maxBodyBytes) return void chunks.push(chunk)
        request.off("data", onData)
        refuse(request, response, bodyTooLarge(policy))
        resolve(undefined)
      }
      request.on("data", onData)
      request.once("end", () => resolve(Buffer.concat(chunks)))
      request.once("error", () => resolve(undefined))
      request.once("close", () => resolve(undefined)) // after "end" this changes nothing
    })
})

const guard = (listener: HttpListenerAccess) =>
  Effect.gen(function*() {
    if (listener.tokenFile === undefined && !isLoopbackHost(listener.host)) {
      return yield* new HttpTokenRequired({ host: listener.host })
    }
    const token = listener.tokenFile === undefined ? undefined : yield* readToken(listener.tokenFile)
    return guardOf({
      host: listener.host,
      tokenDigest: token === undefined ? undefined : tokenDigest(token),
      maxBodyBytes: listener.maxBodyBytes
    })
  })

export const HttpAccessLive: Layer.Layer<HttpAccess> = Layer.succeed(HttpAccess, { guard })
