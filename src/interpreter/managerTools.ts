// manager_status and manager_restart as a client sees them, and their results: the code interpreter
// speaking to mcp-manager through the same Schema protocol module mcpctl uses. Their handlers are in
// layers/interpreter/ToolServerLive.ts.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { Schema } from "effect"
import * as z from "zod/v4"
import { ServerStatus } from "../protocol/ManagerRpcs.js"
import { strictArguments } from "./toolArguments.js"
import { ok, toolError } from "./toolResults.js"

const encodeStatuses = Schema.encodeSync(Schema.Array(ServerStatus))

/** The manager's tools, keyed by name, for the daemon at `socket`. */
export const managerTools = (socket: string) => ({
  manager_status: {
    title: "Status of the managed MCP servers",
    description: `Show the MCP servers run by mcp-manager on this host (socket ${socket}): state, pid, uptime, restarts, last exit.`,
    inputSchema: strictArguments({}),
    outputSchema: { servers: z.array(z.record(z.string(), z.unknown())) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
  },
  manager_restart: {
    title: "Restart a managed MCP server",
    description: "Restart one MCP server run by mcp-manager (its whole process group), by name or by its command as written in the config.",
    inputSchema: strictArguments({ name: z.string().min(1).max(4096).describe("Server name (see manager_status)") }),
    outputSchema: { server: z.record(z.string(), z.unknown()) },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }
  }
})

/** A failed call to the daemon: when it does not answer, say where it was looked for. */
export const managerUnreachable = (socket: string) => (e: { readonly _tag: string; readonly message: string }): CallToolResult =>
  toolError(e._tag === "RpcClientError" || e._tag === "SocketError" ? `cannot reach mcp-manager at ${socket}: is it running?` : e.message)

export const statusResult = (statuses: ReadonlyArray<ServerStatus>): CallToolResult => {
  const servers = encodeStatuses(statuses)
  return ok(
    statuses.map((s) =>
      `${s.name}: ${s.state}${s.pid === null ? "" : ` (pid ${s.pid})`}, ${s.restarts} restart(s)` +
      (s.logProblem === null ? "" : `; log file not written: ${s.logProblem}`)
    ).join("\n") ||
      "no servers configured",
    { servers: servers.map((s) => ({ ...s })) }
  )
}

export const restartResult = (status: ServerStatus): CallToolResult =>
  ok(`${status.name}: ${status.state}${status.pid === null ? "" : ` (pid ${status.pid})`}`, {
    server: { ...encodeStatuses([status])[0] }
  })
