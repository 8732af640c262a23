// ControlClient over the daemon's Unix domain socket.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import { RpcClient, RpcSerialization } from "@effect/rpc"
import { Layer } from "effect"
import { ControlClient } from "../../services/manager/ControlClient.js"

/** Large enough for the status of hundreds of servers; framing must match the daemon's (ndjson). */
const maxResponseLine = 8 * 1024 * 1024

export const ControlClientLive = (socket: string) =>
  ControlClient.Default.pipe(
    Layer.provide(RpcClient.layerProtocolSocket()),
    Layer.provide([NodeSocket.layerNet({ path: socket }), RpcSerialization.layerNdjsonWith({ maxBufferSize: maxResponseLine })])
  )
