// ServerLogs: a ring buffer per server, a sliding PubSub for followers, optional rotating files,
// and every line echoed to the daemon's own log (stderr, i.e. the journal) under the server's name.
import { DateTime, Effect, Layer, PubSub, Runtime, Stream } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ServerLogs } from "../../services/manager/ServerLogs.js"
import { LogLine } from "../../src/protocol/ManagerRpcs.js"
import { RotatingLogFile } from "./internal/rotatingLogFile.js"

export interface ServerLogsOptions {
  /** Lines kept in memory per server. */
  readonly tailLines: number
  /** Write `<dir>/<server>.log` when set. */
  readonly dir: string | undefined
  readonly maxFileBytes: number
  readonly keepFiles: number
  /** Copy every line to the daemon's stderr log. */
  readonly echo: boolean
}

interface Entry {
  readonly seq: number
  readonly line: LogLine
}

/** Fixed-size ring of the most recent entries. */
class Tail {
  private readonly ring: Array<Entry> = []
  private next = 0
  constructor(private readonly capacity: number) {}
  push(entry: Entry) {
    if (this.ring.length < this.capacity) this.ring.push(entry)
    else this.ring[this.next] = entry
    this.next = (this.next + 1) % this.capacity
  }
  last(n: number): ReadonlyArray<Entry> {
    const ordered = this.ring.length < this.capacity
      ? this.ring
      : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)]
    return n <= 0 ? [] : ordered.slice(-n)
  }
}

/** A follower that falls this far behind loses the oldest lines instead of growing memory. */
const followerBuffer = 4096

export const ServerLogsLive = (options: ServerLogsOptions) =>
  Layer.scoped(
    ServerLogs,
    Effect.gen(function*() {
      const tails = new Map<string, Tail>()
      const files = new Map<string, RotatingLogFile>()
      const live = yield* PubSub.sliding<Entry>(followerBuffer)
      const runtime = yield* Effect.runtime<never>()
      let seq = 0

      if (options.dir !== undefined) {
        const dir = options.dir
        yield* Effect.tryPromise(() => Fs.promises.mkdir(dir, { recursive: true, mode: 0o750 })).pipe(
          Effect.catchAll((error) => Effect.logWarning(`cannot create log directory ${dir}: ${String(error.error)}`))
        )
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => files.forEach((file) => file.close())))

      const fileFor = (server: string, dir: string) => {
        let file = files.get(server)
        if (file === undefined) {
          file = new RotatingLogFile({
            path: Path.join(dir, `${server}.log`),
            maxBytes: options.maxFileBytes,
            keep: options.keepFiles,
            onProblem: (message) => Runtime.runFork(runtime)(Effect.logWarning(message).pipe(Effect.annotateLogs({ server })))
          })
          files.set(server, file)
        }
        return file
      }

      return ServerLogs.of({
        record: (server, stream, text) =>
          Effect.gen(function*() {
            const line = new LogLine({ server, stream, at: yield* DateTime.now, text })
            const entry = { seq: ++seq, line }
            let tail = tails.get(server)
            if (tail === undefined) tails.set(server, tail = new Tail(options.tailLines))
            tail.push(entry)
            yield* PubSub.publish(live, entry)
            if (options.dir !== undefined) fileFor(server, options.dir).write(`${DateTime.formatIso(line.at)} ${stream} ${text}`)
            if (options.echo) yield* Effect.logInfo(text).pipe(Effect.annotateLogs({ server, stream }))
          }),
        read: (server, { follow, lines }) =>
          Stream.unwrapScoped(Effect.gen(function*() {
            // subscribe before taking the snapshot, then skip what the snapshot already holds
            const subscription = follow ? yield* PubSub.subscribe(live) : undefined
            const snapshot = tails.get(server)?.last(lines) ?? []
            const past = Stream.fromIterable(snapshot.map((e) => e.line))
            if (subscription === undefined) return past
            const seen = snapshot.at(-1)?.seq ?? seq
            return Stream.concat(
              past,
              Stream.fromQueue(subscription).pipe(
                Stream.filter((e) => e.line.server === server && e.seq > seen),
                Stream.map((e) => e.line)
              )
            )
          })),
        fileProblem: (server) => Effect.sync(() => files.get(server)?.problem ?? null),
        forget: (server) =>
          Effect.sync(() => {
            tails.delete(server)
            files.get(server)?.close()
            files.delete(server)
          })
      })
    })
  )
