// Serving the code interpreter's MCP server to clients, on stdio or Streamable HTTP
// (layers/interpreter/McpTransportLive.ts), and the error that can stop it from starting.
import { Context, type Effect, Schema } from "effect"

export class HttpListenFailed extends Schema.TaggedError<HttpListenFailed>("mcp-code-interpreter/HttpListenFailed")("HttpListenFailed", {
  address: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `cannot listen on ${this.address}: ${this.reason}`
  }
}

export class McpTransport extends Context.Tag("mcp-code-interpreter/McpTransport")<McpTransport, {
  /** Serve clients, a fresh ToolServer server each, until the transport ends (stdio: the client closed stdin). */
  readonly serve: Effect.Effect<void, HttpListenFailed>
}>() {}
