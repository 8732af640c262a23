// ChildProcesses on node:child_process: one process group per server, stopped group-wide.
import { Deferred, Duration, Effect, Fiber, Layer, Option, Runtime, Schedule } from "effect"
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import { type ChildExit, ChildProcesses, type OutputHandler, SpawnFailed } from "../../services/manager/ChildProcesses.js"
import { ProcessGroups } from "../../services/manager/ProcessGroups.js"
import { ProcessTable, runMarkerVar } from "../../services/manager/ProcessTable.js"
import type { OutputStream } from "../../src/protocol/ManagerRpcs.js"
import type { ServerSpec } from "../../src/manager/ServerSpec.js"

/** Longer lines are cut into pieces of this size, so one endless line cannot grow memory. */
const maxLineLength = 16 * 1024

const forEachLine = (stream: NodeJS.ReadableStream, onLine: (text: string) => void) => {
  let pending = ""
  stream.setEncoding("utf8")
  stream.on("data", (chunk: string) => {
    pending += chunk
    let newline: number
    while ((newline = pending.indexOf("\n")) !== -1) {
      onLine(pending.slice(0, newline).replace(/\r$/, "").slice(0, maxLineLength))
      pending = pending.slice(newline + 1)
    }
    while (pending.length > maxLineLength) {
      onLine(pending.slice(0, maxLineLength))
      pending = pending.slice(maxLineLength)
    }
  })
  stream.on("end", () => {
    if (pending !== "") onLine(pending)
    pending = ""
  })
}

const describeSpawnError = (spec: ServerSpec, error: NodeJS.ErrnoException): string => {
  const file = spec.launch._tag === "Exec" ? spec.launch.file : "/bin/sh"
  switch (error.code) {
    case "ENOENT":
      return `command not found: ${file}`
    case "EACCES":
      return `permission denied: ${file}`
    default:
      return error.message
  }
}

const hasExited = (child: CP.ChildProcess) => child.exitCode !== null || child.signalCode !== null

/**
 * The daemon's environment without what systemd meant for the daemon alone: with $NOTIFY_SOCKET a
 * server could tell systemd it is ready or stopping, or name itself the main process
 * (the unit has NotifyAccess=all so that systemd-notify, a child, may speak for the daemon).
 */
const inheritedEnv = (): NodeJS.ProcessEnv => {
  const env = { ...process.env }
  delete env.NOTIFY_SOCKET
  return env
}

/** Signal a whole process group (spawned with `detached`, so its id is the leader's pid). */
const signalGroup = (pgid: number, signal: NodeJS.Signals) =>
  Effect.sync(() => {
    try {
      process.kill(-pgid, signal)
    } catch {
      // ESRCH: the group is empty already
    }
  })

/**
 * `effect`, given up after `limit` (None), even inside a release and even when this fiber is
 * interrupted meanwhile (a stop, restart or shutdown arriving while a run is being swept): the wait
 * runs in a fiber of its own that only the timeout interrupts. Made interruptible in place, that
 * interruption would cut the wait short and skip the SIGKILL after it, leaving the processes alive.
 */
const waitAtMost = <A>(effect: Effect.Effect<A>, limit: Duration.DurationInput) =>
  effect.pipe(Effect.interruptible, Effect.timeout(limit), Effect.option, Effect.forkDaemon, Effect.flatMap(Fiber.join))

/** After SIGKILL, how long a stop waits for the processes to be gone (they cannot refuse; one stuck in the kernel may take a while). */
const killGrace = Duration.seconds(5)

/**
 * @param runId identifies this daemon run; it prefixes the marker in every server's environment,
 * so leftovers can be recognised as ours even after they left the process group.
 */
