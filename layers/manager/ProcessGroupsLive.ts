// ProcessGroups as a small JSON file in the daemon's runtime directory, one file per control socket
// (several daemons may share a runtime directory; only one can own a socket).
import { Duration, Effect, Layer, Option, Queue, Schedule, Schema } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { GroupRecordFailed, ProcessGroups, type StartedGroup } from "../../services/manager/ProcessGroups.js"
import { ProcessTable } from "../../services/manager/ProcessTable.js"
import { defaultStopTimeout, StopSignal } from "../../src/manager/ServerSpec.js"

const RecordedGroup = Schema.Struct({
  server: Schema.String,
  pgid: Schema.Int.pipe(Schema.positive()),
  marker: Schema.String,
  stopSignal: StopSignal,
  stopTimeoutMillis: Schema.Number.pipe(Schema.nonNegative())
})
type RecordedGroup = typeof RecordedGroup.Type

const GroupRecord = Schema.Struct({
  socket: Schema.String,
  /** Prefix of the `MCP_MANAGER_RUN` value of every process that daemon started. */
  runId: Schema.String.pipe(Schema.minLength(1)),
  daemonPid: Schema.Int,
  /** With daemonPid: tells whether that daemon is still running (pids are reused). */
  daemonStartTime: Schema.String,
  groups: Schema.Array(RecordedGroup)
})
type GroupRecord = typeof GroupRecord.Type

const decodeRecord = Schema.decodeUnknown(Schema.parseJson(GroupRecord))
const encodeRecord = Schema.encodeSync(Schema.parseJson(GroupRecord))

export interface ProcessGroupsOptions {
  /** The runtime directory (created 0700 if missing). */
  readonly dir: string
  /** The control socket: names the record, so daemons sharing `dir` keep their own. */
  readonly socket: string
  /** This run's id: the prefix of every server's `MCP_MANAGER_RUN`. */
  readonly runId: string
}

/** `<dir>/groups-<digest of the socket path>.json` */
export const groupRecordFile = (dir: string, socket: string) =>
  Path.join(dir, `groups-${Crypto.createHash("sha256").update(Path.resolve(socket)).digest("hex").slice(0, 16)}.json`)

const maxRecordBytes = 1024 * 1024

/** Used when a leftover carries our run's marker but its group was not recorded. */
const defaultStop: { readonly signal: StopSignal; readonly timeout: Duration.Duration } = {
  signal: "SIGTERM",
  timeout: defaultStopTimeout
}

