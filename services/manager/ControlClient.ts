// A client of the daemon's control socket (mcpctl, and the code interpreter's manager tools).
import { RpcClient } from "@effect/rpc"
import { Effect } from "effect"
import { ManagerRpcs } from "../../src/protocol/ManagerRpcs.js"

export class ControlClient extends Effect.Service<ControlClient>()("mcp-manager/ControlClient", {
  // no spans: nothing exports them, and making one per request doubled a status round trip
  scoped: RpcClient.make(ManagerRpcs, { disableTracing: true })
}) {}
