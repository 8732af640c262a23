#!/usr/bin/env node
// A small stdio MCP server for trying mcp-manager: it answers `echo` and `time`, and logs to stderr.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import * as z from "zod/v4"

const name = process.argv[2] ?? "echo"
const server = new McpServer({ name, version: "1.0.0" })

server.registerTool("echo", {
  title: "Echo",
  description: "Return the given text unchanged",
  inputSchema: { text: z.string() }
}, ({ text }) => ({ content: [{ type: "text", text }] }))

server.registerTool("time", {
  title: "Current time",
  description: "Return the server's current time as an ISO 8601 string",
  inputSchema: {}
}, () => ({ content: [{ type: "text", text: new Date().toISOString() }] }))

await server.connect(new StdioServerTransport())
console.error(`${name}: MCP server ready on stdio (pid ${process.pid})`)
// stdio MCP servers end when their client closes stdin
process.stdin.on("end", () => process.exit(0))
