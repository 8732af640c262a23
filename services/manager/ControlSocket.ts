// The daemon's control socket, claimed and served by layers/manager/ControlServerLive.ts. Nothing
// calls it through an interface (clients speak src/protocol), so this holds only what it raises.
import { Schema } from "effect"

export class SocketUnavailable extends Schema.TaggedError<SocketUnavailable>("mcp-manager/SocketUnavailable")("SocketUnavailable", {
  path: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `cannot use control socket ${this.path}: ${this.reason}`
  }
}
