// Fault and abuse suite, daemon: junk, floods and crowds on the control socket, strangers at the
// socket, a crash loop, servers that ignore SIGTERM or daemonise, bad reloads, a full or read-only
// log disk, a closed stderr. Every case runs the built daemon (dist/daemon.js) on a real socket
// with real processes, and measures it from /proc.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Chunk, Effect, Fiber, ManagedRuntime, Ref, Schedule, Stream } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { ControlClientLive } from "../../layers/manager/ControlClientLive.js"
import { maxOpenStreams, maxUnanswered } from "../../layers/manager/ControlSocketProtocolLive.js"
import { ControlClient } from "../../services/manager/ControlClient.js"
import { TooManyStreams } from "../../src/protocol/ManagerRpcs.js"
import { eventually, floodWithoutReading, isAlive, mcpctlJs, sleep, startDaemon, stopAllDaemons, tempDir } from "../support/daemon.js"
import { makeAccounts, markedProcesses, mib, mountTmpfs, RawConnection, runAs, sampleProcess, type ServerFrame, withClient } from "./support/daemonProbe.js"
import { type JunkConnection, junkCorpus } from "./support/junkFrames.js"
import { record } from "./support/report.js"

afterAll(stopAllDaemons)

const ticker = (period: string) => `[ticker] sh -c 'i=0; while :; do i=$((i+1)); echo "tick $i"; sleep ${period}; done'`

/**
 * A daemon with a quiet server and a chatty one, warmed up as real use does (many short
 * connections), and its RSS and fds taken as the baseline once it has settled.
 */
const steadyDaemonWithBaseline = async () => {
  const daemon = await startDaemon({ config: `[steady] sleep 1000\n${ticker("0.2")}\n`, args: ["--quiet"] })
  const pid = daemon.process.pid!
  const expected = await Promise.all(["steady", "ticker"].map(async (name) => ({ name, pid: (await daemon.running(name)).pid })))
  await eventually(async () => ((await daemon.ctl("logs", "ticker", "-n", "3")).stdout.split("\n").length > 3 ? true : undefined))
  for (let i = 0; i < 200; i++) await withClient(daemon.socket, (c) => c.Status())
  await sleep(2000)
  return { daemon, pid, expected, before: sampleProcess(pid) }
}

const percent = (after: number, before: number) => `${after >= before ? "+" : ""}${((after / before - 1) * 100).toFixed(1)}%`
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

/** The run marker prefix (`<runId>/`) of the daemon that started `pid`. */
const runPrefixOf = (pid: number) => {
  const marker = Fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").find((e) => e.startsWith("MCP_MANAGER_RUN="))!
  return marker.slice("MCP_MANAGER_RUN=".length).split("/")[0] + "/"
}

/**
 * A well-behaved client asking the daemon all the time (status, recent logs, version), on one
 * long-lived connection and, every fifth call, on a fresh one; every answer is checked.
 */
const keepAsking = (socket: string, expected: ReadonlyArray<{ readonly name: string; readonly pid: number | null }>, daemonPid: number) => {
  const runtime = ManagedRuntime.make(ControlClientLive(socket))
  const ask = Effect.gen(function*() {
    const client = yield* ControlClient
    const status = yield* client.Status()
    const lines = Chunk.toReadonlyArray(yield* Stream.runCollect(client.Logs({ target: "ticker", lines: 3, follow: false })))
    const info = yield* client.Version()
    return { status, lines, info }
  })
  const problems: Array<string> = []
  const latencies: Array<number> = []
  let stopping = false
  const loop = (async () => {
    for (let i = 0; !stopping; i++) {
      const started = Date.now()
      try {
        const { info, lines, status } = i % 5 === 4
          ? await Effect.runPromise(ask.pipe(Effect.provide(ControlClientLive(socket)), Effect.timeout("30 seconds")))
          : await runtime.runPromise(ask.pipe(Effect.timeout("30 seconds")))
        const seen = status.map((s) => ({ name: s.name, pid: s.pid }))
        if (JSON.stringify(seen) !== JSON.stringify(expected)) problems.push(`status: ${JSON.stringify(seen)}`)
        if (lines.length !== 3 || !lines.every((l) => l.server === "ticker" && /^tick \d+$/.test(l.text))) problems.push(`logs: ${JSON.stringify(lines)}`)
        if (info.pid !== daemonPid) problems.push(`version: pid ${info.pid}`)
      } catch (error) {
        problems.push(String(error))
      }
      latencies.push(Date.now() - started)
      await sleep(20)
    }
  })()
  return {
    stop: async () => {
      stopping = true
      await loop
      await runtime.dispose()
      return { calls: latencies.length, problems, slowestMs: Math.max(...latencies) }
    }
  }
}

/** Sample the daemon's RSS until stopped; returns the peak. */
const watchPeak = (pid: number) => {
  let peak = sampleProcess(pid).rssKiB
  const timer = setInterval(() => (peak = Math.max(peak, sampleProcess(pid).rssKiB)), 100)
  return () => (clearInterval(timer), Math.max(peak, sampleProcess(pid).rssKiB))
}

/**
 * Wait (at most `timeoutMs`, with a light client asking once a second as a real one would) until
 * the daemon's RSS is within 10% of `baselineKiB`; returns how long it took and the last sample.
 */
const rssBackWithin10Percent = async (socket: string, pid: number, baselineKiB: number, timeoutMs = 120_000) => {
  const started = Date.now()
  for (;;) {
    const rss = sampleProcess(pid).rssKiB
    if (rss <= baselineKiB * 1.1 || Date.now() - started > timeoutMs) return { rss, afterMs: Date.now() - started }
    await withClient(socket, (c) => c.Status())
    await sleep(1000)
  }
}

const isStep = (step: JunkConnection["frames"][number]): step is { readonly awaitAnswer: string } =>
  typeof step === "object" && !Buffer.isBuffer(step)

const isSuccess = (f: ServerFrame) => f._tag === "Exit" && f.exit?._tag === "Success"
const isRefusal = (f: ServerFrame) => f._tag === "Defect" || (f._tag === "Exit" && f.exit?._tag === "Failure")

