// ProcessTable over Linux's /proc.
import { Effect, Layer, Option } from "effect"
import * as Fs from "node:fs/promises"
import { type ProcessQuery, ProcessTable, runMarkerVar } from "../services/ProcessTable.js"

const readText = (path: string) =>
  Effect.tryPromise(() => Fs.readFile(path, "latin1")).pipe(Effect.option)

/** State, process group and start time from /proc/<pid>/stat; the command name may contain spaces and ")". */
const statOf = (pid: number) =>
  readText(`/proc/${pid}/stat`).pipe(Effect.map(Option.flatMap((stat) => {
    // fields after the command name, from field 3 (state) on: see proc(5)
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    const state = fields[0]
    const pgid = Number(fields[2])
    const startTime = fields[19]
    return state === undefined || startTime === undefined || Number.isNaN(pgid)
      ? Option.none()
      : Option.some({ state, pgid, startTime })
  })))

const hasMarker = (pid: number, marker: string) =>
  readText(`/proc/${pid}/environ`).pipe(Effect.map(Option.match({
    onNone: () => false,
    onSome: (environ) =>
      environ.split("\0").some((entry) =>
        marker.endsWith("/")
          ? entry.startsWith(`${runMarkerVar}=${marker}`)
          : entry === `${runMarkerVar}=${marker}`
      )
  })))

const matches = (pid: number, query: ProcessQuery) =>
  Effect.flatMap(statOf(pid), Option.match({
    onNone: () => Effect.succeed(false),
    // zombies are dead already; they only wait for their parent to reap them
    onSome: ({ pgid, state }) =>
      state === "Z" || state === "X"
        ? Effect.succeed(false)
        : query.pgid !== undefined && pgid === query.pgid
        ? Effect.succeed(true)
        : query.marker === undefined
        ? Effect.succeed(false)
        : hasMarker(pid, query.marker)
  }))

export const ProcessTableLive = Layer.succeed(ProcessTable, {
  find: (query) =>
    Effect.gen(function*() {
      const entries = yield* Effect.tryPromise(() => Fs.readdir("/proc")).pipe(Effect.orElseSucceed(() => []))
      const pids = entries.filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => pid !== process.pid)
      const found = yield* Effect.forEach(pids, (pid) => Effect.map(matches(pid, query), (yes) => (yes ? [pid] : [])), {
        concurrency: 32
      })
      return found.flat()
    }),
  signal: (pids, signal) =>
    Effect.sync(() => {
      for (const pid of pids) {
        try {
          process.kill(pid, signal)
        } catch {
          // already gone
        }
      }
    }),
  startTime: (pid) =>
    Effect.map(statOf(pid), Option.flatMap(({ startTime, state }) => (state === "Z" || state === "X" ? Option.none() : Option.some(startTime))))
})
