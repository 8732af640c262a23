// The real daemon on a real socket with real child processes, driven by the real mcpctl.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { maxUnanswered } from "../layers/manager/ControlSocketProtocolLive.js"
import { ctlAt, daemonJs, eventually, floodWithoutReading, isAlive, run, sendRaw, sleep, startDaemon, stopAllDaemons, tempDir } from "./support/daemon.js"

afterEach(stopAllDaemons)

/**
 * A server with a family: a child in its group that ignores SIGTERM, and one that left the group
 * with setsid; their pids land in DIR/stubborn.pid and DIR/escaped.pid. Run it with DIR as argument.
 */
const writeFamilyScript = (dir: string) => {
  const script = Path.join(dir, "family.sh")
  Fs.writeFileSync(script, `#!/bin/sh
(trap '' TERM; exec sleep 1001) &
echo $! > "$1/stubborn.pid"
setsid sleep 1002 &
echo $! > "$1/escaped.pid"
exec sleep 1000
`)
  Fs.chmodSync(script, 0o755)
  return script
}

const readPid = (file: string) => eventually(() => (Fs.existsSync(file) ? Number(Fs.readFileSync(file, "utf8").trim()) || undefined : undefined), 10_000, file)

describe("mcp-manager daemon", () => {
  it("starts every configured server and mcpctl status shows them", async () => {
    const daemon = await startDaemon({ config: "sleep 1000\n[named] sleep 2000\n" })
    const [first, second] = await Promise.all([daemon.running("sleep"), daemon.running("named")])
    expect(first!.command).toBe("sleep 1000")
    expect(isAlive(first!.pid!) && isAlive(second!.pid!)).toBe(true)
    // `exec` makes the supervised pid the program itself, not a wrapping shell
    expect(Fs.readFileSync(`/proc/${first!.pid}/cmdline`, "utf8").split("\0")[0]).toBe("sleep")

    const table = await daemon.ctl("status")
    expect(table.code).toBe(0)
    const [header, ...rows] = table.stdout.trim().split("\n")
    expect(header!.trim().split(/\s{2,}/)).toEqual(["NAME", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT", "COMMAND"])
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(["sleep", "named"])
    expect(rows[0]).toContain(String(first!.pid))

    const json = await daemon.status()
    expect(Object.keys(json[0]!)).toEqual(
      expect.arrayContaining(["name", "command", "state", "pid", "restarts", "startedAt", "lastExit", "nextRestartAt"])
    )
    expect(json[0]).toMatchObject({ name: "sleep", state: "running", restarts: 0, lastExit: null, nextRestartAt: null })
    expect(new Date(json[0]!.startedAt!).getTime()).toBeGreaterThan(Date.now() - 60_000)
  })

  it("restarts a server killed with SIGKILL, with a new pid", async () => {
    const daemon = await startDaemon({ config: "[victim] sleep 1000\n" })
    const before = await daemon.running("victim")
    process.kill(before.pid!, "SIGKILL")
    const after = await daemon.running("victim", before.pid)
    expect(after.pid).not.toBe(before.pid)
    expect(after.restarts).toBe(1)
    expect(after.lastExit).toMatchObject({ code: null, signal: "SIGKILL" })
    const exitLine = daemon.log().split("\n").find((l) => l.includes("message=exited") && l.includes("server=victim"))
    for (const field of [/ pid=\d+/, / code=null/, / signal=SIGKILL/, / uptime=/, / restart_in=\d+ms/]) expect(exitLine).toMatch(field)
  })

  it("backs off a crash loop exponentially and shows the next retry", async () => {
    const daemon = await startDaemon({ config: "[crasher] sh -c 'exit 3'\n[steady] sleep 1000\n" })
    const steady = await daemon.running("steady")
    await sleep(3000)
    const crasher = await daemon.server("crasher")
    // 100 ms doubling: starts at about 0, 0.1, 0.3, 0.7, 1.5 and 3.1 s (jitter only shortens delays)
    expect(crasher.restarts).toBeGreaterThanOrEqual(3)
    expect(crasher.restarts).toBeLessThanOrEqual(7)
    expect(crasher.lastExit).toMatchObject({ code: 3, signal: null })
    const backoff = await eventually(async () => {
      const s = await daemon.server("crasher")
      return s.state === "backoff" ? s : undefined
    })
    expect(new Date(backoff.nextRestartAt!).getTime()).toBeGreaterThan(Date.now() - 1000)
    expect((await daemon.ctl("status", "crasher")).stdout).toMatch(/backoff \(retry in [\d.]+s\)\s+-\s+-\s+\d+\s+code 3, /)
    // the other server was not disturbed
    expect(await daemon.server("steady")).toMatchObject({ pid: steady.pid, restarts: 0 })
  })

  it("leaves no process of a server behind: not in its group, not after setsid", async () => {
    const dir = tempDir()
    const script = writeFamilyScript(dir)
    const daemon = await startDaemon({
      config: JSON.stringify({ mcpServers: { spawner: { command: script, args: [dir], stopTimeout: 1 } } }),
      configName: "servers.json"
    })
    const first = await daemon.running("spawner")
    const stubborn = await readPid(Path.join(dir, "stubborn.pid"))
    const escaped = await readPid(Path.join(dir, "escaped.pid"))
    expect(isAlive(stubborn) && isAlive(escaped)).toBe(true)
    Fs.rmSync(Path.join(dir, "stubborn.pid"))
    Fs.rmSync(Path.join(dir, "escaped.pid"))

    // restart: the old generation is gone before the new one runs
    expect((await daemon.ctl("restart", "spawner")).code).toBe(0)
    expect(isAlive(first.pid!) || isAlive(stubborn) || isAlive(escaped)).toBe(false)
    await daemon.running("spawner", first.pid)

    // the main process exits on its own: what it left behind is killed before the restart
    const second = await daemon.running("spawner")
    const stubborn2 = await readPid(Path.join(dir, "stubborn.pid"))
    const escaped2 = await readPid(Path.join(dir, "escaped.pid"))
    process.kill(second.pid!, "SIGKILL")
    await daemon.running("spawner", second.pid)
    await eventually(() => (!isAlive(stubborn2) && !isAlive(escaped2) ? true : undefined), 10_000, "leftovers killed")

    // the daemon's own stop
    const third = await daemon.running("spawner")
    const stubborn3 = await readPid(Path.join(dir, "stubborn.pid"))
    expect(await daemon.stop()).toEqual({ code: 0, signal: null })
    expect([third.pid!, stubborn3].filter(isAlive)).toEqual([])
    expect(Fs.existsSync(daemon.socket)).toBe(false)
  })

  it("stops a server and its setsid leftover, both ignoring SIGTERM, with SIGKILL after one stop timeout", async () => {
    const dir = tempDir()
    const leftoverFile = Path.join(dir, "leftover.pid")
    const leftoverScript = `echo $$ > ${leftoverFile}.tmp && mv ${leftoverFile}.tmp ${leftoverFile}; exec sleep 1000`
    const daemon = await startDaemon({
      config: JSON.stringify({
        mcpServers: {
          stubborn: { command: "sh", args: ["-c", `trap '' TERM; setsid sh -c '${leftoverScript}' & while :; do sleep 1; done`], stopTimeout: "1s" }
        }
      }),
      configName: "servers.json"
    })
    const s = await daemon.running("stubborn")
    const leftover = await readPid(leftoverFile)
    const started = Date.now()
    const result = await daemon.ctl("stop", "stubborn")
    const tookMs = Date.now() - started
    expect(result).toMatchObject({ code: 0, stdout: "stubborn: stopped\n" })
    expect([s.pid!, leftover].filter(isAlive)).toEqual([])
    // one budget: the leftover got the stop signal with the group, and SIGKILL with it
    const log = daemon.log()
    const leftBehind = log.search(new RegExp(`message="stopping processes left behind by the server".* pids=${leftover}\\b`))
    const killed = log.search(/no exit 1s after SIGTERM; sending SIGKILL to the process group and what it left behind/)
    expect(leftBehind).toBeGreaterThanOrEqual(0)
    expect(killed).toBeGreaterThan(leftBehind)
    expect(tookMs).toBeLessThan(1000 + 5000) // stopTimeout + the 5 s after SIGKILL, at most
    expect(await daemon.server("stubborn")).toMatchObject({ state: "stopped", pid: null })
  })

  it("SIGHUP applies the config difference and leaves unchanged servers alone", async () => {
    const daemon = await startDaemon({ config: "[keep] sleep 1001\n[change] sleep 1002\n[remove] sleep 1003\n" })
    const [keep, change, remove] = await Promise.all(["keep", "change", "remove"].map((n) => daemon.running(n)))
    daemon.writeConfig("[keep] sleep 1001\n[change] sleep 2002\n[add] sleep 1004\n")
    daemon.process.kill("SIGHUP")
    const changed = await daemon.running("change", change!.pid)
    expect(changed.command).toBe("sleep 2002")
    await daemon.running("add")
    const names = (await daemon.status()).map((s) => s.name)
    expect(names).toEqual(["keep", "change", "add"])
    expect(await daemon.server("keep")).toMatchObject({ pid: keep!.pid, restarts: 0 })
    expect(isAlive(remove!.pid!)).toBe(false)
    expect(isAlive(change!.pid!)).toBe(false)
  })

  it("keeps the running config when a reload finds the file invalid", async () => {
    const daemon = await startDaemon({ config: "[a] sleep 1000\n" })
    const a = await daemon.running("a")
    daemon.writeConfig("[a] sleep 1000\n[b] node \"unterminated\n")
    const result = await daemon.ctl("reload")
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`mcpctl: ${daemon.configFile}: line 2: unterminated quote in command: node "unterminated\n`)
    daemon.process.kill("SIGHUP")
    await eventually(() => (daemon.log().match(/config not applied/g)?.length === 2 ? true : undefined))
    expect(await daemon.status()).toMatchObject([{ name: "a", pid: a.pid, state: "running" }])

    daemon.writeConfig("[a] sleep 1000\n[b] sleep 1001\n")
    const ok = await daemon.ctl("reload")
    expect(ok).toMatchObject({ code: 0, stdout: "reloaded: 1 added, 0 removed, 0 changed, 1 unchanged\n  + b\n" })
  })

  it("refuses to start on an invalid config, naming the file and line", async () => {
    const dir = tempDir()
    const config = Path.join(dir, "bad.conf")
    Fs.writeFileSync(config, "sleep 1\n[x y] sleep 2\n")
    const result = await run(process.execPath, [daemonJs, "--config", config, "--socket", Path.join(dir, "s.sock")])
    expect(result.code).toBe(78) // EX_CONFIG: the systemd unit does not restart on it
    expect(result.stderr).toContain(`mcp-manager: invalid config ${config}:\n  line 2: invalid server name "[x y]"`)
    const missing = await run(process.execPath, [daemonJs, "--config", Path.join(dir, "nope.conf"), "--socket", Path.join(dir, "s.sock")])
    expect(missing.code).toBe(78)
    expect(missing.stderr).toContain("cannot read the config: no such file")
  })

  it("replaces a stale socket and refuses to start beside a live daemon", async () => {
    const first = await startDaemon({ config: "sleep 1000\n" })
    const orphan = (await first.running("sleep")).pid!
    const second = await run(process.execPath, [daemonJs, "--config", first.configFile, "--socket", first.socket])
    expect(second.code).toBe(1)
    expect(second.stderr).toContain(
      `\nmcp-manager: cannot use control socket ${first.socket}: another mcp-manager is already answering there (stop it first, or pass another --socket)\n`
    )
    expect((await first.status()).length).toBe(1)

    // kill -9 leaves the socket file behind; the next daemon takes it over
    await first.stop("SIGKILL")
    expect(Fs.existsSync(first.socket)).toBe(true)
    const third = await startDaemon({ config: "sleep 1000\n", socket: first.socket })
    expect(third.log()).toContain(`removing stale socket ${first.socket}`)
    expect((await ctlAt(first.socket)("status", "--json")).code).toBe(0)
    process.kill(orphan, "SIGKILL") // what the SIGKILLed daemon could not stop
  })

  it("after its own kill -9, the next start stops what it left before starting servers, and never a stranger", async () => {
    const dir = tempDir()
    const script = writeFamilyScript(dir)
    const config = JSON.stringify({ mcpServers: { family: { command: script, args: [dir], stopTimeout: "1s" } } })
    const first = await startDaemon({ config, configName: "servers.json" })
    const leader = (await first.running("family")).pid!
    const stubborn = await readPid(Path.join(dir, "stubborn.pid"))
    const escaped = await readPid(Path.join(dir, "escaped.pid"))
    Fs.rmSync(Path.join(dir, "stubborn.pid"))

    // the record names the group, in the runtime directory
    const [recordName, ...others] = Fs.readdirSync(first.runtimeDir)
    expect(others).toEqual([])
    const recordFile = Path.join(first.runtimeDir, recordName!)
    const record = JSON.parse(Fs.readFileSync(recordFile, "utf8")) as {
      runId: string
      daemonPid: number
      groups: Array<{ server: string; pgid: number; marker: string; stopSignal: string; stopTimeoutMillis: number }>
    }
    expect(record.daemonPid).toBe(first.process.pid)
    expect(record.groups).toEqual([{ server: "family", pgid: leader, marker: `${record.runId}/family/1`, stopSignal: "SIGTERM", stopTimeoutMillis: 1000 }])

    await first.stop("SIGKILL")
    expect([leader, stubborn, escaped].filter(isAlive)).toEqual([leader, stubborn, escaped])

    // An unrelated process whose pid (and so process group) the record names, as after pid reuse:
    // it does not carry the killed daemon's marker, so it must survive.
    const stranger = CP.spawn("sleep", ["1003"], { detached: true, stdio: "ignore" })
    try {
      const recordedStranger = { server: "ghost", pgid: stranger.pid!, marker: `${record.runId}/ghost/7`, stopSignal: "SIGTERM", stopTimeoutMillis: 1000 }
      Fs.writeFileSync(recordFile, JSON.stringify({ ...record, groups: [...record.groups, recordedStranger] }))

      const second = await startDaemon({ config, configName: "servers.json", socket: first.socket, runtimeDir: first.runtimeDir })
      // ready means: the leftovers are gone, and they went before the new server started
      expect([leader, stubborn, escaped].filter(isAlive)).toEqual([])
      const log = second.log()
      const stopping = log.indexOf(`stopping 3 process(es) left by a previous mcp-manager (pid ${record.daemonPid})`)
      expect(stopping).toBeGreaterThan(-1)
      expect(log).toMatch(/no exit 1s after the stop signal; sending SIGKILL/) // the stubborn one
      expect(log.indexOf("message=started")).toBeGreaterThan(stopping)
      expect(isAlive(stranger.pid!)).toBe(true)
      const restarted = await second.running("family")
      expect(restarted.pid).not.toBe(leader)

      // a clean stop leaves no record behind
      expect(await second.stop()).toEqual({ code: 0, signal: null })
      expect(Fs.readdirSync(first.runtimeDir)).toEqual([])
      expect(isAlive(stranger.pid!)).toBe(true)
    } finally {
      stranger.kill("SIGKILL")
    }
  })

  it("survives junk on the socket and keeps answering well-behaved clients", async () => {
    const daemon = await startDaemon({ config: "sleep 1000\n" })
    const valid = JSON.stringify({ _tag: "Request", id: "1", tag: "Status", payload: {}, headers: [] }) + "\n"
    const junk: ReadonlyArray<string | Buffer> = [
      Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0x0a]),
      "not json at all\n",
      "null\n",
      "{\"_tag\":\"Request\"\n",
      JSON.stringify({ _tag: "Request", id: "2", tag: "NoSuchRpc", payload: {}, headers: [] }) + "\n",
      JSON.stringify({ _tag: "Request", id: "3", tag: "Restart", payload: { target: 42 }, headers: [] }) + "\n",
      Buffer.alloc(2 * 1024 * 1024, 0x61) // longer than the 1 MiB line limit, no newline
    ]
    await Promise.all(junk.map((j) => sendRaw(daemon.socket, j)))
    // a truncated connection, and one that sends a valid request then vanishes
    await Promise.all([sendRaw(daemon.socket, valid.slice(0, 20), 10), sendRaw(daemon.socket, valid, 0)])
    const answer = await sendRaw(daemon.socket, valid)
    expect(answer.answer).toContain("\"_tag\":\"Exit\"")
    expect((await daemon.status()).map((s) => s.state)).toEqual(["running"])
    expect(daemon.process.exitCode).toBeNull()
  })

  it("answers 50 concurrent mcpctl status calls", async () => {
    const daemon = await startDaemon({ config: "sleep 1000\n[b] sleep 1001\n" })
    await daemon.running("b")
    const results = await Promise.all(Array.from({ length: 50 }, () => daemon.ctl("status", "--json")))
    expect(results.filter((r) => r.code !== 0).map((r) => r.stderr)).toEqual([])
    expect(new Set(results.map((r) => JSON.parse(r.stdout).length))).toEqual(new Set([2]))
  })

  it("stops reading from a client that never reads its answers: 64 unanswered, plus what one read brought", async () => {
    const daemon = await startDaemon({ config: "" })
    const total = 20_000
    const flood = await floodWithoutReading(daemon.socket, total)
    try {
      // its writes backed up: the daemon stopped reading from it
      expect(flood.sent).toBeLessThan(total)
      // paused at 64 unanswered, holding no more than the read that reached them and Node's read-ahead
      expect(flood.held).toBeGreaterThanOrEqual(maxUnanswered)
      expect(flood.held).toBeLessThanOrEqual(flood.bound)
      // another client is answered meanwhile
      expect((await daemon.ctl("status", "--json")).stdout).toBe("[]\n")
    } finally {
      flood.destroy()
    }
  })

  it("restart by command as written, restart-all, start/stop with state errors", async () => {
    const daemon = await startDaemon({ config: "sleep 1001\n[b] sleep 1002\n[c] sleep 1002\n" })
    const [a, b, c] = await Promise.all(["sleep", "b", "c"].map((n) => daemon.running(n)))
    expect((await daemon.ctl("restart", "sleep 1001")).stdout).toMatch(/^sleep: running \(pid \d+\)\n$/)
    await daemon.running("sleep", a!.pid)
    expect(await daemon.ctl("restart", "sleep 1002")).toMatchObject({
      code: 1,
      stderr: "mcpctl: \"sleep 1002\" is the command of several servers (b, c): use a name\n"
    })
    expect(await daemon.ctl("restart", "nope")).toMatchObject({
      code: 1,
      stderr: "mcpctl: no server named \"nope\" and none with that command (known: sleep, b, c)\n"
    })
    const all = await daemon.ctl("restart-all", "--json")
    expect(all.code).toBe(0)
    const restarted = JSON.parse(all.stdout) as ReadonlyArray<{ name: string; pid: number; state: string }>
    expect(restarted.map((s) => s.state)).toEqual(["running", "running", "running"])
    expect(restarted.find((s) => s.name === "b")!.pid).not.toBe(b!.pid)
    expect(isAlive(b!.pid!) || isAlive(c!.pid!)).toBe(false)

    expect(await daemon.ctl("stop", "c")).toMatchObject({ code: 0, stdout: "c: stopped\n" })
    expect(await daemon.ctl("stop", "c")).toMatchObject({ code: 1, stderr: "mcpctl: cannot stop c: it is stopped\n" })
    expect(await daemon.ctl("start", "b")).toMatchObject({ code: 1, stderr: "mcpctl: cannot start b: it is running\n" })
    expect((await daemon.ctl("start", "c")).stdout).toMatch(/^c: running \(pid \d+\)\n$/)
  })

  it("keeps each server's output: logs -n, logs -f, and rotated files with --log-dir", async () => {
    const logDir = Path.join(tempDir(), "logs")
    const daemon = await startDaemon({
      config: "[talker] sh -c 'for i in 1 2 3 4 5; do echo out $i; done; for i in 1 2 3 4 5; do echo err $i >&2; done; exec sleep 1000'\n" +
        "[ticker] sh -c 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.2; done'\n" +
        "[chatty] sh -c 'i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo \"line $i of a server that talks a lot\"; done; exec sleep 1000'\n",
      args: ["--log-dir", logDir, "--log-max-bytes", "4096", "--log-files", "2"]
    })
    await daemon.running("talker")
    await eventually(async () => ((await daemon.ctl("logs", "talker")).stderr.includes("err 5") ? true : undefined))
    const last = await daemon.ctl("logs", "talker", "-n", "2")
    expect(last).toMatchObject({ stdout: "", stderr: "err 4\nerr 5\n" })
    const all = await daemon.ctl("logs", "talker")
    expect(all.stdout).toBe("out 1\nout 2\nout 3\nout 4\nout 5\n")
    expect(all.stderr).toBe("err 1\nerr 2\nerr 3\nerr 4\nerr 5\n")

    // -f: the stream stays open and brings new lines
    const follower = ctlAt(daemon.socket)("logs", "ticker", "-n", "0", "-f", "--json")
    await sleep(1500)
    const killed = await run("pkill", ["-f", `${daemon.socket} logs ticker`])
    expect(killed.code).toBe(0)
    const followed = await follower
    const ticks = followed.stdout.trim().split("\n").map((l) => JSON.parse(l) as { server: string; text: string })
    expect(ticks.length).toBeGreaterThanOrEqual(3)
    expect(ticks.every((t) => t.server === "ticker" && /^tick \d+$/.test(t.text))).toBe(true)

    // files: talker.log holds both streams; chatty.log rotates at 4 KiB, keeping 2 old files
    expect(Fs.readFileSync(Path.join(logDir, "talker.log"), "utf8")).toMatch(/ stdout out 1\n[\s\S]* stderr err 5\n/)
    await eventually(() => (Fs.readFileSync(Path.join(logDir, "chatty.log"), "utf8").includes("line 400 ") ? true : undefined))
    expect(Fs.readdirSync(logDir).filter((f) => f.startsWith("chatty")).sort()).toEqual(["chatty.log", "chatty.log.1", "chatty.log.2"])
    for (const file of ["chatty.log.1", "chatty.log.2"]) {
      const size = Fs.statSync(Path.join(logDir, file)).size
      expect(size).toBeGreaterThanOrEqual(4096)
      expect(size).toBeLessThan(4096 + 200)
    }
    expect(daemon.log()).toMatch(/message="err 1" server=talker stream=stderr/)
  })

  it("mcpctl says clearly when the daemon is not running; --help works on every command", async () => {
    const socket = Path.join(tempDir(), "none.sock")
    const result = await ctlAt(socket)("status")
    expect(result).toMatchObject({ code: 1, stdout: "", stderr: `mcpctl: cannot connect to ${socket}: is mcp-manager running?\n` })
    for (const command of [[], ["status"], ["restart"], ["restart-all"], ["start"], ["stop"], ["logs"], ["reload"], ["version"]]) {
      const help = await run(process.execPath, [daemonJs.replace("daemon.js", "mcpctl.js"), ...command, "--help"])
      expect(help.code).toBe(0)
      expect(help.stdout).toContain("USAGE")
    }
    const daemonHelp = await run(process.execPath, [daemonJs, "--help"])
    expect(daemonHelp.stdout).toContain("--socket-group")
  })

  it("help and usage errors carry no ANSI styles in a pipe or with NO_COLOR, and keep them in a terminal", async () => {
    const style = "\x1b["
    const mcpctlJs = daemonJs.replace("daemon.js", "mcpctl.js")
    for (const program of [mcpctlJs, daemonJs, daemonJs.replace("daemon.js", "server.js")]) {
      const help = await run(process.execPath, [program, "--help"])
      expect(help.stdout).toContain("USAGE")
      expect(help.stdout).not.toContain(style)
    }
    const usage = await run(process.execPath, [mcpctlJs, "restart"])
    expect(usage.code).toBe(2)
    expect(usage.stderr).toContain("Missing argument <name>")
    expect(usage.stderr).not.toContain(style)
    // script(1) (util-linux, in every Debian) runs the command on a pseudo-terminal
    const inTerminal = (env: NodeJS.ProcessEnv) =>
      run("script", ["-qec", `'${process.execPath}' '${mcpctlJs}' --help`, "/dev/null"], { env: { ...process.env, ...env } })
    const terminal = await inTerminal({ NO_COLOR: "", TERM: "xterm" })
    expect(terminal.stdout).toContain("USAGE")
    expect(terminal.stdout).toContain(style)
    const noColor = await inTerminal({ NO_COLOR: "1", TERM: "xterm" })
    expect(noColor.stdout).toContain("USAGE")
    expect(noColor.stdout).not.toContain(style)
  })

  it("uses the fallback directory /tmp/mcp-manager-<uid> only when it is the user's own, mode 0700, not a link", async () => {
    // as nobody, without XDG_RUNTIME_DIR or --socket: the socket goes to the fallback directory
    const uid = 65534
    const dir = `/tmp/mcp-manager-${uid}`
    const socket = Path.join(dir, "mcp_manager.sock")
    const work = tempDir()
    Fs.chmodSync(work, 0o755)
    const config = Path.join(work, "mcp_server.conf")
    Fs.writeFileSync(config, "", { mode: 0o644 })
    /** Start the daemon as `uid`: its exit status and stderr, or "ready" (then stopped) within 15 s. */
    const startAs = () =>
      new Promise<{ readonly outcome: "ready" | number | null; readonly stderr: string }>((resolve) => {
        const child = CP.spawn("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "--", process.execPath, daemonJs, "--config", config], {
          cwd: work,
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/" },
          stdio: ["ignore", "ignore", "pipe"]
        })
        let stderr = ""
        const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk
          if (stderr.includes("message=ready")) child.kill("SIGTERM")
        })
        child.once("exit", (code) => {
          clearTimeout(timer)
          resolve({ outcome: stderr.includes("message=ready") ? "ready" : code, stderr })
        })
      })
    const refused = (problem: string) => `\nmcp-manager: cannot use control socket ${socket}: ${dir} ${problem}`
    let target: string | undefined
    try {
      Fs.rmSync(dir, { recursive: true, force: true })
      expect((await startAs()).outcome).toBe("ready") // created, 0700
      const created = Fs.lstatSync(dir)
      expect([created.uid, created.mode & 0o7777]).toEqual([uid, 0o700])
      expect((await startAs()).outcome).toBe("ready") // its own, again

      Fs.chmodSync(dir, 0o777)
      expect(await startAs()).toEqual({
        outcome: 1,
        stderr: expect.stringContaining(refused(`has mode 0777, not 0700 (owner uid ${uid}): others could replace the socket in it; check what is in it, then chmod 700 ${dir}`))
      })

      Fs.chmodSync(dir, 0o700)
      Fs.chownSync(dir, 0, 0)
      expect(await startAs()).toEqual({
        outcome: 1,
        stderr: expect.stringContaining(refused(`belongs to uid 0 (mode 0700), not to this user (uid ${uid}): someone else created it first; remove it`))
      })

      Fs.rmSync(dir, { recursive: true })
      target = Fs.mkdtempSync(`${dir}-target-`)
      Fs.chownSync(target, uid, uid)
      Fs.symlinkSync(target, dir)
      expect(await startAs()).toEqual({ outcome: 1, stderr: expect.stringContaining(refused("is a symbolic link, not a private directory")) })
    } finally {
      for (const path of [dir, target]) if (path !== undefined) Fs.rmSync(path, { recursive: true, force: true })
    }
  })

  it("creates the socket 0600, or 0660 owned by the --socket-group", async () => {
    const daemon = await startDaemon({ config: "sleep 1000\n" })
    expect(Fs.statSync(daemon.socket).mode & 0o777).toBe(0o600)
    const grouped = await startDaemon({ config: "sleep 1000\n", args: ["--socket-group", "daemon"] })
    const stat = Fs.statSync(grouped.socket)
    expect(stat.mode & 0o777).toBe(0o660)
    expect(stat.gid).toBe(1) // "daemon" is gid 1 on Debian
  })
})