/** Send one connection's junk and check the daemon reacted as `expect` says; returns a problem or undefined. */
const sendJunk = async (socket: string, junk: JunkConnection): Promise<string | undefined> => {
  const connection = await RawConnection.open(socket)
  const describe = () => `${junk.kind} (${JSON.stringify(String(junk.frames[0]).slice(0, 80))}): frames ${JSON.stringify(connection.frames).slice(0, 300)}`
  try {
    for (const step of junk.frames) {
      if (isStep(step)) await connection.exitOf(step.awaitAnswer)
      else if (connection.isOpen) await connection.write(step)
    }
    switch (junk.expect) {
      case "closed":
        if (!(await connection.waitClosed(10_000)) || !connection.closedByDaemon) return `not closed: ${describe()}`
        return connection.frames.some(isSuccess) ? `answered: ${describe()}` : undefined
      case "refused": {
        await connection.request("999", "Status")
        const after = await connection.exitOf("999", 10_000)
        const refusals = connection.frames.filter(isRefusal).length
        const junkAnswered = connection.frames.filter((f) => isSuccess(f) && f.requestId !== "999").length
        return refusals === junk.count && junkAnswered === 0 && after !== undefined && isSuccess(after) ? undefined : `not refused one by one: ${describe()}`
      }
      case "answered": {
        await connection.waitFor(() => connection.frames.filter(isSuccess).length >= junk.answers!.length, 10_000)
        const answered = connection.frames.filter(isSuccess).map((f) => f.requestId).sort()
        return JSON.stringify(answered) === JSON.stringify([...junk.answers!].sort()) && connection.isOpen ? undefined : `not answered: ${describe()}`
      }
    }
  } finally {
    connection.destroy()
  }
}

/** Run `tasks` with at most `concurrency` at a time. */
const inPool = async <A>(items: ReadonlyArray<A>, concurrency: number, task: (item: A) => Promise<void>) => {
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) await task(items[next++]!)
  }))
}

