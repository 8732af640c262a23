// ProcessTable over Linux's /proc. A pass reads synchronously: /proc lives in memory, and a few
// hundred small files take a few milliseconds this way, against ~1 ms a process through promises
// (which made every restart wait ~100 ms on a quiet host). Queries of one event-loop turn share a pass.
import { Effect, Layer, Option } from "effect"
import * as Fs from "node:fs"
import { type ProcessQuery, ProcessTable, runMarkerVar } from "../../services/manager/ProcessTable.js"

/** Reused for every read: the table is read synchronously, one file at a time. */
let buffer = Buffer.alloc(16 * 1024)

/**
 * The whole file. Not `readFileSync`: /proc files report size 0, which sends it down a slow path
 * (~60 µs a file here against ~15 µs for open, read, close).
 */
const readText = (path: string): string | undefined => {
  let fd: number
  try {
    fd = Fs.openSync(path, "r") // sync-ok: /proc lives in memory and never blocks (see the top)
  } catch {
    return undefined // the process is gone, or not ours to read
  }
  try {
    let length = 0
    for (;;) {
      if (length === buffer.length) buffer = Buffer.concat([buffer, Buffer.alloc(buffer.length)])
      const n = Fs.readSync(fd, buffer, length, buffer.length - length, null) // sync-ok: /proc, as above
      if (n === 0) return buffer.toString("latin1", 0, length)
      length += n
    }
  } catch {
    return undefined
  } finally {
    Fs.closeSync(fd) // sync-ok: /proc, as above
  }
}

interface Stat {
  readonly state: string
  readonly pgid: number
  /** Clock ticks since boot (proc(5) field 22), as a decimal string. */
  readonly startTime: string
}

/** State, process group and start time from /proc/<pid>/stat; the command name may contain spaces and ")". */
const statOf = (pid: number): Stat | undefined => {
  const stat = readText(`/proc/${pid}/stat`)
  if (stat === undefined) return undefined
  // fields after the command name, from field 3 (state) on: see proc(5)
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  const state = fields[0]
  const pgid = Number(fields[2])
  const startTime = fields[19]
  return state === undefined || startTime === undefined || Number.isNaN(pgid) ? undefined : { state, pgid, startTime }
}

/** Start times are decimal tick counts: compare them as numbers of any length. */
const startedBefore = (startTime: string, bound: string) =>
  startTime.length !== bound.length ? startTime.length < bound.length : startTime < bound

/** One pass over /proc: every live process's stat; environments read on demand, at most once. */
interface Snapshot {
  readonly processes: ReadonlyArray<{ readonly pid: number; readonly stat: Stat }>
  readonly hasMarker: (pid: number, marker: string) => boolean
}

const processIds = (): ReadonlyArray<number> => {
  let entries: ReadonlyArray<string>
  try {
    entries = Fs.readdirSync("/proc") // sync-ok: the one-pass /proc scan (see the top)
  } catch {
    return []
  }
  const pids: Array<number> = []
  for (const entry of entries) {
    const code = entry.charCodeAt(0)
    if (code >= 48 && code <= 57) {
      const pid = Number(entry)
      if (pid !== process.pid) pids.push(pid)
    }
  }
  return pids
}

const scan = (): Snapshot => {
  const processes: Array<{ readonly pid: number; readonly stat: Stat }> = []
  for (const pid of processIds()) {
    const stat = statOf(pid)
    // zombies are dead already; they only wait for their parent to reap them
    if (stat !== undefined && stat.state !== "Z" && stat.state !== "X") processes.push({ pid, stat })
  }
  const environs = new Map<number, string | undefined>()
  return {
    processes,
    hasMarker: (pid, marker) => {
      if (!environs.has(pid)) environs.set(pid, readText(`/proc/${pid}/environ`))
      const environ = environs.get(pid)
      if (environ === undefined) return false
      const wanted = `${runMarkerVar}=${marker}`
      return environ.split("\0").some((entry) => (marker.endsWith("/") ? entry.startsWith(wanted) : entry === wanted))
    }
  }
}

const matches = (snapshot: Snapshot, query: ProcessQuery) => ({ pid, stat }: Snapshot["processes"][number]) => {
  if (query.pgid !== undefined && stat.pgid === query.pgid) return true
  if (query.marker === undefined) return false
  if (query.startedSince !== undefined && startedBefore(stat.startTime, query.startedSince)) return false
  return snapshot.hasMarker(pid, query.marker)
}

/**
 * Queries made in the same turn of the event loop share one pass over /proc, taken after all of
 * them were asked (so none misses a process that existed when it asked): when 100 servers restart
 * at once, 100 sweeps cost a few passes, not 100.
 */
let pending: Promise<Snapshot> | undefined
const nextSnapshot = () => {
  if (pending === undefined) {
    pending = new Promise((resolve) =>
      setImmediate(() => {
        pending = undefined
        resolve(scan())
      })
    )
  }
  return pending
}

export const ProcessTableLive = Layer.succeed(ProcessTable, {
  find: (query) =>
    Effect.map(Effect.promise(nextSnapshot), (snapshot) => snapshot.processes.filter(matches(snapshot, query)).map(({ pid }) => pid)),
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
    Effect.sync(() => {
      const stat = statOf(pid)
      return stat === undefined || stat.state === "Z" || stat.state === "X" ? Option.none() : Option.some(stat.startTime)
    })
})
