// The control socket's transport for the RPC server: @effect/rpc's ndjson framing on each
// connection, with every frame checked before the server sees it and every connection bounded.
//
// It stands in for RpcServer.layerProtocolSocketServer, which trusts its peers: a line that was not
// JSON left the connection open and answering every later line with the same error, frames such as
// `null` or a request id "abc" were handled by the server throwing, and a client that pipelined
// requests without reading the answers made the daemon hold them all (2.7 GB for 100,000 status
// requests). Here a frame the daemon cannot take closes that connection with a reason, and a
// connection with `maxUnanswered` requests whose answers the kernel has not taken yet is paused
// until it has. Node reads a socket 64 KiB at a time: the read that reaches the limit is handled
// whole, and a paused socket still reads ahead into its 16 KiB buffer (one more read at most),
// unparsed. For a client that never reads, the daemon so holds at most `maxUnanswered` answers plus
// those to one 64 KiB read, and ~80 KiB of unparsed requests; the socket's buffers hold the rest.
// Log streams are bounded apart (`maxOpenStreams`, enforced by the handler with TooManyStreams),
// so that a client following many logs can still end them.
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import type * as Socket from "@effect/platform/Socket"
import * as SocketServer from "@effect/platform/SocketServer"
import { type RpcMessage, RpcSchema, RpcSerialization, RpcServer } from "@effect/rpc"
import { Effect, Either, Layer, Mailbox, Schema } from "effect"
import { ManagerRpcs } from "../../src/protocol/ManagerRpcs.js"

/**
 * Requests a connection may have unanswered (their answers not yet in the socket's buffer) before
 * the daemon stops reading from it; the read that reaches it is handled whole. mcpctl uses one at
 * a time. Streams (`logs`) are not counted here: a `logs -f` is unanswered for as long as it
 * follows, and a connection that stopped being read could not even end it.
 */
export const maxUnanswered = 64

/**
 * Log streams one connection may have open at once; one more is refused with TooManyStreams.
 * Each holds one chunk at most until the client acknowledges it.
 */
export const maxOpenStreams = 64

/** Stream requests past which the daemon stops reading: the open ones and refusals not yet taken. */
const maxStreamRequests = maxOpenStreams + maxUnanswered

/** Tags of the requests answered by a stream. */
const streamTags = new Set([...ManagerRpcs.requests].filter(([, rpc]) => RpcSchema.isStreamSchema(rpc.successSchema)).map(([tag]) => tag))

/** Request ids are bigints, sent as decimal strings. */
const RequestId = Schema.String.pipe(Schema.pattern(/^\d{1,20}$/))

const ClientMessage = Schema.Union(
  Schema.Struct({
    _tag: Schema.Literal("Request"),
    id: RequestId,
    tag: Schema.String,
    payload: Schema.Unknown,
    headers: Schema.Array(Schema.Tuple(Schema.String, Schema.String)),
    traceId: Schema.optional(Schema.String),
    spanId: Schema.optional(Schema.String),
    sampled: Schema.optional(Schema.Boolean)
  }),
  Schema.Struct({ _tag: Schema.Literal("Ack", "Interrupt"), requestId: RequestId }),
  Schema.Struct({ _tag: Schema.Literal("Ping", "Eof") })
)
const decodeClientMessage = Schema.decodeUnknownEither(ClientMessage)

const toEncoded = (message: typeof ClientMessage.Type): RpcMessage.FromClientEncoded => {
  switch (message._tag) {
    case "Request":
      return {
        _tag: "Request",
        id: message.id,
        tag: message.tag,
        payload: message.payload,
        headers: message.headers.map(([name, value]) => [name, value]),
        traceId: message.traceId,
        spanId: message.spanId,
        sampled: message.sampled
      }
    case "Ack":
    case "Interrupt":
      return { _tag: message._tag, requestId: message.requestId }
    case "Ping":
    case "Eof":
      return { _tag: message._tag }
  }
}