describe.concurrent("long-running faults (run side by side: each measures its own daemon)", () => {
  it("1,000 random and malformed frames on hundreds of connections: a well-behaved client is served throughout; RSS and fds come back", async ({ expect }) => {
    const { daemon, pid, expected, before } = await steadyDaemonWithBaseline()
    try {
      const client = keepAsking(daemon.socket, expected, pid)
      const peak = watchPeak(pid)
      const seed = 5
      const corpus = junkCorpus(seed, { follow: "ticker" })
      const problems: Array<string> = []
      const started = Date.now()
      await inPool(corpus, 25, async (junk) => {
        const problem = await sendJunk(daemon.socket, junk)
        if (problem !== undefined) problems.push(problem)
      })
      const junkMs = Date.now() - started
      await sleep(1000)
      const served = await client.stop()
      const peakKiB = peak()

      const frames = corpus.reduce((n, c) => n + c.count, 0)
      expect(frames).toBe(1000)
      expect(problems.slice(0, 5)).toEqual([])
      expect(served.problems.slice(0, 5)).toEqual([])
      expect(served.calls).toBeGreaterThan(10)
      expect(daemon.process.exitCode).toBeNull()
      const fds = await eventually(() => {
        const now = sampleProcess(pid).openFds
        return now <= before.openFds ? now : undefined
      }, 10_000, `open fds back to ${before.openFds}`)
      const back = await rssBackWithin10Percent(daemon.socket, pid, before.rssKiB)
      expect(back.rss).toBeLessThanOrEqual(before.rssKiB * 1.1)

      const kinds = [...new Set(corpus.map((c) => c.kind))].map((kind) => {
        const of = corpus.filter((c) => c.kind === kind)
        return `${kind}: ${of.reduce((n, c) => n + c.count, 0)}`
      })
      record({
        area: "daemon",
        tried: `random and malformed frames on ${corpus.length} connections, 25 at a time (seed ${seed}): ${kinds.join(", ")}`,
        cases: frames,
        result: `each reacted to as specified (lines that do not parse, lines over 1 MiB and non-protocol messages closed the connection; ` +
          `bad tags and payloads got an error answer and the connection kept working; odd but valid framing was answered); ` +
          `a well-behaved client asking all along (status, logs, version; ${served.calls} rounds) got every answer right (slowest round ${served.slowestMs} ms; the junk took ${seconds(junkMs)}); ` +
          `daemon RSS ${mib(before.rssKiB)} before, ${mib(peakKiB)} at peak, ${mib(back.rss)} ${seconds(back.afterMs)} later (${percent(back.rss, before.rssKiB)}); ` +
          `open fds ${before.openFds} before, ${fds} after`
      })
    } finally {
      await daemon.stop()
    }
  })

  it("a crash loop for 60 s: starts bounded by the backoff, low daemon CPU, neighbours untouched, next retry shown", async ({ expect }) => {
    const daemon = await startDaemon({ config: `[crasher] sh -c 'echo crashing; exit 3'\n[steady] sleep 1000\n${ticker("1")}\n`, args: ["--quiet"] })
    try {
      const pid = daemon.process.pid!
      const steady = await daemon.running("steady")
      const cpuBefore = sampleProcess(pid)
      const windowStart = Date.now()
      await sleep(60_000)
      const cpuAfter = sampleProcess(pid)
      const windowMs = Date.now() - windowStart
      const [crasher] = (await daemon.status()).filter((s) => s.name === "crasher")
      const text = (await daemon.ctl("status", "crasher")).stdout
      const checkedAt = Date.now()

      // every start of the crasher, from the daemon's own log
      const starts = [...daemon.log().matchAll(/^timestamp=(\S+) level=INFO .*message=started server=crasher /gm)].map((m) => Date.parse(m[1]!))
      const elapsed = checkedAt - starts[0]!
      // defaults: 100 ms doubling to 30 s; jitter only shortens a delay, at most to 80%
      const nominal = (k: number) => Math.min(100 * 2 ** k, 30_000)
      // start k + 1 comes at the earliest after the shortest delays 0 … k - 1
      let allowed = 1
      for (let sum = 0.8 * nominal(0); sum <= elapsed; sum += 0.8 * nominal(allowed - 1)) allowed++
      expect(starts.length).toBeLessThanOrEqual(allowed)
      expect(starts.length).toBeGreaterThanOrEqual(8) // it never gave up
      starts.slice(1).forEach((at, k) => expect(at - starts[k]!, `gap before start ${k + 2}`).toBeGreaterThanOrEqual(0.8 * nominal(k) - 2))
      expect(crasher!.restarts).toBe(starts.length - 1)

      const cpuSeconds = cpuAfter.cpuSeconds - cpuBefore.cpuSeconds
      const cpuShare = cpuSeconds / (windowMs / 1000)
      expect(cpuShare).toBeLessThan(0.05) // "low": under 5% of one core, averaged over the minute

      // the next retry: in the future, and as far after the last exit as the schedule says
      expect(crasher!.state).toBe("backoff")
      const retryAt = Date.parse(crasher!.nextRestartAt!)
      const delay = retryAt - Date.parse(crasher!.lastExit!.at)
      expect(delay).toBeGreaterThanOrEqual(0.8 * nominal(crasher!.restarts) - 2)
      expect(delay).toBeLessThanOrEqual(nominal(crasher!.restarts) + 2)
      expect(retryAt).toBeGreaterThan(checkedAt)
      const shown = /backoff \(retry in ([\d.]+)s\)/.exec(text)
      expect(shown, text).not.toBeNull()

      // the neighbours: the same process, and a ticker that lost no line
      expect(await daemon.server("steady")).toMatchObject({ state: "running", pid: steady.pid, restarts: 0 })
      expect(await daemon.server("ticker")).toMatchObject({ state: "running", restarts: 0 })
      const ticks = (await daemon.ctl("logs", "ticker", "-n", "1000")).stdout.trim().split("\n").map((l) => Number(l.replace("tick ", "")))
      expect(ticks).toEqual(ticks.map((_, i) => i + 1))
      expect(ticks.length).toBeGreaterThanOrEqual(50)

      const gaps = starts.slice(1).map((at, k) => at - starts[k]!)
      record({
        area: "daemon",
        tried: "crash loop: a server that exits at once (`sh -c 'exit 3'`) for 60 s, default backoff (100 ms doubling to 30 s), beside a steady and a ticking server",
        cases: starts.length,
        result: `${starts.length} starts in ${seconds(elapsed)} (the backoff allows at most ${allowed}); gaps ${seconds(gaps[0]!)} … ${seconds(gaps.at(-1)!)}; ` +
          `daemon CPU ${cpuSeconds.toFixed(2)} s over ${seconds(windowMs)} (${(cpuShare * 100).toFixed(2)}% of one core; "low" means under 5%); ` +
          `the steady server kept pid ${steady.pid}, the ticker lost none of its ${ticks.length} lines; ` +
          `status showed "backoff (retry in ${shown![1]}s)": a retry ${seconds(delay)} after the last exit, within the schedule's ${seconds(0.8 * nominal(crasher!.restarts))}–${seconds(nominal(crasher!.restarts))}`
      })
    } finally {
      await daemon.stop()
    }
  })

  it("a full disk, a read-only filesystem and a blocked log directory: supervision goes on, the log says why, writing resumes", async ({ expect }) => {
    const dir = tempDir()
    const full = mountTmpfs(Path.join(dir, "full"), { size: "64k" })
    const readOnly = mountTmpfs(Path.join(dir, "ro"), { size: "64k", readOnly: true })
    Fs.writeFileSync(Path.join(dir, "not-a-dir"), "")
    const config = `[chatty] sh -c 'i=0; while :; do i=$((i+1)); echo "line $i of a server that talks"; sleep 0.02; done'\n[victim] sleep 1000\n`
    const setups = [
      { name: "full disk", logDir: Path.join(dir, "full"), reason: /ENOSPC: no space left on device/ },
      { name: "read-only filesystem", logDir: Path.join(dir, "ro"), reason: /EROFS: read-only file system/ },
      { name: "log directory path through a file", logDir: Path.join(dir, "not-a-dir", "logs"), reason: /ENOTDIR: not a directory/ }
    ]
    const daemons = await Promise.all(setups.map((s) => startDaemon({ config, args: ["--quiet", "--log-dir", s.logDir] })))
    try {
      // fill the disk to the last few pages: the chatty server's file runs into ENOSPC
      const filler = Path.join(dir, "full", "filler")
      CP.spawnSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k", "count=14"])
      const outcomes: Array<string> = []
      for (const [i, setup] of setups.entries()) {
        const daemon = daemons[i]!
        const said = await eventually(() => {
          const warning = daemon.log().split("\n").find((l) => l.includes("level=WARN") && l.includes("chatty.log") && setup.reason.test(l))
          return warning
        }, 20_000, `a warning naming ${setup.name}`)
        expect(said).toMatch(/cannot write .*chatty\.log \(.*\); lines are kept in memory only, retrying in 30s/)
        // and `mcpctl status` says it too, for that server only
        const shown = (await daemon.ctl("status")).stdout
        expect(shown).toMatch(new RegExp(`^chatty: log file not written: cannot write .*chatty\\.log \\(${setup.reason.source}`, "m"))
        expect(shown).not.toMatch(/^victim:/m)
        // supervision goes on: a killed server comes back, restart works, recent output is still there
        const victim = await daemon.running("victim")
        process.kill(victim.pid!, "SIGKILL")
        await daemon.running("victim", victim.pid)
        expect((await daemon.ctl("restart", "chatty")).code).toBe(0)
        const recent = await daemon.ctl("logs", "chatty", "-n", "3")
        expect(recent.stdout).toMatch(/^(line \d+ of a server that talks\n){3}$/)
        outcomes.push(`${setup.name}: \`${/message="?([^"]*)/.exec(said)![1]!.replaceAll(dir, "…")}\``)
      }

      // free the space: writing resumes at the next retry, with a note of what was lost
      Fs.rmSync(filler)
      const freedAt = Date.now()
      const resumed = await eventually(() => (daemons[0]!.log().includes("message=\"writing") ? true : undefined), 45_000, "writing again")
      expect(resumed).toBe(true)
      const statuses = await withClient(daemons[0]!.socket, (c) => c.Status())
      expect(statuses.map((s) => [s.name, s.logProblem])).toEqual([["chatty", null], ["victim", null]])
      const note = await eventually(() => /\[mcp-manager: (\d+) line\(s\) not written to this file\]/.exec(Fs.readFileSync(Path.join(dir, "full", "chatty.log"), "utf8")) ?? undefined, 10_000, "the note")
      record({
        area: "daemon",
        tried: "log directory on a full disk (64 KiB tmpfs), on a read-only filesystem, and under a regular file; a server SIGKILLed and one restarted on each",
        cases: setups.length * 3,
        result: `the daemon kept supervising (killed servers came back, restarts and \`mcpctl logs\` worked) and said why, in its log and under \`mcpctl status\`: ${outcomes.join("; ")}; ` +
          `after space was freed, writing resumed within ${seconds(Date.now() - freedAt)} with a note in the file that ${note[1]} lines were not written, and \`mcpctl status\` no longer showed a problem`
      })
    } finally {
      await Promise.all(daemons.map((d) => d.stop()))
      full.unmount()
      readOnly.unmount()
    }
  })
})

