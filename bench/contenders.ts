// The supervisors compared: mcp-manager, supervisord, PM2 and the floor (bench/floor.mjs). Each runs
// the same children (bench/child.pl) from its own scratch directory and is stopped by pid.
import { Effect, ManagedRuntime } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import * as Path from "node:path"
import { ControlClientLive } from "../layers/manager/ControlClientLive.js"
import { ControlClient } from "../services/manager/ControlClient.js"
import { own, type Program, repoRoot, run, runDir, runOk, scratch, spawnOwned, stopPid, waitFor } from "./support.js"

export const pm2Version = "7.0.4"
const pm2Dir = Path.join(scratch, "pm2")
const pm2Bin = Path.join(pm2Dir, "node_modules/.bin/pm2")
const daemonJs = Path.join(repoRoot, "dist/daemon.js")
const mcpctlJs = Path.join(repoRoot, "dist/mcpctl.js")

export interface Options {
  /** A run this long counts as healthy (restart at once after it); the contenders' defaults otherwise. */
  readonly healthyAfter?: "1s"
}

/** A client on an open connection: one status request per `call`. */
export interface OpenClient {
  readonly call: () => Promise<unknown>
  readonly close: () => Promise<void>
}

export interface Contender {
  readonly name: string
  /** Start supervising `programs`; resolves when the supervisor runs (children may still be starting). */
  readonly start: (programs: ReadonlyArray<Program>, options?: Options) => Promise<void>
  /** The process whose memory and CPU are the supervisor's. */
  readonly pid: () => number
  /** A fresh process that prints the status of every child. */
  readonly statusCommand: () => readonly [string, ReadonlyArray<string>]
  /** A fresh process that restarts every child. */
  readonly restartAllCommand: () => readonly [string, ReadonlyArray<string>]
  /** The state of one child as the contender shows it to a person. */
  readonly stateOf: (name: string) => Promise<string>
  readonly open: () => Promise<OpenClient>
  readonly stop: () => Promise<void>
}


// ---- mcp-manager ---------------------------------------------------------------------------------

export const mcpManager = (): Contender => {
  let dir = ""
  let daemon: ReturnType<typeof spawnOwned> | undefined
  const socket = () => Path.join(dir, "mcp.sock")
  return {
    name: "mcp-manager",
    start: async (programs, options = {}) => {
      dir = runDir("mcp-manager")
      const servers = Object.fromEntries(programs.map((p) => [p.name, {
        command: p.file,
        args: p.args,
        ...(options.healthyAfter ? { backoff: { resetAfter: options.healthyAfter } } : {})
      }]))
      const config = Path.join(dir, "servers.json")
      Fs.writeFileSync(config, JSON.stringify({ mcpServers: servers }))
      daemon = spawnOwned("mcp-manager", process.execPath, [daemonJs, "--config", config, "--socket", socket(), "--runtime-dir", Path.join(dir, "run"), "--quiet"], { cwd: dir })
      const started = daemon
      await waitFor("mcp-manager ready", () => (started.stderr().includes("message=ready") ? true : undefined), 120_000, 10)
    },
    pid: () => daemon!.pid,
    statusCommand: () => [process.execPath, [mcpctlJs, "--socket", socket(), "status"]],
    restartAllCommand: () => [process.execPath, [mcpctlJs, "--socket", socket(), "restart-all"]],
    stateOf: async (name) => {
      const result = await runOk(process.execPath, [mcpctlJs, "--socket", socket(), "status", name])
      return result.stdout.split("\n")[1]?.trim().split(/\s{2,}/)[1] ?? "?"
    },
    open: async () => {
      const runtime = ManagedRuntime.make(ControlClientLive(socket()))
      const status = Effect.flatMap(ControlClient, (client) => client.Status())
      await runtime.runPromise(status)
      return { call: () => runtime.runPromise(status), close: () => runtime.dispose() }
    },
    stop: async () => {
      if (daemon !== undefined) await stopPid(daemon.pid, 15_000)
    }
  }
}

