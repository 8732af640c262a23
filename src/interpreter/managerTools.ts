// manager_status and manager_restart: the code interpreter speaking to mcp-manager through the
// same Schema protocol module mcpctl uses.
import type { SocketError } from "@effect/platform/Socket"
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Effect, type Layer, Schema } from "effect"
import * as z from "zod/v4"
import { ControlClient } from "../../services/manager/ControlClient.js"
import { ServerStatus } from "../protocol/ManagerRpcs.js"
import { ok, toolError } from "./toolResults.js"
import type { ToolRunner } from "./tools.js"

const encodeStatuses = Schema.encodeSync(Schema.Array(ServerStatus))

export interface ManagerAccess {
  readonly socket: string
  readonly client: Layer.Layer<ControlClient, SocketError>
}

export const registerManagerTools = (server: McpServer, runner: ToolRunner, { client, socket }: ManagerAccess) => {
  const unreachable = (e: { readonly _tag: string; readonly message: string }) =>
    e._tag === "RpcClientError" || e._tag === "SocketError" ? `cannot reach mcp-manager at ${socket}: is it running?` : e.message

  server.registerTool("manager_status", {
    title: "Status of the managed MCP servers",
    description: `Show the MCP servers run by mcp-manager on this host (socket ${socket}): state, pid, uptime, restarts, last exit.`,
    inputSchema: {},
    outputSchema: { servers: z.array(z.record(z.string(), z.unknown())) },
    annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false }
  }, (_args, extra) =>
    runner.run(
      Effect.flatMap(ControlClient, (manager) => manager.Status()).pipe(
        Effect.scoped,
        Effect.provide(client),
        Effect.match({
          onFailure: (e) => toolError(unreachable(e)),
          onSuccess: (statuses) => {
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
        })
      ),
      extra.signal
    ))

  server.registerTool("manager_restart", {
    title: "Restart a managed MCP server",
    description: "Restart one MCP server run by mcp-manager (its whole process group), by name or by its command as written in the config.",
    inputSchema: { name: z.string().min(1).max(4096).describe("Server name (see manager_status)") },
    outputSchema: { server: z.record(z.string(), z.unknown()) },
    annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false }
  }, ({ name }, extra) =>
    runner.run(
      Effect.flatMap(ControlClient, (manager) => manager.Restart({ target: name })).pipe(
        Effect.scoped,
        Effect.provide(client),
        Effect.match({
          onFailure: (e) => toolError(unreachable(e)),
          onSuccess: (status) =>
            ok(`${status.name}: ${status.state}${status.pid === null ? "" : ` (pid ${status.pid})`}`, {
              server: { ...encodeStatuses([status])[0] }
            })
        })
      ),
      extra.signal
    ))
}