describe("the control socket: floods, crowds, strangers", () => {
  it("a client that sends 100,000 requests and never reads the answers does not grow the daemon", async () => {
    const { daemon, pid, expected, before } = await steadyDaemonWithBaseline()
    try {
      const client = keepAsking(daemon.socket, expected, pid)
      const peak = watchPeak(pid)

      // as fast as the socket takes them; writing stops after 5 s without progress
      const total = 100_000
      const flood = await floodWithoutReading(daemon.socket, total, 5000)
      await sleep(2000)
      const served = await client.stop()
      const peakKiB = peak()
      flood.destroy()

      // the daemon stopped reading: the client's writes backed up, with what the daemon holds for it
      // within the documented bound (64 unanswered, the read that reached them, Node's read-ahead)
      expect(flood.sent).toBeLessThan(total)
      expect(flood.held).toBeGreaterThanOrEqual(maxUnanswered)
      expect(flood.held).toBeLessThanOrEqual(flood.bound)
      // while a well-behaved client kept getting right answers
      expect(served.calls).toBeGreaterThan(0)
      expect(served.problems.slice(0, 5)).toEqual([])
      expect(daemon.process.exitCode).toBeNull()
      const back = await rssBackWithin10Percent(daemon.socket, pid, before.rssKiB)
      expect(back.rss).toBeLessThanOrEqual(before.rssKiB * 1.1)
      const fds = await eventually(() => (sampleProcess(pid).openFds <= before.openFds ? sampleProcess(pid).openFds : undefined), 10_000, "fds back")
      record({
        area: "daemon",
        tried: `one client pipelining ${total.toLocaleString("en")} status requests without ever reading an answer`,
        cases: flood.sent,
        result: `the daemon stopped reading from it: ${flood.sent.toLocaleString("en")} requests got into the socket in ${seconds(flood.stalledAfterMs)}, then the client could write no more; ` +
          `of those the daemon had taken ${flood.taken.toLocaleString("en")}, ${flood.answersUnread.toLocaleString("en")} answers waited unread in the socket and ` +
          `${flood.held} requests were held by the daemon (at least the 64 unanswered that pause it, at most ${flood.bound}: 64 plus one 64 KiB read plus Node's read-ahead); ` +
          `RSS ${mib(before.rssKiB)} before, ${mib(peakKiB)} at peak, ${mib(back.rss)} ${seconds(back.afterMs)} after it left (${percent(back.rss, before.rssKiB)}); ` +
          `a well-behaved client asking meanwhile (status, logs, version; ${served.calls} rounds) got every answer right (slowest round ${served.slowestMs} ms); open fds ${before.openFds} before, ${fds} after`
      })
    } finally {
      await daemon.stop()
    }
  })

  it("200 clients at once mixing status, logs -f and restart, some cut off mid-stream or mid-request", async () => {
    const names = ["s1", "s2", "s3", "s4"]
    const daemon = await startDaemon({ config: names.map((n, i) => `[${n}] sleep ${2000 + i}`).join("\n") + `\n${ticker("0.05")}\n`, args: ["--quiet"] })
    try {
      const pid = daemon.process.pid!
      const first = await Promise.all(names.map((n) => daemon.running(n)))
      await daemon.running("ticker")
      const runPrefix = runPrefixOf(first[0]!.pid!)
      const isTick = (l: { readonly server: string; readonly text: string }) => l.server === "ticker" && /^tick \d+$/.test(l.text)
      // the 30 `logs -n 50` clients expect 50 lines: the ticker must have written them before the crowd comes
      await eventually(async () => {
        const lines = await withClient(daemon.socket, (c) => Stream.runCollect(c.Logs({ target: "ticker", lines: 50, follow: false })))
        return Chunk.size(lines) === 50 ? true : undefined
      }, 30_000, "50 ticker lines")
      await sleep(500)
      const before = sampleProcess(pid)
      const tickValues = (frames: ReadonlyArray<ServerFrame>) =>
        frames.filter((f) => f._tag === "Chunk").flatMap((f) => f.values as ReadonlyArray<{ server: string; text: string }>)
      const restartPids = new Map<string, Array<number>>(names.map((n) => [n, []]))
      const slowest = { ms: 0 }
      const timed = async (f: () => Promise<string | undefined>) => {
        const started = Date.now()
        try {
          return await f()
        } catch (error) {
          return String(error)
        } finally {
          slowest.ms = Math.max(slowest.ms, Date.now() - started)
        }
      }
      const follow = async (end: "cut" | "interrupt") => {
        const c = await RawConnection.open(daemon.socket)
        try {
          await c.request("1", "Logs", { target: "ticker", lines: 0, follow: true })
          await c.waitFor(() => tickValues(c.frames).length >= 3, 30_000)
          const values = tickValues(c.frames)
          if (values.length < 3 || !values.every(isTick)) return `follower got ${JSON.stringify(values).slice(0, 200)}`
          if (end === "interrupt") {
            await c.send({ _tag: "Interrupt", requestId: "1" })
            if ((await c.exitOf("1", 10_000)) === undefined) return "no exit after interrupt"
          }
          return undefined
        } finally {
          c.destroy() // "cut": mid-stream, without a word
        }
      }
      type Client = { readonly kind: string; readonly run: () => Promise<string | undefined> }
      const clients: Array<Client> = [
        ...Array.from({ length: 60 }, (): Client => ({
          kind: "status ×3",
          run: () =>
            withClient(daemon.socket, (c) => Effect.all([c.Status(), c.Status(), c.Status()])).then((all) =>
              all.every((s) => s.map((x) => x.name).join() === [...names, "ticker"].join()) ? undefined : "wrong status"
            )
        })),
        ...Array.from({ length: 30 }, (): Client => ({ kind: "logs -f cut off mid-stream", run: () => follow("cut") })),
        ...Array.from({ length: 10 }, (): Client => ({ kind: "logs -f interrupted", run: () => follow("interrupt") })),
        ...Array.from({ length: 20 }, (): Client => ({
          kind: "logs -f, three lines then done",
          run: () =>
            withClient(daemon.socket, (c) => Stream.runCollect(c.Logs({ target: "ticker", lines: 0, follow: true }).pipe(Stream.take(3)))).then((lines) =>
              Chunk.toReadonlyArray(lines).every(isTick) && Chunk.size(lines) === 3 ? undefined : "wrong follow"
            )
        })),
        ...Array.from({ length: 40 }, (_, i): Client => ({
          kind: "restart",
          run: () =>
            withClient(daemon.socket, (c) => c.Restart({ target: names[i % names.length]! })).then((s) => {
              restartPids.get(s.name)!.push(s.pid!)
              return s.name === names[i % names.length] && s.state === "running" && s.pid !== null ? undefined : `restart answered ${s.state}`
            })
        })),
        ...Array.from({ length: 10 }, (_, i): Client => ({
          kind: "restart, abandoned at once",
          run: async () => {
            const c = await RawConnection.open(daemon.socket)
            await c.request("1", "Restart", { target: names[i % names.length] })
            c.destroy()
            return undefined
          }
        })),
        ...Array.from({ length: 30 }, (): Client => ({
          kind: "logs -n 50",
          run: () =>
            withClient(daemon.socket, (c) => Stream.runCollect(c.Logs({ target: "ticker", lines: 50, follow: false }))).then((lines) =>
              Chunk.size(lines) === 50 && Chunk.toReadonlyArray(lines).every(isTick)
                ? undefined
                : `got ${Chunk.size(lines)} lines, ${Chunk.toReadonlyArray(lines).filter((l) => !isTick(l)).length} not ticks (first: ${JSON.stringify(Chunk.toReadonlyArray(lines)[0])})`
            )
        }))
      ]
      expect(clients.length).toBe(200)
      const started = Date.now()
      const problems = (await Promise.all(clients.map((c) => timed(c.run).then((p) => (p === undefined ? undefined : `${c.kind}: ${p}`))))).filter((p) => p !== undefined)
      const crowdMs = Date.now() - started
      expect(problems.slice(0, 5)).toEqual([])

      // every restart went through (the abandoned ones may or may not have, never half), each with a new process
      const answered = [...restartPids.values()].reduce((n, pids) => n + pids.length, 0)
      const settled = await eventually(async () => {
        const all = await daemon.status()
        return all.every((s) => s.state === "running") ? all : undefined
      }, 30_000, "all running")
      const restarts = settled.filter((s) => names.includes(s.name)).reduce((n, s) => n + s.restarts, 0)
      expect(restarts).toBeGreaterThanOrEqual(answered)
      expect(restarts).toBeLessThanOrEqual(answered + 10)
      for (const [name, pids] of restartPids) expect(new Set(pids).size, name).toBe(pids.length)
      for (const s of settled.filter((s) => names.includes(s.name))) {
        expect(markedProcesses(`${runPrefix}${s.name}/`), s.name).toEqual([s.pid])
      }
      expect(settled.find((s) => s.name === "ticker")!.restarts).toBe(0)
      const fds = await eventually(() => (sampleProcess(pid).openFds <= before.openFds ? sampleProcess(pid).openFds : undefined), 10_000, `fds back to ${before.openFds}`)
      // and a follower that comes afterwards still gets the stream
      expect(await follow("interrupt")).toBeUndefined()
      record({
        area: "daemon",
        tried: "200 concurrent clients: 60 × three status calls, 60 logs -f (30 cut off mid-stream without a word, 10 interrupted, 20 taking three lines), 40 restarts, 10 restarts abandoned as sent, 30 logs -n 50",
        cases: clients.length,
        result: `all 190 that waited got correct answers (slowest ${seconds(slowest.ms)}, all done in ${seconds(crowdMs)}); ` +
          `${restarts} restarts applied for ${answered} answered and 10 abandoned, each with a new pid and nothing of the old one left; ` +
          `open fds ${before.openFds} before, ${fds} after; the daemon kept streaming to a new follower`
      })
    } finally {
      await daemon.stop()
    }
  })

  it("one connection following 64 logs at once: a 65th is refused with a clear error, and the connection can still end them", async () => {
    const daemon = await startDaemon({ config: `${ticker("0.1")}\n`, args: ["--quiet"] })
    try {
      await daemon.running("ticker")
      const follow = (c: ControlClient) => c.Logs({ target: "ticker", lines: 0, follow: true })
      const outcome = await withClient(daemon.socket, (c) =>
        Effect.gen(function*() {
          // every follower is open on the daemon once it has had a line
          const following = yield* Ref.make<ReadonlyArray<number>>([])
          const followers = yield* Effect.forEach(
            Array.from({ length: maxOpenStreams }, (_, i) => i),
            (i) => Effect.fork(Stream.runForEach(follow(c), () => Ref.update(following, (seen) => (seen.includes(i) ? seen : [...seen, i]))))
          )
          yield* Ref.get(following).pipe(Effect.repeat({ until: (seen) => seen.length === maxOpenStreams, schedule: Schedule.spaced("50 millis") }))
          const refused = yield* Effect.flip(Stream.runDrain(follow(c)))
          // ending one goes through on the same connection and makes room for another
          yield* Fiber.interrupt(followers[0]!)
          const another = yield* Stream.runCollect(follow(c).pipe(Stream.take(1))).pipe(
            Effect.retry({ while: (e) => e._tag === "TooManyStreams", schedule: Schedule.spaced("50 millis"), times: 100 })
          )
          const statuses = yield* c.Status()
          yield* Fiber.interruptAll(followers)
          return { refused, another: Chunk.toReadonlyArray(another), statuses }
        }), "60 seconds")
      expect(outcome.refused).toBeInstanceOf(TooManyStreams)
      expect(outcome.refused.message).toBe(
        `this connection already has ${maxOpenStreams} log streams open, the most one connection may have: end one, or use another connection`
      )
      expect(outcome.another.map((l) => l.server)).toEqual(["ticker"])
      expect(outcome.statuses.map((s) => s.name)).toEqual(["ticker"])
      expect(daemon.process.exitCode).toBeNull()
      record({
        area: "daemon",
        tried: `one connection following ${maxOpenStreams} logs at once, then asking for one more, ending one, asking again, and asking for status`,
        cases: maxOpenStreams + 3,
        result: `the one more was refused: "${outcome.refused.message}"; ending a follower went through on the same connection, the next follow got its line, and status answered`
      })
    } finally {
      await daemon.stop()
    }
  })

  it("socket permissions: a non-root user cannot connect to the 0600 socket; with --socket-group a member can, others cannot", async () => {
    // No peer-credential check exists (Node.js exposes none): the README must say the file mode is the boundary.
    const readme = Fs.readFileSync(Path.resolve(import.meta.dirname, "../../README.md"), "utf8").replace(/\s+/g, " ")
    expect(readme).toContain("the file mode is the access boundary, since Node.js does not expose peer credentials")
    const group = "mcpm-fault-ctl"
    const accounts = makeAccounts(group, [{ name: "mcpm-fault-member", member: true }, { name: "mcpm-fault-outsider", member: false }])
    const dir = tempDir()
    Fs.chmodSync(dir, 0o755) // the way to the socket is open: only its own mode decides
    // dist/ needs nothing else at run time: a copy other users can read, wherever the checkout is
    Fs.cpSync(Path.dirname(mcpctlJs), Path.join(dir, "dist"), { recursive: true })
    const ctl = Path.join(dir, "dist", Path.basename(mcpctlJs))
    try {
      const owner = await startDaemon({ config: "[a] sleep 1000\n", socket: Path.join(dir, "private.sock") })
      const shared = await startDaemon({ config: "[a] sleep 1000\n", socket: Path.join(dir, "shared.sock"), args: ["--socket-group", group] })
      expect(Fs.statSync(owner.socket).mode & 0o777).toBe(0o600)
      expect(Fs.statSync(shared.socket).mode & 0o777).toBe(0o660)
      const connect = "const s=require('net').connect(process.argv[1]);s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',(e)=>{console.log(e.code);process.exit(1)})"
      const attempts = [
        { user: "mcpm-fault-outsider", daemon: owner, allowed: false },
        { user: "mcpm-fault-member", daemon: owner, allowed: false },
        { user: "mcpm-fault-member", daemon: shared, allowed: true },
        { user: "mcpm-fault-outsider", daemon: shared, allowed: false }
      ]
      for (const attempt of attempts) {
        const status = await runAs(attempt.user, process.execPath, [ctl, "--socket", attempt.daemon.socket, "status"])
        const raw = await runAs(attempt.user, process.execPath, ["-e", connect, attempt.daemon.socket])
        const label = `${attempt.user} → ${Path.basename(attempt.daemon.socket)}`
        if (attempt.allowed) {
          expect(status, label).toMatchObject({ code: 0 })
          expect(status.stdout, label).toMatch(/^NAME +STATE/)
          expect(raw.stdout, label).toBe("connected\n")
          const restart = await runAs(attempt.user, process.execPath, [ctl, "--socket", attempt.daemon.socket, "restart", "a"])
          expect(restart.stdout, label).toMatch(/^a: running \(pid \d+\)\n$/)
        } else {
          expect(status, label).toMatchObject({ code: 1, stdout: "", stderr: `mcpctl: cannot connect to ${attempt.daemon.socket}: permission denied\n` })
          expect(raw.stdout, label).toBe("EACCES\n")
        }
      }
      expect((await owner.ctl("status")).code).toBe(0) // root, the owner
      record({
        area: "daemon",
        tried: "socket permissions: a non-root user and a member of the --socket-group group, each against a root daemon's 0600 socket and a 0660 --socket-group socket, with mcpctl and with a raw connect()",
        cases: attempts.length * 2,
        result: "the kernel refused every connection the file mode forbids (EACCES; mcpctl: \"permission denied\"), and the group member could run status and restart on the 0660 socket; " +
          "there is no peer-credential check (Node.js exposes none): the file mode is the boundary, as the README says"
      })
    } finally {
      accounts.remove()
    }
  })
})

