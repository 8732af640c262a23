// ChildProcessesLive with real processes and the real /proc, through a ProcessTable that records
// every signal it sends: how a stop spends its one budget (stopTimeout, then SIGKILL).
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Logger, LogLevel, Schedule, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ChildProcessesLive } from "../layers/manager/ChildProcessesLive.js"
import { ProcessTableLive } from "../layers/manager/ProcessTableLive.js"
import { ChildProcesses } from "../services/manager/ChildProcesses.js"
import { ProcessGroups } from "../services/manager/ProcessGroups.js"
import { ProcessTable } from "../services/manager/ProcessTable.js"
import { Backoff, ServerSpec } from "../src/manager/ServerSpec.js"

type Event =
  | { readonly what: "signal"; readonly at: number; readonly pids: ReadonlyArray<number>; readonly signal: string }
  | { readonly what: "main exited"; readonly at: number }

/** ChildProcessesLive on the live process table, each `signal` recorded in `events` before it is sent. */
const recorded = (events: Array<Event>) => {
  const processTable = Layer.effect(
    ProcessTable,
    Effect.map(ProcessTable, (live) =>
      ProcessTable.of({
        ...live,
        signal: (pids, signal) =>
          Effect.zipRight(Effect.sync(() => events.push({ what: "signal", at: Date.now(), pids: [...pids], signal })), live.signal(pids, signal))
      }))
  ).pipe(Layer.provide(ProcessTableLive))
  const noRecords = Layer.succeed(ProcessGroups, ProcessGroups.of({ started: () => Effect.void, ended: () => Effect.void }))
  return ChildProcessesLive("test-stop").pipe(Layer.provide(Layer.merge(processTable, noRecords)))
}

const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) [ZX]/.test(Fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

/** The pid a script wrote to `file` (written whole with a rename), once it is there. */
const pidIn = (file: string) =>
  Effect.suspend(() => (Fs.existsSync(file) ? Effect.succeed(Number(Fs.readFileSync(file, "utf8"))) : Effect.fail(`no ${file} yet`))).pipe(
    Effect.retry({ schedule: Schedule.spaced("50 millis"), times: 200 })
  )

describe("ChildProcessesLive: stopping a server", () => {
  it.live("a main process and a setsid leftover both ignoring SIGTERM get it at once, then SIGKILL within one stopTimeout", () => {
    const events: Array<Event> = []
    return Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "mcpm-stop-"))
      const leftoverFile = Path.join(dir, "leftover.pid")
      const stopTimeout = Duration.seconds(1)
      const killGrace = Duration.seconds(5) // ChildProcessesLive's wait after SIGKILL
      const spec = new ServerSpec({
        name: "stubborn",
        command: "stubborn",
        // both ignore SIGTERM (inherited through exec); the leftover leaves the group with setsid
        launch: {
          _tag: "Shell",
          line: `trap '' TERM; setsid sh -c 'echo $$ > ${leftoverFile}.tmp && mv ${leftoverFile}.tmp ${leftoverFile}; exec sleep 1000' & exec sleep 1001`
        },
        env: {},
        cwd: dir,
        autostart: true,
        restart: "never",
        backoff: Backoff.defaults,
        stopSignal: "SIGTERM",
        stopTimeout
      })
      const children = yield* ChildProcesses
      const scope = yield* Scope.make()
      const child = yield* children.spawn(spec, () => Effect.void).pipe(Scope.extend(scope))
      yield* child.exited.pipe(Effect.zipRight(Effect.sync(() => events.push({ what: "main exited", at: Date.now() }))), Effect.fork)
      const leftover = yield* pidIn(leftoverFile)
      expect([child.pid, leftover].filter(alive)).toEqual([child.pid, leftover])

      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      const tookMs = Date.now() - started

      expect([child.pid, leftover].filter(alive)).toEqual([])
      const index = (signal: string) => events.findIndex((e) => e.what === "signal" && e.signal === signal && e.pids.includes(leftover))
      const leftoverTerm = index("SIGTERM")
      const leftoverKill = index("SIGKILL")
      const mainExit = events.findIndex((e) => e.what === "main exited")
      // The order, not the clock: the leftover gets its stop signal while the main process still
      // runs (one budget for both, not one after the other), and SIGKILL no later than it.
      expect(leftoverTerm).toBeGreaterThanOrEqual(0)
      expect(leftoverKill).toBeGreaterThan(leftoverTerm)
      expect(mainExit).toBeGreaterThan(leftoverKill)
      // never before the stop timeout; the whole stop within the documented stopTimeout + 5 s
      expect(events[leftoverKill]!.at - events[leftoverTerm]!.at).toBeGreaterThanOrEqual(Duration.toMillis(stopTimeout) - 20)
      expect(tookMs).toBeLessThan(Duration.toMillis(stopTimeout) + Duration.toMillis(killGrace))
    }).pipe(Effect.provide(recorded(events)), Logger.withMinimumLogLevel(LogLevel.None))
  })
})
