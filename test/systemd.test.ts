// mcp-manager under a real systemd: the README's install steps run verbatim in a container whose
// PID 1 is Debian's systemd (image: test/systemd/build-image.sh), then what the README promises
// about the unit. Needs a Docker engine (CI starts one in .ci/run); `npm run test:systemd` runs
// only this file, building the image first if needed.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { eventually, sleep, type StatusJson } from "./support/daemon.js"

const root = Path.resolve(import.meta.dirname, "..")
const image = "mcp-manager-systemd-test:bookworm"
const container = `mcp-manager-systemd-e2e-${process.pid}`
/** Where the built checkout is copied in the container; the README's steps run there. */
const checkout = "/root/mcp-server-manager"
const configFile = "/etc/mcp-manager/mcp_server.conf"
const socket = "/run/mcp_manager.sock"
const slow = 180_000

interface Result {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (file: string, args: ReadonlyArray<string>, input?: string) =>
  new Promise<Result>((resolve) => {
    const child = CP.execFile(file, [...args], { encoding: "utf8", timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      resolve({ code, stdout, stderr: error !== null && code === null ? `${stderr}${error.message}` : stderr })
    })
    child.stdin!.end(input ?? "")
  })

const docker = (...args: ReadonlyArray<string>) => run("docker", args)

/** Run a bash script in the container as root; resolves with its result, whatever the exit status. */
const inContainer = (script: string, input?: string) =>
  run("docker", ["exec", ...(input === undefined ? [] : ["-i"]), container, "bash", "-c", script], input)

/** Like inContainer, but any exit status other than 0 fails the test, with the script's stderr. */
const sh = async (script: string, input?: string) => {
  const result = await inContainer(script, input)
  if (result.code !== 0) throw new Error(`in the container: ${script}\nexit ${result.code}\n${result.stderr}${result.stdout}`)
  return result.stdout
}

const unitProperty = async (name: string) => (await sh(`systemctl show -p ${name} --value mcp-manager`)).trim()

const status = async (): Promise<ReadonlyArray<StatusJson>> => JSON.parse(await sh("mcpctl status --json"))

interface ContainerProcess {
  readonly pid: number
  readonly pgid: number
  readonly args: string
  /** `MCP_MANAGER_RUN` in its environment: `<runId>/<server>/<n>` for every server process. */
  readonly marker: string | null
  readonly hasNotifySocket: boolean
}

/** Every live process in the container, read from /proc by the container's node. */
const processes = async (): Promise<ReadonlyArray<ContainerProcess>> => {
  const script = `
const fs = require("fs"), out = []
for (const entry of fs.readdirSync("/proc")) {
  if (!/^\\d+$/.test(entry)) continue
  try {
    const stat = fs.readFileSync("/proc/" + entry + "/stat", "latin1")
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (fields[0] === "Z") continue
    const env = fs.readFileSync("/proc/" + entry + "/environ", "latin1").split("\\0")
    const marker = env.find((e) => e.startsWith("MCP_MANAGER_RUN="))
    out.push({
      pid: Number(entry),
      pgid: Number(fields[2]),
      args: fs.readFileSync("/proc/" + entry + "/cmdline", "latin1").split("\\0").filter(Boolean).join(" "),
      marker: marker === undefined ? null : marker.slice("MCP_MANAGER_RUN=".length),
      hasNotifySocket: env.some((e) => e.startsWith("NOTIFY_SOCKET="))
    })
  } catch {}
}
console.log(JSON.stringify(out))`
  return JSON.parse(await sh(`node -e '${script.replaceAll("'", "'\\''")}'`))
}

const serverProcesses = async () => (await processes()).filter((p) => p.marker !== null)
const runIdOf = (marker: string) => marker.split("/")[0]!

/** The config the test installs: servers that need nothing but a shell. */
const initialConfig = `# servers of test/systemd.test.ts
[sleeper] sleep 100001
# two grandchildren in its process group
[family] sh -c 'sleep 100002 & sleep 100003 & wait'
[talker] sh -c 'echo "talker says hello on stderr" >&2; exec sleep 100004'
# a grandchild that leaves the process group
[escapee] sh -c 'setsid sleep 100005 & exec sleep 100006'
# reports what the unit's hardening looks like from inside
[probe] sh -c 'touch /usr/mcp-probe 2>/dev/null && echo usr-writable || echo usr-read-only; grep NoNewPrivs /proc/self/status; echo private > /tmp/mcp-probe; exec sleep 100007'
[broken] /nonexistent/mcp-server
`
const initialSleeps = [100001, 100002, 100003, 100004, 100005, 100006, 100007]

/** For the reload: sleeper changes, broken goes, added comes; the rest stays as it was. */
const reloadedConfig = initialConfig
  .replace("[sleeper] sleep 100001", "[sleeper] sleep 100011")
  .replace("[broken] /nonexistent/mcp-server\n", "[added] sleep 100012\n")
const reloadedSleeps = [100011, 100002, 100003, 100004, 100005, 100006, 100007, 100012]
const reloadedServers = ["sleeper", "family", "talker", "escapee", "probe", "added"]

/** Each of the servers' sleeps runs exactly once (no duplicate, nothing left over). */
const expectSleepsOnce = async (sleeps: ReadonlyArray<number>) => {
  const running = (await processes()).map((p) => /^sleep (1000\d\d)$/.exec(p.args)?.[1]).filter((s) => s !== undefined).map(Number)
  expect(running.sort()).toEqual([...sleeps].sort())
}

/** The shell block of the README's "Running under systemd" section: the install steps. */
const readmeInstallSteps = () => {
  const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
  const section = /^## Running under systemd\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1]
  if (section === undefined) throw new Error("README.md has no \"## Running under systemd\" section")
  const block = /^```sh\n([\s\S]*?)^```$/m.exec(section)?.[1]
  if (block === undefined) throw new Error("README.md's \"Running under systemd\" section has no ```sh block")
  return block
}

const journal = async (after?: string) =>
  sh(`journalctl -u mcp-manager --no-pager -o cat ${after === undefined ? "" : `--after-cursor '${after}'`}`)

const journalCursor = async () => {
  const cursor = /^-- cursor: (.+)$/m.exec(await sh("journalctl -u mcp-manager -n 0 --show-cursor --no-pager"))?.[1]
  if (cursor === undefined) throw new Error("journalctl printed no cursor")
  return cursor
}

beforeAll(async () => {
  const info = await docker("info", "--format", "{{.ServerVersion}}")
  if (info.code !== 0) {
    throw new Error(
      "the systemd end-to-end test needs a Docker engine, and none answers " +
        `(docker info: ${(info.stderr.trim().split("\n")[0] ?? "").slice(0, 300)}). .ci/run starts one; ` +
        "on a workstation run scripts/ensure-docker.sh as root"
    )
  }
  if ((await docker("image", "inspect", "--format", "{{.Id}}", image)).code !== 0) {
    throw new Error(`image ${image} is missing: build it with test/systemd/build-image.sh (npm run test:systemd does)`)
  }
  await docker("rm", "-f", container)
  const started = await docker(
    "run", "-d", "--name", container, "--label", "org.mcp-server-manager.test=systemd",
    // what systemd as PID 1 needs on this host: see the header of test/systemd/build-image.sh
    "--cap-add", "SYS_ADMIN", "--security-opt", "seccomp=unconfined",
    "--tmpfs", "/run", "--tmpfs", "/run/lock",
    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
    "-v", `${Fs.realpathSync(process.execPath)}:/usr/local/bin/node:ro`,
    "--stop-signal", "SIGRTMIN+3", "--network", "none",
    image
  )
  if (started.code !== 0) throw new Error(`docker run failed: ${started.stderr}`)
  await eventually(async () => {
    const state = (await inContainer("systemctl is-system-running")).stdout.trim()
    return state === "running" || state === "degraded" ? state : undefined
  }, 90_000, "systemd in the container to finish booting")

  // the built checkout: what the README's steps copy from
  await sh(`mkdir -p ${checkout}`)
  for (const entry of ["dist", "systemd", "examples", "README.md", "package.json"]) {
    const copied = await docker("cp", Path.join(root, entry), `${container}:${checkout}/${entry}`)
    if (copied.code !== 0) throw new Error(`docker cp ${entry}: ${copied.stderr}`)
  }
}, slow)

afterAll(async () => {
  await docker("rm", "-f", container)
}, slow)

beforeEach(({ onTestFailed }) => {
  onTestFailed(async () => {
    const diagnosis = await inContainer(
      "systemctl status --no-pager -l mcp-manager; journalctl -u mcp-manager --no-pager -o short-precise -n 60; ps -eo pid,pgid,args"
    )
    console.error(`--- diagnosis from ${container} ---\n${diagnosis.stdout}${diagnosis.stderr}`)
  })
})

describe("mcp-manager under systemd", () => {
  it("installs with the README's steps, verbatim: the unit is active and mcpctl status lists the servers", async () => {
    const steps = readmeInstallSteps()
    expect(steps).toContain("systemctl enable --now mcp-manager")
    // the config users write; the steps must keep it
    await sh(`mkdir -p ${Path.dirname(configFile)} && cat > ${configFile}`, initialConfig)

    const installed = await run("docker", ["exec", "-w", checkout, container, "bash", "-e", "-c", steps])
    expect(installed.code, `the README's steps failed:\n${installed.stderr}`).toBe(0)
    expect(await sh(`cat ${configFile}`)).toBe(initialConfig)
    expect((await inContainer("systemctl is-active mcp-manager")).stdout.trim()).toBe("active")
    expect((await inContainer("systemctl is-enabled mcp-manager")).stdout.trim()).toBe("enabled")

    // The steps end with `mcpctl status` (as root, default socket), run right after `enable --now`
    // returned: Type=notify, so every server has been spawned by then.
    const rows = new Map(installed.stdout.trim().split("\n").map((line) => [line.split(/\s+/)[0], line] as const))
    for (const name of ["sleeper", "family", "talker", "escapee", "probe"]) {
      expect(rows.get(name), installed.stdout).toMatch(new RegExp(`^${name}\\s+running\\s+\\d+\\s`))
    }
    // broken exits at once (command not found): it is somewhere in its restart loop
    expect(rows.get("broken"), installed.stdout).toMatch(/^broken\s+(starting|running|exited|backoff)/)
    expect((await status()).map((s) => s.name)).toEqual(["sleeper", "family", "talker", "escapee", "probe", "broken"])
  }, slow)

  it("keeps STATUS= current; servers run hardened, without the notify socket", async () => {
    await eventually(async () => ((await unitProperty("StatusText")) === "5 running, 1 backoff" ? true : undefined), 60_000, "StatusText \"5 running, 1 backoff\"")
    expect(await unitProperty("Type")).toBe("notify")
    await expectSleepsOnce(initialSleeps)

    const servers = await serverProcesses()
    expect(servers.length).toBeGreaterThanOrEqual(initialSleeps.length)
    expect(servers.filter((p) => p.hasNotifySocket)).toEqual([])
    // NoNewPrivileges, ProtectSystem=full and PrivateTmp, seen by a server
    const probe = await eventually(async () => {
      const logs = await sh("mcpctl logs probe")
      return logs.includes("NoNewPrivs") ? logs : undefined
    }, 30_000, "the probe's output")
    expect(probe).toBe("usr-read-only\nNoNewPrivs:\t1\n")
    expect((await inContainer("test -e /tmp/mcp-probe")).code).toBe(1)
    // the record of process groups lives in the RuntimeDirectory
    expect(await sh("ls /run/mcp-manager")).toMatch(/^groups-[0-9a-f]{16}\.json\n$/)
  }, slow)

  it("journalctl -u mcp-manager shows the daemon's events and each server's stderr under its name", async () => {
    const text = await eventually(async () => {
      const lines = await journal()
      return lines.includes("talker says hello on stderr") ? lines : undefined
    }, 30_000, "the talker's line in the journal")
    expect(text).toMatch(/ level=INFO .*message="talker says hello on stderr" server=talker stream=stderr$/m)
    expect(text).toMatch(/ message="\/bin\/sh: 1: exec: \/nonexistent\/mcp-server: not found" server=broken stream=stderr$/m)
    expect(text).toMatch(/ level=INFO .*message=started server=sleeper pid=\d+$/m)
    expect(text).toMatch(/ level=WARN .*message=exited server=broken code=127 /m)
    expect(text).toMatch(/ message="listening on \/run\/mcp_manager.sock"$/m)
    expect(text).toMatch(/ message=ready$/m)
  }, slow)

  it("systemctl reload applies a config change without restarting unchanged servers", async () => {
    const mainPid = await unitProperty("MainPID")
    const before = new Map((await status()).map((s) => [s.name, s]))
    await sh(`cat > ${configFile}`, reloadedConfig)
    await sh("systemctl reload mcp-manager")

    const after = await eventually(async () => {
      const now = await status()
      const sleeper = now.find((s) => s.name === "sleeper")
      return now.map((s) => s.name).join() === reloadedServers.join() && now.every((s) => s.state === "running") &&
          sleeper?.command === "sleep 100011"
        ? now
        : undefined
    }, 30_000, "the reloaded config to be applied")
    for (const name of ["family", "talker", "escapee", "probe"]) {
      expect(after.find((s) => s.name === name)).toMatchObject({ pid: before.get(name)!.pid, restarts: 0 })
    }
    expect(after.find((s) => s.name === "sleeper")!.pid).not.toBe(before.get("sleeper")!.pid)
    expect(await unitProperty("MainPID")).toBe(mainPid)
    await eventually(async () => ((await unitProperty("StatusText")) === "6 running" ? true : undefined), 30_000, "StatusText \"6 running\"")
    await expectSleepsOnce(reloadedSleeps)
  }, slow)

  it("kill -9 of the daemon: systemd restarts it, the servers come back, nothing from before survives", async () => {
    const mainPid = await unitProperty("MainPID")
    const before = await serverProcesses()
    const oldRun = runIdOf(before[0]!.marker!)
    expect(new Set(before.map((p) => runIdOf(p.marker!)))).toEqual(new Set([oldRun]))

    await sh(`kill -9 ${mainPid}`)
    const after = await eventually(async () => {
      const pid = await unitProperty("MainPID")
      if (pid === mainPid || pid === "0" || (await unitProperty("ActiveState")) !== "active") return undefined
      const now = await status()
      return now.length === reloadedServers.length && now.every((s) => s.state === "running") ? now : undefined
    }, 60_000, "the restarted daemon with every server running")
    expect(await unitProperty("NRestarts")).toBe("1")
    const oldPids = new Set(before.map((p) => p.pid))
    expect(after.filter((s) => oldPids.has(s.pid!))).toEqual([])

    const servers = await serverProcesses()
    expect(servers.filter((p) => runIdOf(p.marker!) === oldRun)).toEqual([])
    expect(new Set(servers.map((p) => runIdOf(p.marker!))).size).toBe(1)
    await expectSleepsOnce(reloadedSleeps)
  }, slow)

  it("systemctl restart works repeatedly, each time with a fresh set of servers", async () => {
    for (let round = 0; round < 3; round++) {
      const mainPid = await unitProperty("MainPID")
      const before = await serverProcesses()
      await sh("systemctl restart mcp-manager")
      // Type=notify: restart returns once the daemon is ready, so no waiting here
      expect(await unitProperty("MainPID")).not.toBe(mainPid)
      const now = await status()
      expect(now.map((s) => [s.name, s.state])).toEqual(reloadedServers.map((name) => [name, "running"]))
      const servers = await serverProcesses()
      const oldRun = runIdOf(before[0]!.marker!)
      expect(servers.filter((p) => runIdOf(p.marker!) === oldRun)).toEqual([])
      await expectSleepsOnce(reloadedSleeps)
    }
  }, slow)

  it("systemctl stop: every server and grandchild is gone before the stop timeout, the socket too", async () => {
    const cursor = await journalCursor()
    expect(await serverProcesses()).not.toEqual([])
    await sh("systemctl stop mcp-manager")

    expect(await unitProperty("ActiveState")).toBe("inactive")
    // success, not timeout: the daemon finished before TimeoutStopSec
    expect(await unitProperty("Result")).toBe("success")
    expect(await serverProcesses()).toEqual([])
    await expectSleepsOnce([])
    expect((await inContainer(`test -e ${socket}`)).code).toBe(1)
    expect((await inContainer("test -e /run/mcp-manager")).code).toBe(1)
    // STOPPING=1 came with a last status line
    expect(await unitProperty("StatusText")).toMatch(/^stopping: /)

    const stopLog = await journal(cursor)
    expect(stopLog).toMatch(/message="stopping 6 server\(s\)"/)
    expect(stopLog).toContain("Deactivated successfully")
    // the daemon stopped them all itself: systemd had nothing left to kill
    expect(stopLog).not.toMatch(/Killing process|SIGKILL|timed out/)

    // and it starts again
    await sh("systemctl start mcp-manager")
    expect((await status()).map((s) => s.state)).toEqual(reloadedServers.map(() => "running"))
  }, slow)

  it("an invalid config at start fails the unit at once, with the reason in the journal, and no restart loop", async () => {
    const cursor = await journalCursor()
    await sh(`cat > ${configFile}`, `${reloadedConfig}[bad name] sleep 1\n`)
    const restarts = await unitProperty("NRestarts")
    expect((await inContainer("systemctl restart mcp-manager")).code).not.toBe(0)
    expect(await unitProperty("ActiveState")).toBe("failed")
    expect(await unitProperty("ExecMainStatus")).toBe("78")
    expect(await serverProcesses()).toEqual([])
    // Restart=always with RestartSec=1 would have started it again by now, were it not for
    // RestartPreventExitStatus=78 (a negative check: it needs some time to pass)
    await sleep(3000)
    expect(await unitProperty("ActiveState")).toBe("failed")
    expect(await unitProperty("NRestarts")).toBe(restarts)
    const badLine = reloadedConfig.split("\n").length
    expect(await journal(cursor)).toContain(`mcp-manager: invalid config ${configFile}:\n  line ${badLine}: invalid server name "[bad name]"`)

    // fixed, it starts
    await sh(`cat > ${configFile}`, reloadedConfig)
    await sh("systemctl restart mcp-manager")
    expect((await status()).map((s) => s.state)).toEqual(reloadedServers.map(() => "running"))
  }, slow)
})
