// Shared pieces of the benchmark: statistics, the processes it started (killed by pid at the end,
// even on failure), child reports, timing helpers.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

export const repoRoot = Path.resolve(import.meta.dirname, "..")
/** Scratch space: installs, configs, sockets, reports (gitignored). */
export const scratch = Path.join(repoRoot, ".bench")

let runs = 0
/** A fresh directory under .bench/runs for one contender's run. */
export const runDir = (what: string) => {
  const dir = Path.join(scratch, "runs", `${what}-${process.pid}-${++runs}`)
  Fs.mkdirSync(dir, { recursive: true })
  return dir
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** CLOCK_MONOTONIC in nanoseconds: the same clock the children stamp their first act with. */
export const monotonicNs = () => process.hrtime.bigint()
export const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6

export const median = (xs: ReadonlyArray<number>) => quantile(xs, 0.5)
export const p95 = (xs: ReadonlyArray<number>) => quantile(xs, 0.95)
/** Nearest-rank quantile (no interpolation): every figure shown is a value that was measured. */
export const quantile = (xs: ReadonlyArray<number>, q: number) => {
  if (xs.length === 0) return Number.NaN
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}

/** Poll `check` until it returns a value; throw after `timeoutMs`. */
export const waitFor = async <A>(what: string, check: () => A | undefined | Promise<A | undefined>, timeoutMs = 30_000, everyMs = 2): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

// ---- processes the bench started ------------------------------------------------------------

/**
 * Every process the bench started or caused (supervisors, their children, daemons like PM2's), with
 * a string its command line must contain: a pid reused by someone else's process is never signalled.
 */
const owned = new Map<number, { readonly what: string; readonly mark: string | undefined }>()

export const own = (pid: number, what: string, mark?: string) => {
  owned.set(pid, { what, mark })
}

const stillOurs = (pid: number) => {
  const mark = owned.get(pid)?.mark
  if (mark === undefined) return true
  try {
    return Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(mark)
  } catch {
    return false
  }
}
export const disown = (pid: number) => {
  owned.delete(pid)
}

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) [ZX]/.test(Fs.readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig)
  } catch {
    // gone already
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL: one pid. */
export const stopPid = async (pid: number, graceMs = 5000) => {
  if (isAlive(pid)) {
    signal(pid, "SIGTERM")
    const deadline = Date.now() + graceMs
    while (isAlive(pid) && Date.now() < deadline) await sleep(20)
    if (isAlive(pid)) signal(pid, "SIGKILL")
  }
  disown(pid)
}

/** Docker containers the bench created: removed by id at the end, whatever happens. */
const containers = new Set<string>()
export const ownContainer = (id: string) => {
  containers.add(id)
}
const removeContainers = () => {
  if (containers.size > 0) CP.spawnSync("docker", ["rm", "-f", ...containers], { stdio: "ignore", timeout: 60_000 })
  containers.clear()
}

/** Kill everything still owned, by pid (used at the end and on failure or Ctrl-C). */
export const killOwned = async () => {
  removeContainers()
  const pids = [...owned.keys()].filter((pid) => isAlive(pid) && stillOurs(pid))
  for (const pid of pids) signal(pid, "SIGTERM")
  const deadline = Date.now() + 3000
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(20)
  for (const pid of pids) if (isAlive(pid)) signal(pid, "SIGKILL")
  owned.clear()
}

/** Synchronous last resort on exit: SIGKILL whatever is still owned. */
export const killOwnedSync = () => {
  removeContainers()
  for (const pid of owned.keys()) if (stillOurs(pid)) signal(pid, "SIGKILL")
  owned.clear()
}

/** Spawn and own a process; its pid is killed at the end whatever happens. */
export const spawnOwned = (what: string, file: string, args: ReadonlyArray<string>, options: CP.SpawnOptions = {}) => {
  const child = CP.spawn(file, [...args], { stdio: ["ignore", "ignore", "pipe"], ...options })
  if (child.pid === undefined) throw new Error(`cannot start ${what}: ${file}`)
  own(child.pid, what)
  let stderr = ""
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-20_000)
  })
  child.once("exit", () => disown(child.pid!))
  return { child, pid: child.pid, stderr: () => stderr }
}

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly ms: number
}