describe("servers that will not go quietly", () => {
  /** Resolves with the time (ms after `since`) when none of `pids` is alive any more. */
  const deathOf = (pids: ReadonlyArray<number>, since: number) =>
    eventually(() => (pids.some(isAlive) ? undefined : Date.now() - since), 30_000, `pids ${pids.join(",")} gone`)
  const readPid = (file: string) => eventually(() => (Fs.existsSync(file) ? Number(Fs.readFileSync(file, "utf8").trim()) || undefined : undefined), 10_000, file)

  it("a server that ignores SIGTERM is SIGKILLed after its stop timeout: on stop, restart and daemon shutdown", async () => {
    const dir = tempDir()
    const stopTimeoutMs = 2000
    const config = JSON.stringify({
      mcpServers: {
        stubborn: {
          command: "sh",
          // the shell and a child of it both ignore SIGTERM (an ignored signal stays ignored across exec)
          args: ["-c", `trap '' TERM; sleep 1000 & echo $! > "${dir}/child.pid"; while :; do sleep 1; done`],
          stopTimeout: `${stopTimeoutMs}ms`
        }
      }
    })
    const daemon = await startDaemon({ config, configName: "servers.json", args: ["--quiet"] })
    const killedAfter: Array<string> = []
    const group = async () => {
      const s = await daemon.running("stubborn")
      const child = await readPid(Path.join(dir, "child.pid"))
      Fs.rmSync(Path.join(dir, "child.pid"))
      return [s.pid!, child]
    }
    const sawStopping = async (until: Promise<unknown>) => {
      let seen = false
      let done = false
      void until.then(() => (done = true), () => (done = true))
      while (!done && !seen) {
        seen = (await withClient(daemon.socket, (c) => c.Status()))[0]!.state === "stopping"
        await sleep(100)
      }
      return seen
    }

    // stop
    let pids = await group()
    let since = Date.now()
    let request = daemon.ctl("stop", "stubborn")
    const stoppingShown = await sawStopping(request)
    expect(await request).toMatchObject({ code: 0, stdout: "stubborn: stopped\n" })
    let tookMs = await deathOf(pids, since)
    expect(tookMs).toBeGreaterThanOrEqual(stopTimeoutMs)
    expect(stoppingShown).toBe(true)
    killedAfter.push(`stop ${seconds(tookMs)}`)
    expect((await daemon.ctl("start", "stubborn")).code).toBe(0)

    // restart
    pids = await group()
    since = Date.now()
    request = daemon.ctl("restart", "stubborn")
    expect((await request).stdout).toMatch(/^stubborn: running \(pid \d+\)\n$/)
    tookMs = await deathOf(pids, since)
    expect(tookMs).toBeGreaterThanOrEqual(stopTimeoutMs)
    killedAfter.push(`restart ${seconds(tookMs)}`)

    // the daemon's own shutdown
    pids = await group()
    since = Date.now()
    expect(await daemon.stop()).toEqual({ code: 0, signal: null })
    tookMs = await deathOf(pids, since)
    expect(tookMs).toBeGreaterThanOrEqual(stopTimeoutMs)
    killedAfter.push(`daemon SIGTERM ${seconds(tookMs)}`)
    expect(daemon.log().match(/no exit 2s after SIGTERM; sending SIGKILL to the process group/g)?.length).toBe(3)
    record({
      area: "daemon",
      tried: "a server (and its child) ignoring SIGTERM, stopTimeout 2 s: mcpctl stop, mcpctl restart, SIGTERM to the daemon",
      cases: 3,
      result: `SIGKILLed to the whole group after the timeout every time, never before (gone ${killedAfter.join(", ")} after the request); status said "stopping" meanwhile; the daemon exited 0`
    })
  })

  it("a server that forks a daemon of its own and exits leaves nothing behind: on exit, restart, stop and shutdown", async () => {
    const dir = tempDir()
    const script = Path.join(dir, "daemonise.sh")
    // the classic double fork into a new session, ignoring SIGTERM, stdio closed; then the server exits
    Fs.writeFileSync(script, `#!/bin/sh
(setsid sh -c 'trap "" TERM; echo $$ >> "$1/daemons"; exec sleep 1000' sh "$1" </dev/null >/dev/null 2>&1 &)
sleep 0.3
exit 0
`)
    Fs.chmodSync(script, 0o755)
    const config = JSON.stringify({
      mcpServers: { forker: { command: script, args: [dir], stopTimeout: "1s", backoff: { initial: "1s", max: "1s" } } }
    })
    const daemon = await startDaemon({ config, configName: "servers.json", args: ["--quiet"] })
    const daemons = () => (Fs.existsSync(Path.join(dir, "daemons")) ? Fs.readFileSync(Path.join(dir, "daemons"), "utf8").trim().split("\n").map(Number) : [])
    // the server lives 0.3 s a run: catch one alive to read its run marker
    const runPrefix = await eventually(async () => {
      const { pid } = await daemon.running("forker")
      try {
        return runPrefixOf(pid!)
      } catch {
        return undefined // it exited between the status and the read
      }
    }, 15_000, "the forker's run marker")

    // while it loops (fork a daemon, exit, be restarted), never more than one of its daemons is alive
    let mostAlive = 0
    const watchUntil = Date.now() + 30_000
    while (daemons().length < 4 && Date.now() < watchUntil) {
      mostAlive = Math.max(mostAlive, daemons().filter(isAlive).length)
      await sleep(20)
    }
    expect(daemons().length).toBeGreaterThanOrEqual(4)
    expect(mostAlive).toBe(1)

    // restart: every daemon forked before it is gone
    const beforeRestart = daemons()
    await eventually(async () => ((await daemon.server("forker")).state === "running" ? true : undefined), 10_000, "forker running")
    expect((await daemon.ctl("restart", "forker")).code).toBe(0)
    expect(beforeRestart.filter(isAlive)).toEqual([])

    // stop: nothing of the server is left anywhere
    await eventually(async () => ((await daemon.server("forker")).state !== "stopping" ? true : undefined), 10_000, "settled")
    const stopped = await daemon.ctl("stop", "forker")
    expect(stopped.stderr).toBe("")
    await eventually(() => (markedProcesses(runPrefix).length === 0 ? true : undefined), 10_000, "nothing marked left")
    expect(daemons().filter(isAlive)).toEqual([])

    // and the daemon's shutdown, with the server running again
    expect((await daemon.ctl("start", "forker")).code).toBe(0)
    await eventually(() => (daemons().filter(isAlive).length > 0 ? true : undefined), 10_000, "a daemon forked")
    expect(await daemon.stop()).toEqual({ code: 0, signal: null })
    expect(daemons().filter(isAlive)).toEqual([])
    expect(markedProcesses(runPrefix)).toEqual([])
    record({
      area: "daemon",
      tried: "a server that double-forks a SIGTERM-ignoring daemon into its own session (setsid, stdio closed) and exits, restarted in a loop; then mcpctl restart, mcpctl stop, daemon shutdown",
      cases: daemons().length,
      result: `${daemons().length} daemons forked; each was SIGKILLed before the next run started (never two alive), and none survived restart, stop or shutdown; no process with the run's marker was left`
    })
  })
})

