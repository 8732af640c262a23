// Serving MCP servers over stdio or Streamable HTTP; each transport's lifetime is a scope.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js"
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js"
import { Effect, Either, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import { HttpListenFailed } from "../../../services/interpreter/McpTransport.js"
import type { HttpGuard } from "../../../services/shared/HttpAccess.js"
import { hostPort } from "../../../src/shared/httpAccess.js"

/** Serve one client on stdin/stdout; completes when the client closes stdin. */
export const serveStdio = (makeServer: () => McpServer) =>
  Effect.gen(function*() {
    const server = makeServer()
    yield* Effect.acquireRelease(
      Effect.promise(() => server.connect(new StdioServerTransport())),
      () => Effect.promise(() => server.close()).pipe(Effect.ignore)
    )
    yield* Effect.logInfo("serving MCP on stdio")
    // StdioServerTransport keeps going after EOF: the end of stdin is the end of the client
    yield* Effect.async<void>((resume) => {
      const done = () => resume(Effect.void)
      process.stdin.once("end", done)
      process.stdin.once("close", done)
      return Effect.sync(() => {
        process.stdin.off("end", done)
        process.stdin.off("close", done)
      })
    })
    yield* Effect.logInfo("stdin closed: shutting down")
  })

/** Concurrent MCP sessions over HTTP; beyond this, new clients get 503. */
const maxHttpSessions = 256

const decodeBody = Schema.decodeUnknownEither(Schema.parseJson(Schema.Unknown))

const sendJsonError = (response: Http.ServerResponse, status: number, message: string) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: null }))
}

/**
 * Streamable HTTP on http://host:port/mcp, one MCP session (and McpServer) per client. Every
 * request, on any path, passes the guard first (Host, Origin, token, body size).
 */
export const serveHttp = (
  makeServer: () => McpServer,
  options: { readonly host: string; readonly port: number; readonly guard: HttpGuard }
) =>
  Effect.gen(function*() {
    const sessions = new Map<string, { readonly transport: StreamableHTTPServerTransport; readonly server: McpServer }>()

    /** A request the guard admitted. */
    const handle = async (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      const url = new URL(request.url ?? "/", "http://localhost")
      if (url.pathname !== "/mcp") return sendJsonError(response, 404, "not found: the MCP endpoint is /mcp")
      const raw = request.method === "POST" ? await options.guard.readBody(request, response) : Buffer.alloc(0)
      if (raw === undefined) return // refused (413) or the client went away
      const text = raw.toString("utf8")
      const body = text === "" ? Either.right(undefined) : Either.mapLeft(decodeBody(text), () => "the request body is not JSON")
      if (Either.isLeft(body)) return sendJsonError(response, 400, body.left)
      const sessionHeader = request.headers["mcp-session-id"]
      const sessionId = Array.isArray(sessionHeader) ? sessionHeader[0] : sessionHeader
      const existing = sessionId === undefined ? undefined : sessions.get(sessionId)
      if (existing !== undefined) return existing.transport.handleRequest(request, response, body.right)
      if (sessionId !== undefined) return sendJsonError(response, 404, "unknown or expired MCP session: initialize again")
      if (request.method !== "POST" || !isInitializeRequest(body.right)) {
        return sendJsonError(response, 400, "no MCP session: send an initialize request first")
      }
      if (sessions.size >= maxHttpSessions) return sendJsonError(response, 503, "too many MCP sessions")
      const server = makeServer()
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => Crypto.randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, server })
        }
      })
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId)
        void server.close()
      }
      await server.connect(transport)
      await transport.handleRequest(request, response, body.right)
    }

    const serve = (request: Http.IncomingMessage, response: Http.ServerResponse) =>
      handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) sendJsonError(response, 500, error instanceof Error ? error.message : String(error))
      })
    const http = Http.createServer((request, response) => {
      if (options.guard.admit(request, response)) void serve(request, response)
    })
    // "Expect: 100-continue": a refused client is told so before it sends its body
    http.on("checkContinue", (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      if (!options.guard.admit(request, response)) return
      response.writeContinue()
      void serve(request, response)
    })
    http.requestTimeout = 0 // a long run_code call keeps its request open
    yield* Effect.acquireRelease(
      // no cleanup: an acquire is not interruptible, and listen answers at once ("listening" or "error")
      Effect.async<void, HttpListenFailed>((resume) => {
        http.once("error", (error) => resume(Effect.fail(new HttpListenFailed({ address: `${options.host}:${options.port}`, reason: error.message, cause: error }))))
        http.listen(options.port, options.host, () => resume(Effect.void))
      }),
      () =>
        Effect.promise(async () => {
          await Promise.all(Array.from(sessions.values(), ({ transport }) => transport.close()))
          const closed = new Promise<void>((resolve) => http.close(() => resolve()))
          http.closeAllConnections() // long-polling clients would otherwise hold the close
          await closed
        })
    )
    const address = http.address()
    const port = typeof address === "object" && address !== null ? address.port : options.port
    yield* Effect.logInfo(`serving MCP over Streamable HTTP on http://${hostPort(options.host, port)}/mcp`)
    return yield* Effect.never
  })