/** Run a command to completion (owned while it runs); `ms` is its wall time. */
export const run = (file: string, args: ReadonlyArray<string>, options: CP.SpawnOptions = {}, timeoutMs = 120_000) =>
  new Promise<Ran>((resolve, reject) => {
    const start = monotonicNs()
    const child = CP.spawn(file, [...args], { stdio: ["ignore", "pipe", "pipe"], ...options })
    if (child.pid !== undefined) own(child.pid, file)
    let stdout = ""
    let stderr = ""
    child.stdout?.setEncoding("utf8").on("data", (c: string) => (stdout += c))
    child.stderr?.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.once("error", reject)
    child.once("close", (code) => {
      clearTimeout(timer)
      if (child.pid !== undefined) disown(child.pid)
      resolve({ code, stdout, stderr, ms: msSince(start) })
    })
  })

export const runOk = async (file: string, args: ReadonlyArray<string>, options: CP.SpawnOptions = {}, timeoutMs?: number) => {
  const result = await run(file, args, options, timeoutMs)
  if (result.code !== 0) throw new Error(`${file} ${args.join(" ")} exited ${result.code}: ${result.stderr.slice(-2000)}`)
  return result
}

// ---- process figures from /proc --------------------------------------------------------------

/** Resident set size in MB (VmRSS). */
export const rssMb = (pid: number) => {
  const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN)
  return kb / 1024
}

const ticksPerSecond = 100 // getconf CLK_TCK on Linux x86_64 and arm64

/** User + system CPU seconds a process has used so far. */
export const cpuSeconds = (pid: number) => {
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond
}

// ---- children's reports ------------------------------------------------------------------------

/** bench/child.pl: stamps its start into `report`, then sleeps for ever or exits 1 at once (`crash`). */
export const childProgram = (report: string, name: string, crash = false) => ({
  name,
  file: "/usr/bin/perl",
  args: [Path.join(repoRoot, "bench/child.pl"), report, name, crash ? "crash" : "sleep"]
})
export type Program = ReturnType<typeof childProgram>

export interface Start {
  readonly name: string
  readonly pid: number
  /** CLOCK_MONOTONIC when the child started, ns. */
  readonly at: bigint
}

/** Reads a report file incrementally: every start of every child, in order. */
export class Reports {
  private offset = 0
  private rest = ""
  readonly starts: Array<Start> = []
  constructor(readonly file: string) {
    Fs.writeFileSync(file, "")
  }
  poll(): ReadonlyArray<Start> {
    const fd = Fs.openSync(this.file, "r")
    try {
      const buffer = Buffer.alloc(1 << 16)
      for (;;) {
        const n = Fs.readSync(fd, buffer, 0, buffer.length, this.offset)
        if (n === 0) break
        this.offset += n
        this.rest += buffer.toString("utf8", 0, n)
      }
    } finally {
      Fs.closeSync(fd)
    }
    const lines = this.rest.split("\n")
    this.rest = lines.pop() ?? ""
    for (const line of lines) {
      const [name, pid, at] = line.split(" ")
      if (name !== undefined && pid !== undefined && at !== undefined) {
        const start = { name, pid: Number(pid), at: BigInt(at) }
        this.starts.push(start)
        // killed by pid at the end whatever its supervisor did (if it still runs our report's command)
        own(start.pid, `child ${name}`, this.file)
      }
    }
    return this.starts
  }
  /** The latest start of each child. */
  latest(): Map<string, Start> {
    const byName = new Map<string, Start>()
    for (const s of this.poll()) byName.set(s.name, s)
    return byName
  }
  /** Wait until every name in `names` has a start after `after` (ns); the last such start. */
  async allStartedAfter(names: ReadonlyArray<string>, after: bigint, timeoutMs = 60_000): Promise<Start> {
    return waitFor(`${names.length} children to start`, () => {
      const latest = this.latest()
      let last: Start | undefined
      for (const name of names) {
        const s = latest.get(name)
        if (s === undefined || s.at <= after) return undefined
        if (last === undefined || s.at > last.at) last = s
      }
      return last
    }, timeoutMs, 5)
  }
}
