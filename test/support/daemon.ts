// Runs the real, built programs (dist/daemon.js, dist/mcpctl.js) for integration tests.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { maxUnanswered } from "../../layers/manager/ControlSocketProtocolLive.js"

const root = Path.resolve(import.meta.dirname, "../..")
export const daemonJs = Path.join(root, "dist/daemon.js")
export const mcpctlJs = Path.join(root, "dist/mcpctl.js")

if (!Fs.existsSync(daemonJs) || !Fs.existsSync(mcpctlJs)) {
  throw new Error("dist/ is missing: run `npm run build` first (npm test does)")
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Poll until `check` returns a value (not undefined) or throw after `timeoutMs` with the last error. */
export const eventually = async <A>(check: () => Promise<A | undefined> | A | undefined, timeoutMs = 15_000, what = "condition"): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ""}`)
    }
    await sleep(50)
  }
}

export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  // a zombie still "exists" until reaped by its parent
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  return !/^\d+ \(.*\) Z/.test(stat)
}

export interface CommandResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export const run = (file: string, args: ReadonlyArray<string>, options: CP.ExecFileOptions = {}) =>
  new Promise<CommandResult>((resolve) => {
    CP.execFile(file, [...args], { encoding: "utf8", timeout: 60_000, ...options }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : null
      resolve({ code, stdout: String(stdout), stderr: String(stderr) })
    })
  })

export interface StatusJson {
  readonly name: string
  readonly command: string
  readonly state: string
  readonly pid: number | null
  readonly restarts: number
  readonly startedAt: string | null
  readonly lastExit: { readonly code: number | null; readonly signal: string | null; readonly at: string } | null
  readonly nextRestartAt: string | null
  readonly lastError: string | null
}

export interface Daemon {
  readonly dir: string
  readonly socket: string
  /** Where the daemon records the process groups it started (`--runtime-dir`). */
  readonly runtimeDir: string
  readonly configFile: string
  readonly process: CP.ChildProcess
  /** Everything the daemon wrote to stderr so far. */
  readonly log: () => string
  readonly ctl: (...args: ReadonlyArray<string>) => Promise<CommandResult>
  readonly status: () => Promise<ReadonlyArray<StatusJson>>
  readonly server: (name: string) => Promise<StatusJson>
  /** Wait until `name` is running with a pid (other than `not`, when given). */
  readonly running: (name: string, not?: number | null) => Promise<StatusJson>
  readonly writeConfig: (text: string) => void
  /** SIGTERM (or `signal`) and wait for the daemon to exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

const started: Array<Daemon> = []

export interface StartOptions {
  /** Config text; `.json` in `configName` selects the JSON form. */
  readonly config: string
  readonly configName?: string
  readonly args?: ReadonlyArray<string>
  /** Socket path (default: in the test's own temporary directory). */
  readonly socket?: string
  /** `--runtime-dir` (default: in the test's own temporary directory, so daemons never meet in /run). */
  readonly runtimeDir?: string
  readonly env?: NodeJS.ProcessEnv
  /** Wait for the socket to answer (default true). */
  readonly waitReady?: boolean
}

export const tempDir = (prefix = "mcpm-") => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))

export const ctlAt = (socket: string) => (...args: ReadonlyArray<string>) => run(process.execPath, [mcpctlJs, "--socket", socket, ...args])

export const startDaemon = async (options: StartOptions): Promise<Daemon> => {
  const dir = tempDir()
  const configFile = Path.join(dir, options.configName ?? "mcp_server.conf")
  const socket = options.socket ?? Path.join(dir, "mcp.sock")
  const runtimeDir = options.runtimeDir ?? Path.join(dir, "run")
  Fs.writeFileSync(configFile, options.config)
  const args = ["--config", configFile, "--socket", socket, "--runtime-dir", runtimeDir, ...(options.args ?? [])]
  const child = CP.spawn(process.execPath, [daemonJs, ...args], {
    cwd: dir,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let log = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (log += chunk))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal }))
  )
  const ctl = ctlAt(socket)
  const status = async () => {
    const result = await ctl("status", "--json")
    if (result.code !== 0) throw new Error(`mcpctl status failed: ${result.stderr}`)
    return JSON.parse(result.stdout) as ReadonlyArray<StatusJson>
  }
  const server = async (name: string) => {
    const found = (await status()).find((s) => s.name === name)
    if (found === undefined) throw new Error(`no server ${name}`)
    return found
  }
  const daemon: Daemon = {
    dir,
    socket,
    runtimeDir,
    configFile,
    process: child,
    log: () => log,
    ctl,
    status,
    server,
    running: (name, not) =>
      eventually(async () => {
        const s = await server(name)
        return s.state === "running" && s.pid !== null && s.pid !== not ? s : undefined
      }, 15_000, `${name} running`),
    writeConfig: (text) => Fs.writeFileSync(configFile, text),
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
      return exited
    }
  }
  started.push(daemon)
  if (options.waitReady ?? true) {
    await eventually(() => (log.includes("message=ready") ? true : undefined), 15_000, `daemon ready (log so far:\n${log})`)
  }
  return daemon
}

/** Stop every daemon a test started (call from afterEach/afterAll). */
export const stopAllDaemons = async () => {
  await Promise.all(started.splice(0).map((d) => d.stop("SIGTERM")))
}

/** Send raw bytes on a new connection; resolves when the server closes it or after `waitMs`. */
export const sendRaw = (socket: string, data: string | Buffer, waitMs = 300) =>
  new Promise<{ readonly answer: string; readonly closedByServer: boolean }>((resolve) => {
    const connection = Net.createConnection({ path: socket })
    let answer = ""
    let closedByServer = false
    connection.on("data", (chunk) => (answer += chunk.toString()))
    connection.on("error", () => {})
    connection.on("close", () => (closedByServer = true))
    connection.on("connect", () => connection.write(data))
    setTimeout(() => {
      const result = { answer, closedByServer }
      connection.destroy()
      resolve(result)
    }, waitMs)
  })

/** What the kernel holds on one control connection, from `ss`: each end's receive queue, in bytes. */
const connectionQueues = (client: Net.Socket) => {
  // the client's end, by inode: no public API names a socket's fd
  const fd = (client as unknown as { readonly _handle: { readonly fd: number } })._handle.fd
  const inode = /^socket:\[(\d+)\]$/.exec(Fs.readlinkSync(`/proc/self/fd/${fd}`))![1]
  // u_str ESTAB <recv-q> <send-q> <local address> <inode> <peer address> <peer inode>
  const rows = CP.execFileSync("ss", ["-x", "-H", "-a"], { encoding: "utf8" }).split("\n").map((line) => line.trim().split(/\s+/))
  const clientEnd = rows.find((row) => row[5] === inode)
  const daemonEnd = rows.find((row) => row[7] === inode)
  if (clientEnd === undefined || daemonEnd === undefined) throw new Error(`ss does not show both ends of socket ${inode}`)
  return { unreadByClient: Number(clientEnd[2]), unreadByDaemon: Number(daemonEnd[2]) }
}

export interface StalledFlood {
  /** Requests the kernel took from the client before its writes stalled. */
  readonly sent: number
  /** Bytes of each request (ids of one length: every request, and every answer, has the same size). */
  readonly requestBytes: number
  /** Of the requests sent, those the daemon took from the socket; the rest wait in it. */
  readonly taken: number
  /** Answers in the socket or in the client's buffer, unread. */
  readonly answersUnread: number
  /** Requests the daemon took but has not answered into the socket: what it holds for this client. */
  readonly held: number
  /** The most it may hold (docs/protocol.md), in requests of this size. */
  readonly bound: number
  readonly stalledAfterMs: number
  readonly destroy: () => void
}

/**
 * One client pipelining up to `total` status requests as fast as the socket takes them (one write
 * at a time, so the count is exact), never reading an answer but the first (for its length),
 * until no write has gone through for `stallMs`. Then what the kernel holds on the connection is
 * read with `ss`, and what the daemon took and has not answered follows by subtraction.
 */
export const floodWithoutReading = async (socketPath: string, total: number, stallMs = 2000): Promise<StalledFlood> => {
  const socket = await new Promise<Net.Socket>((resolve, reject) => {
    const connection = Net.createConnection({ path: socketPath })
    connection.once("connect", () => resolve(connection))
    connection.once("error", reject)
  })
  socket.on("error", () => {})
  const firstId = 10_000_000
  const request = (n: number) => JSON.stringify({ _tag: "Request", id: String(firstId + n), tag: "Status", payload: {}, headers: [] }) + "\n"
  const requestBytes = Buffer.byteLength(request(0))
  const answerBytes = await new Promise<number>((resolve) => {
    let answer = ""
    const onData = (chunk: Buffer) => {
      answer += chunk.toString("latin1")
      if (!answer.includes("\n")) return
      socket.off("data", onData)
      socket.pause()
      resolve(answer.indexOf("\n") + 1)
    }
    socket.on("data", onData)
    socket.write(request(0))
  })
  const started = Date.now()
  let sent = 0
  while (sent < total) {
    const written = await Promise.race([
      new Promise<boolean>((resolve) => socket.write(request(sent + 1), () => resolve(true))),
      sleep(stallMs).then(() => false)
    ])
    if (!written) break
    sent++
  }
  const stalledAfterMs = Date.now() - started - (sent < total ? stallMs : 0)
  const queues = connectionQueues(socket)
  // the first request, answered and read, is not counted; a request the daemon read in part is not taken
  const taken = sent - Math.ceil(queues.unreadByDaemon / requestBytes)
  // read from the socket into the client's buffer while it was paused, or still in the socket
  const answersUnread = Math.floor((socket.readableLength + queues.unreadByClient) / answerBytes)
  // maxUnanswered, the rest of the 64 KiB read that reached it (handled whole), and what a paused
  // Node socket still reads ahead, unparsed: its 16 KiB buffer, one more 64 KiB read at most
  const bound = maxUnanswered + Math.ceil((64 * 1024) / requestBytes) + Math.ceil((16 * 1024 + 64 * 1024) / requestBytes)
  return { sent, requestBytes, taken, answersUnread, held: taken - answersUnread, bound, stalledAfterMs, destroy: () => socket.destroy() }
}