// ---- supervisord -------------------------------------------------------------------------------

/** Python's ConfigParser interpolates %; supervisord splits the command like a POSIX shell. */
const supervisorWord = (word: string) => `'${word.replaceAll("'", `'"'"'`).replaceAll("%", "%%")}'`

export const supervisord = (): Contender => {
  let dir = ""
  let proc: ReturnType<typeof spawnOwned> | undefined
  const conf = () => Path.join(dir, "supervisord.conf")
  const ctl = (...args: ReadonlyArray<string>) => ["/usr/bin/supervisorctl", ["-c", conf(), ...args]] as const
  return {
    name: "supervisord",
    start: async (programs) => {
      dir = runDir("supervisord")
      const socket = Path.join(dir, "supervisor.sock")
      const lines = [
        "[unix_http_server]", `file=${socket}`,
        "[supervisord]", `logfile=${Path.join(dir, "supervisord.log")}`, `pidfile=${Path.join(dir, "supervisord.pid")}`,
        `childlogdir=${dir}`, "nodaemon=true", "minfds=4096",
        "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "[supervisorctl]", `serverurl=unix://${socket}`,
        ...programs.flatMap((p) => [
          `[program:${p.name}]`,
          `command=${[p.file, ...p.args].map(supervisorWord).join(" ")}`,
          "autorestart=true",
          "stdout_logfile=NONE",
          "stderr_logfile=NONE"
        ])
      ]
      Fs.writeFileSync(conf(), lines.join("\n") + "\n")
      proc = spawnOwned("supervisord", "/usr/bin/supervisord", ["-c", conf()], { cwd: dir })
      await waitFor("supervisord socket", () => (Fs.existsSync(socket) ? true : undefined), 60_000, 10)
    },
    pid: () => proc!.pid,
    statusCommand: () => ctl("status"),
    restartAllCommand: () => ctl("restart", "all"),
    stateOf: async (name) => {
      const [file, args] = ctl("status", name)
      const result = await run(file, args)
      return result.stdout.trim().split(/\s+/)[1] ?? "?"
    },
    open: async () => {
      const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
      const socketPath = Path.join(dir, "supervisor.sock")
      const body = "<?xml version=\"1.0\"?><methodCall><methodName>supervisor.getAllProcessInfo</methodName><params></params></methodCall>"
      const call = () =>
        new Promise<string>((resolve, reject) => {
          const request = Http.request({ socketPath, path: "/RPC2", method: "POST", agent, headers: { "content-type": "text/xml", "content-length": Buffer.byteLength(body) } }, (response) => {
            let text = ""
            response.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve(text))
          })
          request.on("error", reject)
          request.end(body)
        })
      await call()
      return { call, close: async () => agent.destroy() }
    },
    stop: async () => {
      if (proc !== undefined) await stopPid(proc.pid, 30_000)
    }
  }
}

// ---- PM2 -----------------------------------------------------------------------------------------

interface Pm2Api {
  connect: (noDaemon: boolean, cb: (error: unknown) => void) => void
  list: (cb: (error: unknown, list: unknown) => void) => void
  disconnect: () => void
}