/** Why a connection was closed: the client sent something the protocol does not allow. */
class ProtocolViolation extends Schema.TaggedError<ProtocolViolation>("mcp-manager/ProtocolViolation")("ProtocolViolation", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

/** Frames of one chunk that were not understood, or the reason none could be. */
const parseFrames = (
  parser: RpcSerialization.Parser,
  data: string | Uint8Array
): Either.Either<ReadonlyArray<typeof ClientMessage.Type>, ProtocolViolation> => {
  let frames: ReadonlyArray<unknown>
  try {
    frames = parser.decode(data)
  } catch (error) {
    return Either.left(new ProtocolViolation({
      reason: error instanceof RpcSerialization.RpcSerializationError
        ? `a line longer than ${error.maxBufferSize} bytes`
        : "a line that is not JSON",
      cause: error
    }))
  }
  const messages: Array<typeof ClientMessage.Type> = []
  for (const frame of frames) {
    const message = decodeClientMessage(frame)
    if (Either.isLeft(message)) return Either.left(new ProtocolViolation({ reason: "a frame that is not a control protocol message", cause: message.left }))
    messages.push(message.right)
  }
  return Either.right(messages)
}

/** At most one warning a second: a client in a loop must not flood the journal. */
const warnEveryMs = 1000
const makeWarner = () => {
  let last = 0
  let suppressed = 0
  return (message: string) =>
    Effect.suspend(() => {
      const now = Date.now()
      if (now - last < warnEveryMs) {
        suppressed++
        return Effect.void
      }
      const more = suppressed > 0 ? ` (and ${suppressed} more connection(s) closed since)` : ""
      last = now
      suppressed = 0
      return Effect.logWarning(`${message}${more}`)
    })
}

interface Connection {
  readonly send: (response: RpcMessage.FromServerEncoded) => Effect.Effect<void>
}

export const ControlSocketProtocolLive: Layer.Layer<
  RpcServer.Protocol,
  never,
  RpcSerialization.RpcSerialization | SocketServer.SocketServer
> = Layer.scoped(
  RpcServer.Protocol,
  Effect.gen(function*() {
    const server = yield* SocketServer.SocketServer
    const serialization = yield* RpcSerialization.RpcSerialization
    const disconnects = yield* Mailbox.make<number>()
    const connections = new Map<number, Connection>()
    const warn = makeWarner()
    let nextId = 0
    let toServer!: (clientId: number, message: RpcMessage.FromClientEncoded) => Effect.Effect<void>

    const protocol = yield* RpcServer.Protocol.make((write) => {
      toServer = write
      return Effect.succeed({
        disconnects,
        send: (clientId, response) => connections.get(clientId)?.send(response) ?? Effect.void,
        end: () => Effect.void,
        clientIds: Effect.sync(() => new Set(connections.keys())),
        initialMessage: Effect.succeedNone,
        supportsAck: true,
        supportsTransferables: false,
        supportsSpanPropagation: true
      })
    })

    const serve = (socket: Socket.Socket) =>
      Effect.gen(function*() {
        const id = nextId++
        const parser = serialization.unsafeMake()
        const write = yield* socket.writer
        // to stop reading from a client that does not take its answers (present on Node's sockets)
        const net = yield* Effect.serviceOption(NodeSocket.NetSocket)
        const unanswered = new Set<string>()
        const streams = new Set<string>()
        const readingTooMuch = () => unanswered.size >= maxUnanswered || streams.size >= maxStreamRequests
        // the socket's writer waits (for ever) once reading has ended: answers after that are dropped
        let reading = true
        const settle = (requestId: string) =>
          Effect.sync(() => {
            unanswered.delete(requestId)
            streams.delete(requestId)
            if (!readingTooMuch() && net._tag === "Some" && net.value.isPaused()) net.value.resume()
          })
        const sendEncoded = (response: unknown) => {
          let encoded: string | Uint8Array | undefined
          try {
            encoded = parser.encode(response)
          } catch (cause) {
            encoded = parser.encode({ _tag: "Defect", defect: String(cause) })
          }
          // a failed write means the client is gone; its disconnect cleans up
          return encoded === undefined || !reading ? Effect.void : Effect.ignore(write(encoded))
        }
        connections.set(id, {
          // an answer counts as taken once the kernel has it: the write waits for that
          send: (response) =>
            response._tag === "Exit" ? Effect.ensuring(sendEncoded(response), settle(response.requestId)) : sendEncoded(response)
        })
        yield* Effect.addFinalizer(() => Effect.zipRight(Effect.sync(() => connections.delete(id)), disconnects.offer(id)))

        // the client learns why before the connection closes (the socket only writes while it is read)
        const refuse = (violation: ProtocolViolation) =>
          Effect.zipRight(
            sendEncoded({ _tag: "Defect", defect: `mcp-manager closed this connection: it sent ${violation.reason}` }),
            Effect.fail(violation)
          )
        const received = (data: string | Uint8Array) => {
          const messages = parseFrames(parser, data)
          if (Either.isLeft(messages)) return refuse(messages.left)
          for (const message of messages.right) {
            // unknown tags are answered by the server with a defect, never an exit: not counted
            if (message._tag !== "Request" || !ManagerRpcs.requests.has(message.tag)) continue
            if (unanswered.has(message.id) || streams.has(message.id)) {
              return refuse(new ProtocolViolation({ reason: `request id ${message.id} reused while still unanswered` }))
            }
            if (streamTags.has(message.tag)) streams.add(message.id)
            else unanswered.add(message.id)
          }
          if (readingTooMuch() && net._tag === "Some") net.value.pause()
          return Effect.forEach(messages.right, (message) => toServer(id, toEncoded(message)), { discard: true })
        }

        yield* socket.runRaw(received).pipe(
          Effect.ensuring(Effect.sync(() => (reading = false))),
          Effect.catchTag("ProtocolViolation", ({ reason }) => warn(`closed a control connection: it sent ${reason}`)),
          Effect.catchAll(() => Effect.void) // the client went away
        )
      })

    yield* server.run((socket) => Effect.scoped(serve(socket))).pipe(Effect.interruptible, Effect.forkScoped)
    return protocol
  })
)
