// The MCP tools of mcp-code-interpreter, as SDK servers to connect clients to.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { Context } from "effect"

export class ToolServer extends Context.Tag("mcp-code-interpreter/ToolServer")<ToolServer, {
  /** A fresh McpServer with every tool, for one client connection; all of them share the sessions and the sandbox. */
  readonly newServer: () => McpServer
}>() {}