export const ChildProcessesLive = (runId: string) =>
  Layer.effect(
    ChildProcesses,
    Effect.gen(function*() {
      const processes = yield* ProcessTable
      const groups = yield* ProcessGroups
      // copied once: reading process.env costs ~0.3 ms a spawn, and the daemon never changes it
      const baseEnv = inheritedEnv()
      let spawnCount = 0

      /**
       * Stop one run within one budget: the stop signal goes to its group and, at the same time, to
       * anything outside the group carrying its marker (setsid daemons; only processes started
       * since the run's main process can carry it: `startedSince` skips the rest). Whatever is
       * left `stopTimeout` later gets SIGKILL and `killGrace` to go: a stop takes at most
       * stopTimeout + killGrace, however many processes ignore the stop signal.
       */
      const stop = (spec: ServerSpec, child: CP.ChildProcess, exited: Effect.Effect<ChildExit>, marker: string, startedSince: string | undefined) =>
        Effect.gen(function*() {
          const pid = child.pid!
          const run = startedSince === undefined ? { pgid: pid, marker } : { pgid: pid, marker, startedSince }
          const mainRunning = !hasExited(child)
          if (mainRunning) yield* signalGroup(pid, spec.stopSignal)
          // a group whose leader exited (and was reaped) is signalled pid by pid: its id may be reused
          const [everything, group] = yield* Effect.all([processes.find(run), mainRunning ? processes.find({ pgid: pid }) : Effect.succeed([])], {
            concurrency: "unbounded"
          })
          const others = everything.filter((p) => !group.includes(p))
          if (others.length > 0) {
            yield* Effect.logWarning("stopping processes left behind by the server").pipe(Effect.annotateLogs({ pids: others.join(",") }))
            yield* processes.signal(others, spec.stopSignal)
          }
          const allGone = (onEach: (pids: ReadonlyArray<number>) => Effect.Effect<void>) =>
            Effect.zipRight(
              exited,
              processes.find(run).pipe(
                Effect.tap(onEach),
                Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (left) => left.length === 0 })
              )
            )
          if (!mainRunning && everything.length === 0) return
          const stopped = yield* waitAtMost(allGone(() => Effect.void), spec.stopTimeout)
          if (stopped._tag === "Some") return
          const left = yield* processes.find(run)
          yield* Effect.logWarning(
            `no exit ${Duration.format(spec.stopTimeout)} after ${spec.stopSignal}; sending SIGKILL to the process group and what it left behind`
          ).pipe(Effect.annotateLogs({ pids: left.join(",") }))
          if (!hasExited(child)) yield* signalGroup(pid, "SIGKILL")
          yield* processes.signal(left, "SIGKILL")
          // again for any process forked meanwhile
          yield* waitAtMost(allGone((pids) => processes.signal(pids, "SIGKILL")), killGrace)
        }).pipe(
          Effect.ensuring(Effect.suspend(() => {
            child.stdin?.destroy()
            child.stdout?.destroy()
            child.stderr?.destroy()
            return groups.ended(child.pid!)
          })),
          Effect.annotateLogs({ server: spec.name, pid: child.pid })
        )

      const spawn = (spec: ServerSpec, onOutput: OutputHandler) =>
        Effect.gen(function*() {
          const cwdExists = yield* Effect.promise(() => Fs.promises.access(spec.cwd).then(() => true, () => false))
          if (!cwdExists) {
            return yield* new SpawnFailed({ server: spec.name, reason: `working directory ${spec.cwd} does not exist` })
          }
          const runtime = yield* Effect.runtime<never>()
          const emit = (stream: OutputStream) => (text: string) => Runtime.runSync(runtime)(onOutput(stream, text))
          const marker = `${runId}/${spec.name}/${++spawnCount}`
          const exit = yield* Deferred.make<ChildExit>()
          const [file, args] = spec.launch._tag === "Shell"
            ? ["/bin/sh", ["-c", spec.launch.line]] as const
            : [spec.launch.file, spec.launch.args] as const

          let startedSince: string | undefined
          const child = yield* Effect.acquireRelease(
            // no cleanup: an acquire is not interruptible, and spawn answers at once ("spawn" or "error")
            Effect.async<CP.ChildProcess, SpawnFailed>((resume) => {
              let child: CP.ChildProcess
              try {
                child = CP.spawn(file, args, {
                  cwd: spec.cwd,
                  env: { ...baseEnv, ...spec.env, [runMarkerVar]: marker },
                  detached: true, // its own process group: stop and sweep the whole group
                  // stdin stays an open pipe (stdio MCP servers exit at EOF); output is always drained
                  stdio: ["pipe", "pipe", "pipe"]
                })
              } catch (error) {
                return resume(Effect.fail(new SpawnFailed({ server: spec.name, reason: String(error), cause: error })))
              }
              child.stdin?.on("error", () => {}) // EPIPE when the server closes its stdin: not our problem
              child.once("exit", (code, signal) => Deferred.unsafeDone(exit, Effect.succeed({ code, signal })))
              child.once("spawn", () => resume(Effect.succeed(child)))
              child.once("error", (error) => {
                if (child.pid === undefined) resume(Effect.fail(new SpawnFailed({ server: spec.name, reason: describeSpawnError(spec, error), cause: error })))
              })
            }),
            (child) => stop(spec, child, Deferred.await(exit), marker, startedSince)
          )
          // everything of this run starts at or after its main process (unknown if it is gone already)
          startedSince = Option.getOrUndefined(yield* processes.startTime(child.pid!))
          yield* groups.started({
            server: spec.name,
            pgid: child.pid!,
            marker,
            stopSignal: spec.stopSignal,
            stopTimeout: spec.stopTimeout
          })
          forEachLine(child.stdout!, emit("stdout"))
          forEachLine(child.stderr!, emit("stderr"))
          return { pid: child.pid!, exited: Deferred.await(exit) }
        })

      return ChildProcesses.of({ spawn })
    })
  )