describe("configuration and logs under damage", () => {
  it("a reload with an invalid file keeps the old config running and says what is wrong (mcpctl reload and SIGHUP)", async () => {
    const seedCases: ReadonlyArray<[string, string | null, RegExp]> = [
      ["unterminated quote", "[a] sleep 1001\n[b] node \"x\n", /line 2: unterminated quote in command: node "x/],
      ["invalid name", "[a] sleep 1001\n[x y] sleep 2\n", /line 2: invalid server name "\[x y\]"/],
      ["empty name", "[] sleep 2\n", /line 1: invalid server name "\[\]"/],
      ["name too long", `[${"n".repeat(65)}] sleep 2\n`, /line 1: invalid server name/],
      ["duplicate name", "[a] sleep 1001\n[a] sleep 2\n", /line 2: server name "a" is already used on line 1/],
      ["name without a command", "[a] sleep 1001\n[c]\n", /line 2: "\[c\]" names a server but gives no command/],
      ["NUL byte in a command", "[a] sleep 1001\n[c] sleep\u00002\n", /line 2: .*NUL/],
      ["file deleted", null, /cannot read the config: no such file/],
      ["a directory in its place", "DIR", /cannot read the config: not a regular file/],
      ["5 MiB file", "#".repeat(5 * 1024 * 1024), /bytes is more than the 4194304 allowed/]
    ]
    const jsonCases: ReadonlyArray<[string, string | null, RegExp]> = [
      ["not JSON", "{\"mcpServers\": {", /JSON|Unexpected|Expected/],
      ["binary garbage", "\u0000\u00ff\u00fe garbage", /JSON|Unexpected|Expected/],
      ["empty file", "", /JSON|Unexpected|Expected|end/],
      ["an array", "[]", /mcpServers|Expected/],
      ["mcpServers is a number", "{\"mcpServers\": 5}", /mcpServers/],
      ["no command", "{\"mcpServers\": {\"a\": {}}}", /mcpServers\.a/],
      ["command is a number", "{\"mcpServers\": {\"a\": {\"command\": 42}}}", /mcpServers\.a\.command/],
      ["args not an array", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"args\": \"1\"}}}", /mcpServers\.a\.args/],
      ["env value a number", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"env\": {\"X\": 1}}}}", /mcpServers\.a\.env/],
      ["unknown restart policy", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"restart\": \"sometimes\"}}}", /mcpServers\.a\.restart/],
      ["unsupported stop signal", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"stopSignal\": \"SIGSTOP\"}}}", /mcpServers\.a\.stopSignal/],
      ["negative timeout", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"stopTimeout\": -1}}}", /mcpServers\.a\.stopTimeout/],
      ["duration in parsecs", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"stopTimeout\": \"10 parsecs\"}}}", /mcpServers\.a\.stopTimeout/],
      ["backoff initial above max", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"backoff\": {\"initial\": \"1m\", \"max\": \"1s\"}}}}", /initial \(1m\) is larger than max \(1s\)/],
      ["unset variable", "{\"mcpServers\": {\"a\": {\"command\": \"sleep\", \"args\": [\"${MCPM_FAULT_UNSET}\"]}}}", /MCPM_FAULT_UNSET is not set/],
      ["invalid server name", "{\"mcpServers\": {\"a b\": {\"command\": \"sleep\"}}}", /mcpServers\.a b: invalid server name/],
      ["NUL byte in a command", "{\"mcpServers\": {\"a\": {\"command\": \"sle\\u0000ep\"}}}", /mcpServers\.a\.command.*NUL/]
    ]
    const seedValid = "[a] sleep 1001\n[b] sleep 1002\n"
    const jsonValid = JSON.stringify({ mcpServers: { a: { command: "sleep", args: ["1001"] }, b: { command: "sleep", args: ["1002"] } } })
    const run = async (configName: string, valid: string, cases: ReadonlyArray<[string, string | null, RegExp]>) => {
      const daemon = await startDaemon({ config: valid, configName, args: ["--quiet"] })
      try {
        const before = await Promise.all(["a", "b"].map((n) => daemon.running(n)))
        const messages: Array<string> = []
        for (const [name, text, problem] of cases) {
          Fs.rmSync(daemon.configFile, { recursive: true, force: true })
          if (text === "DIR") Fs.mkdirSync(daemon.configFile)
          else if (text !== null) Fs.writeFileSync(daemon.configFile, text)
          const reload = await daemon.ctl("reload")
          expect(reload.code, name).toBe(1)
          expect(reload.stderr, name).toMatch(new RegExp(`^mcpctl: ${daemon.configFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: [^\\n]+\\n$`))
          expect(reload.stderr, name).toMatch(problem)
          const logged = daemon.log().match(/config not applied/g)?.length ?? 0
          daemon.process.kill("SIGHUP")
          await eventually(() => ((daemon.log().match(/config not applied/g)?.length ?? 0) > logged ? true : undefined), 10_000, `SIGHUP reported (${name})`)
          const said = daemon.log().split("\n").filter((l) => l.includes("config not applied")).at(-1)!
          expect(said.replace(/\\(["\\])/g, "$1"), name).toMatch(problem) // logfmt escapes quotes
          const now = await daemon.status()
          expect(now.map((s) => [s.name, s.state, s.pid, s.restarts]), name).toEqual(before.map((s) => [s.name, "running", s.pid, 0]))
          messages.push(reload.stderr.trim().replace(`mcpctl: ${daemon.configFile}: `, ""))
        }
        Fs.rmSync(daemon.configFile, { recursive: true, force: true })
        Fs.writeFileSync(daemon.configFile, valid.replace("1002", "1003"))
        expect((await daemon.ctl("reload")).stdout).toBe("reloaded: 0 added, 0 removed, 1 changed, 1 unchanged\n  ~ b\n")
        return messages
      } finally {
        await daemon.stop()
      }
    }
    const [seedMessages, jsonMessages] = await Promise.all([
      run("mcp_server.conf", seedValid, seedCases),
      run("servers.json", jsonValid, jsonCases)
    ])
    const examples = [seedMessages[0], seedMessages[6], jsonMessages[9], jsonMessages[14]]
    record({
      area: "daemon",
      tried: `config reload with an invalid file: ${seedCases.length} broken mcp_server.conf files and ${jsonCases.length} broken JSON files (syntax, names, types, durations, signals, unset variables, NUL bytes, missing, a directory, 5 MiB), each by mcpctl reload and by SIGHUP`,
      cases: (seedCases.length + jsonCases.length) * 2,
      result: `every one refused; the running servers kept their pids and restart counts; mcpctl exited 1 with one line naming the file and the problem (e.g. ${examples.map((m) => `\`${m}\``).join(", ")}), SIGHUP logged the same; a valid file afterwards applied`
    })
  })

  it("the daemon's own stderr (its log) closed under it: it keeps supervising", async () => {
    const daemon = await startDaemon({ config: `[victim] sleep 1000\n${ticker("0.1")}\n` })
    try {
      const victim = await daemon.running("victim")
      // like a journal or a terminal pipe that goes away: the read end closes
      daemon.process.stderr!.destroy()
      await sleep(1000) // the ticker's lines (echoed to stderr) now meet a closed pipe
      process.kill(victim.pid!, "SIGKILL")
      const back = await daemon.running("victim", victim.pid)
      expect(back.restarts).toBe(1)
      expect((await daemon.ctl("restart", "ticker")).code).toBe(0)
      expect(daemon.process.exitCode).toBeNull()
      expect(await daemon.stop()).toEqual({ code: 0, signal: null })
      record({
        area: "daemon",
        tried: "the daemon's stderr (where its log and the servers' echoed output go) closed under it, as when a journal or terminal pipe goes away",
        cases: 1,
        result: "the daemon kept supervising (a SIGKILLed server came back, restart worked) and still stopped cleanly (exit 0)"
      })
    } finally {
      await daemon.stop()
    }
  })
})
