// McpTransport on stdin/stdout (one client) or on Streamable HTTP (a session per client).
import { Effect, Layer } from "effect"
import { McpTransport } from "../../services/interpreter/McpTransport.js"
import { ToolServer } from "../../services/interpreter/ToolServer.js"
import type { HttpGuard } from "../../services/shared/HttpAccess.js"
import { serveHttp, serveStdio } from "./internal/mcpTransports.js"

/** stdio, or http://host:port/mcp, behind `guard`, when `http` is given. */
export const McpTransportLive = (http: { readonly host: string; readonly port: number; readonly guard: HttpGuard } | undefined) =>
  Layer.effect(
    McpTransport,
    Effect.map(ToolServer, (tools) => ({
      serve: Effect.scoped(http === undefined ? serveStdio(tools.newServer) : serveHttp(tools.newServer, http))
    }))
  )