export const ProcessGroupsLive = (options: ProcessGroupsOptions) =>
  Layer.scoped(
    ProcessGroups,
    Effect.gen(function*() {
      const processes = yield* ProcessTable
      const file = groupRecordFile(options.dir, options.socket)
      const failed = (reason: string, cause?: unknown) => new GroupRecordFailed({ file, reason, cause })
      const ioFailed = (error: unknown) => failed(error instanceof Error ? error.message : String(error), error)

      /** Stop what the daemon that wrote `record` left running: only processes that prove to be its own. */
      const stopLeftovers = (record: GroupRecord) =>
        Effect.gen(function*() {
          const writer = yield* processes.startTime(record.daemonPid)
          if (Option.contains(writer, record.daemonStartTime)) {
            return yield* Effect.logWarning(
              `the mcp-manager that wrote ${file} (pid ${record.daemonPid}) is still running; leaving its servers alone`
            )
          }
          const runPrefix = `${record.runId}/`
          // A recorded group is ours only while one of its members still carries our marker: a
          // stranger that got the same pid (and so leads a group with that id) never does.
          const marked = new Set(yield* processes.find({ marker: runPrefix }))
          const ownGroups: Array<RecordedGroup> = []
          for (const group of record.groups) {
            const members = yield* processes.find({ pgid: group.pgid })
            if (members.some((pid) => marked.has(pid))) ownGroups.push(group)
          }
          const leftovers = Effect.gen(function*() {
            const byPid = new Map<number, { readonly signal: StopSignal }>()
            for (const pid of yield* processes.find({ marker: runPrefix })) byPid.set(pid, { signal: defaultStop.signal })
            for (const group of ownGroups) {
              for (const pid of yield* processes.find({ pgid: group.pgid })) byPid.set(pid, { signal: group.stopSignal })
            }
            return byPid
          })
          const found = yield* leftovers
          if (found.size === 0) return
          yield* Effect.logWarning(`stopping ${found.size} process(es) left by a previous mcp-manager (pid ${record.daemonPid})`).pipe(
            Effect.annotateLogs({ pids: [...found.keys()].join(",") })
          )
          for (const signal of new Set([...found.values()].map((v) => v.signal))) {
            yield* processes.signal([...found].filter(([, v]) => v.signal === signal).map(([pid]) => pid), signal)
          }
          const timeout = record.groups.reduce(
            (longest, group) => Duration.max(longest, Duration.millis(group.stopTimeoutMillis)),
            record.groups.length === 0 ? defaultStop.timeout : Duration.zero
          )
          const gone = yield* leftovers.pipe(
            Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (left) => left.size === 0 }),
            Effect.timeout(timeout),
            Effect.option
          )
          if (Option.isNone(gone)) {
            const stubborn = [...(yield* leftovers).keys()]
            yield* Effect.logWarning(`no exit ${Duration.format(timeout)} after the stop signal; sending SIGKILL`).pipe(
              Effect.annotateLogs({ pids: stubborn.join(",") })
            )
            yield* processes.signal(stubborn, "SIGKILL")
            yield* leftovers.pipe(
              Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (left) => left.size === 0 }),
              Effect.timeout("5 seconds"),
              Effect.ignore
            )
          }
          yield* Effect.logInfo("processes left by the previous mcp-manager are stopped")
        })

      const readPrevious = Effect.gen(function*() {
        const stat = yield* Effect.tryPromise({
          try: () => Fs.promises.stat(file).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? undefined : Promise.reject(e))),
          catch: ioFailed
        })
        if (stat === undefined) return Option.none<GroupRecord>()
        const size = stat.size
        // ours are a few hundred bytes a server
        if (size > maxRecordBytes) return yield* failed(`larger than ${maxRecordBytes} bytes`)
        const text = yield* Effect.tryPromise({ try: () => Fs.promises.readFile(file, "utf8"), catch: ioFailed })
        return yield* decodeRecord(text).pipe(
          Effect.map(Option.some),
          Effect.mapError((e) => failed(`not a process group record: ${e.message}`, e))
        )
      })

      const previous = yield* readPrevious.pipe(
        Effect.tapError((error) => Effect.logWarning(`${error.message}; ignoring it`)),
        Effect.orElseSucceed(() => Option.none<GroupRecord>())
      )
      if (Option.isSome(previous) && previous.value.socket === Path.resolve(options.socket)) {
        yield* stopLeftovers(previous.value)
      }

      const groups = new Map<number, RecordedGroup>()
      const self: Omit<GroupRecord, "groups"> = {
        socket: Path.resolve(options.socket),
        runId: options.runId,
        daemonPid: process.pid,
        daemonStartTime: Option.getOrElse(yield* processes.startTime(process.pid), () => "")
      }
      const temp = `${file}.${process.pid}.tmp`
      // Small (one entry per live group) and off the event loop. Uninterruptible, and written by one
      // fiber at a time (the writer below, then the finalizer once it is interrupted), so a write
      // cannot interleave with another; temp + rename means a reader never sees half a file.
      const write = Effect.tryPromise({
        try: async () => {
          const text = encodeRecord({ ...self, groups: [...groups.values()] }) // the groups as of now
          await Fs.promises.mkdir(options.dir, { recursive: true, mode: 0o700 })
          await Fs.promises.writeFile(temp, text, { mode: 0o600 })
          await Fs.promises.rename(temp, file)
        },
        catch: ioFailed
      }).pipe(Effect.uninterruptible)
      let failing = false
      const save = write.pipe(
        Effect.matchEffect({
          // warn once per episode: a crash loop must not flood the log
          onFailure: (error) =>
            failing ? Effect.void : Effect.zipRight(Effect.sync(() => (failing = true)), Effect.logWarning(
              `${error.message}; after a SIGKILL of this daemon its servers may survive it`
            )),
          onSuccess: () =>
            failing ? Effect.zipRight(Effect.sync(() => (failing = false)), Effect.logInfo(`recording process groups in ${file} again`)) : Effect.void
        })
      )
      yield* save

      // Every group ended before this runs (ChildProcesses depends on us, so it is released first).
      // Added before the writer below starts, so it runs after the writer is interrupted.
      yield* Effect.addFinalizer(() =>
        groups.size === 0
          ? Effect.tryPromise({ try: () => Fs.promises.rm(file, { force: true }), catch: ioFailed }).pipe(
            Effect.catchAll((error) => Effect.logWarning(error.message))
          )
          : save
      )

      // Changes are written by one fiber, at most once per `coalesce`: a restart (one group ends,
      // one starts) or a restart-all is one write, off the restart's path (write + rename costs
      // 1–4 ms on ext4). A daemon killed inside that window loses nothing that matters: the run id
      // is on disk from the start, and the next start finds every process carrying it.
      const coalesce = Duration.millis(10)
      const changed = yield* Queue.sliding<void>(1)
      yield* Queue.take(changed).pipe(Effect.zipRight(Effect.sleep(coalesce)), Effect.zipRight(save), Effect.forever, Effect.forkScoped)
      const saveSoon = Queue.offer(changed, undefined)

      const toRecorded = (group: StartedGroup): RecordedGroup => ({
        server: group.server,
        pgid: group.pgid,
        marker: group.marker,
        stopSignal: group.stopSignal,
        stopTimeoutMillis: Duration.toMillis(group.stopTimeout)
      })

      return ProcessGroups.of({
        started: (group) => Effect.suspend(() => (groups.set(group.pgid, toRecorded(group)), saveSoon)),
        ended: (pgid) => Effect.suspend(() => (groups.delete(pgid) ? saveSoon : Effect.void))
      })
    })
  )