export const pm2 = (): Contender => {
  let home = ""
  let god = 0
  const env = () => ({ ...process.env, PM2_HOME: home })
  return {
    name: "PM2",
    start: async (programs) => {
      home = runDir("pm2")
      const apps = programs.map((p) => ({ name: p.name, script: p.file, args: p.args, interpreter: "none", autorestart: true }))
      const ecosystem = Path.join(home, "ecosystem.json")
      Fs.writeFileSync(ecosystem, JSON.stringify({ apps }))
      // `pm2 start` forks the God daemon and returns; the daemon is ours to kill by its pid file
      const started = run(pm2Bin, ["start", ecosystem], { env: env(), cwd: home }, 600_000)
      const pidFile = Path.join(home, "pm2.pid")
      god = await waitFor("PM2 daemon", () => {
        const text = Fs.existsSync(pidFile) ? Fs.readFileSync(pidFile, "utf8").trim() : ""
        return /^\d+$/.test(text) ? Number(text) : undefined
      }, 60_000, 10)
      own(god, "PM2 God daemon", home)
      const result = await started
      if (result.code !== 0) throw new Error(`pm2 start failed: ${result.stderr.slice(-2000)}`)
    },
    pid: () => god,
    statusCommand: () => ["/usr/bin/env", [`PM2_HOME=${home}`, pm2Bin, "jlist"]],
    restartAllCommand: () => ["/usr/bin/env", [`PM2_HOME=${home}`, pm2Bin, "restart", "all"]],
    stateOf: async (name) => {
      const result = await runOk(pm2Bin, ["jlist"], { env: env() })
      const list = JSON.parse(result.stdout.slice(result.stdout.indexOf("["))) as ReadonlyArray<{ name: string; pm2_env: { status: string } }>
      return list.find((app) => app.name === name)?.pm2_env.status ?? "?"
    },
    open: async () => {
      process.env.PM2_HOME = home
      const { createRequire } = await import("node:module")
      const Pm2 = createRequire(Path.join(pm2Dir, "package.json"))("pm2") as { custom: new (options: { pm2_home: string }) => Pm2Api }
      const api = new Pm2.custom({ pm2_home: home })
      await new Promise<void>((resolve, reject) => api.connect(false, (error) => (error ? reject(error) : resolve())))
      const call = () => new Promise<unknown>((resolve, reject) => api.list((error, list) => (error ? reject(error) : resolve(list))))
      await call()
      return { call, close: async () => api.disconnect() }
    },
    stop: async () => {
      if (home === "") return
      await run(pm2Bin, ["kill"], { env: env() }, 60_000)
      if (god !== 0) await stopPid(god)
    }
  }
}

// ---- the floor -----------------------------------------------------------------------------------

const floorJs = Path.join(repoRoot, "bench/floor.mjs")

const floorRequest = (socketPath: string, line: string) =>
  [process.execPath, ["-e", `const s=require("net").connect(${JSON.stringify(socketPath)});s.end(${JSON.stringify(line + "\n")});s.pipe(process.stdout)`]] as const

export const floor = (): Contender => {
  let dir = ""
  let proc: ReturnType<typeof spawnOwned> | undefined
  const socket = () => Path.join(dir, "floor.sock")
  return {
    name: "floor",
    start: async (programs) => {
      dir = runDir("floor")
      const file = Path.join(dir, "programs.json")
      Fs.writeFileSync(file, JSON.stringify(programs))
      proc = spawnOwned("floor", process.execPath, [floorJs, file, socket()], { cwd: dir })
      await waitFor("floor socket", () => (Fs.existsSync(socket()) ? true : undefined), 60_000, 5)
    },
    pid: () => proc!.pid,
    // the floor of a fresh client process: Node.js starting and doing nothing
    statusCommand: () => [process.execPath, ["-e", "0"]],
    restartAllCommand: () => floorRequest(socket(), "restart-all"),
    stateOf: async () => "running (respawns at once, for ever)",
    open: async () => {
      const connection = Net.createConnection({ path: socket() })
      connection.setEncoding("utf8")
      let pending: ((line: string) => void) | undefined
      let buffer = ""
      connection.on("data", (data: string) => {
        buffer += data
        const newline = buffer.indexOf("\n")
        if (newline >= 0 && pending !== undefined) {
          const line = buffer.slice(0, newline)
          buffer = buffer.slice(newline + 1)
          const resolve = pending
          pending = undefined
          resolve(line)
        }
      })
      await new Promise<void>((resolve) => connection.once("connect", () => resolve()))
      const call = () =>
        new Promise<unknown>((resolve) => {
          pending = (line) => resolve(JSON.parse(line))
          connection.write("status\n")
        })
      return { call, close: async () => void connection.destroy() }
    },
    stop: async () => {
      if (proc !== undefined) await stopPid(proc.pid)
    }
  }
}

export const allContenders = () => [mcpManager(), supervisord(), pm2(), floor()]
