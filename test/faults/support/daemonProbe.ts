// Looking at a running daemon from outside (/proc), speaking its socket protocol raw (for junk,
// floods and abrupt disconnects) or through the real client, and the system fixtures the daemon's
// fault cases need: users and groups, small filesystems, the processes a run left behind.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import { type Duration, Effect } from "effect"
import { ControlClientLive } from "../../../layers/manager/ControlClientLive.js"
import { ControlClient } from "../../../services/manager/ControlClient.js"
import { sleep } from "../../support/daemon.js"

const clockTicks = Number(CP.execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100

export interface ProcessSample {
  /** Resident set size, KiB (VmRSS). */
  readonly rssKiB: number
  /** User + system CPU time of the process itself (not its children), seconds. */
  readonly cpuSeconds: number
  readonly openFds: number
}

/** From /proc/<pid>/status and /proc/<pid>/stat (fields 14 and 15: utime, stime). */
export const sampleProcess = (pid: number): ProcessSample => {
  const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return {
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)![1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / clockTicks,
    openFds: Fs.readdirSync(`/proc/${pid}/fd`).length
  }
}

export const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`

/** A message from the daemon, as it travels (ndjson). */
export interface ServerFrame {
  readonly _tag: string
  readonly requestId?: string
  readonly values?: ReadonlyArray<unknown>
  readonly exit?: { readonly _tag: string; readonly value?: unknown; readonly cause?: unknown }
  readonly defect?: unknown
}

/** One connection to the control socket, written and read byte for byte. */
export class RawConnection {
  readonly frames: Array<ServerFrame> = []
  /** The daemon ended the connection (we did not). */
  closedByDaemon = false
  private pending = ""
  private destroyed = false
  private readonly closed: Promise<void>

  private constructor(private readonly socket: Net.Socket, private readonly autoAck: boolean) {
    socket.setEncoding("utf8")
    socket.on("error", () => {})
    socket.on("data", (chunk: string) => {
      this.pending += chunk
      let newline: number
      while ((newline = this.pending.indexOf("\n")) !== -1) {
        const frame = JSON.parse(this.pending.slice(0, newline)) as ServerFrame
        this.pending = this.pending.slice(newline + 1)
        this.frames.push(frame)
        // streams wait for an Ack after each chunk
        if (this.autoAck && frame._tag === "Chunk") this.send({ _tag: "Ack", requestId: frame.requestId })
      }
    })
    this.closed = new Promise((resolve) =>
      socket.once("close", () => {
        if (!this.destroyed) this.closedByDaemon = true
        resolve()
      })
    )
  }

  static open = (path: string, options: { readonly autoAck?: boolean } = {}) =>
    new Promise<RawConnection>((resolve, reject) => {
      const socket = Net.createConnection({ path })
      socket.once("connect", () => resolve(new RawConnection(socket, options.autoAck ?? true)))
      socket.once("error", reject)
    })

  /** Resolves when the bytes are handed to the kernel, or the connection is gone. */
  write = (data: string | Buffer) =>
    new Promise<void>((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve()
      this.socket.write(data, () => resolve())
    })

  send = (message: object) => this.write(JSON.stringify(message) + "\n")

  request = (id: string, tag: string, payload: unknown = {}) =>
    this.send({ _tag: "Request", id, tag, payload, headers: [] })

  /** The first frame matching `predicate`, or undefined after `timeoutMs`. */
  waitFor = async (predicate: (frame: ServerFrame) => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.find(predicate)
      if (found !== undefined || Date.now() > deadline) return found
      await sleep(10)
    }
  }

  exitOf = (id: string, timeoutMs = 5000) => this.waitFor((f) => f._tag === "Exit" && f.requestId === id, timeoutMs)

  /** True when the connection ended within `timeoutMs`. */
  waitClosed = (timeoutMs: number) =>
    Promise.race([this.closed.then(() => true), sleep(timeoutMs).then(() => false)])

  get isOpen() {
    return !this.socket.destroyed
  }

  pauseReading = () => this.socket.pause()

  /** Go away without a word (no Interrupt, no Eof), as a killed client does. */
  destroy = () => {
    this.destroyed = true
    this.socket.destroy()
  }
}

/** Run `f` with a fresh client of the daemon (the one mcpctl uses), on its own connection. */
export const withClient = <A, E>(socket: string, f: (client: ControlClient) => Effect.Effect<A, E>, timeout: Duration.DurationInput = "30 seconds") =>
  Effect.runPromise(
    Effect.flatMap(ControlClient, f).pipe(Effect.scoped, Effect.provide(ControlClientLive(socket)), Effect.timeout(timeout))
  )

/** Processes anywhere on the machine whose MCP_MANAGER_RUN starts with `prefix`. */
export const markedProcesses = (prefix: string): ReadonlyArray<number> =>
  Fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const stat = Fs.readFileSync(`/proc/${pid}/stat`, "utf8")
      if (/^\d+ \(.*\) [ZX]/.test(stat)) return false
      return Fs.readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").some((e) => e.startsWith(`MCP_MANAGER_RUN=${prefix}`))
    } catch {
      return false // gone meanwhile
    }
  })

const sh = (file: string, args: ReadonlyArray<string>) => CP.execFileSync(file, [...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

const exists = (database: "passwd" | "group", name: string) => CP.spawnSync("getent", [database, name]).status === 0

/** A system group and users made for one test, removed by `remove`. Requires root. */
export const makeAccounts = (group: string, users: ReadonlyArray<{ readonly name: string; readonly member: boolean }>) => {
  const remove = () => {
    for (const user of users) if (exists("passwd", user.name)) sh("userdel", [user.name])
    if (exists("group", group)) sh("groupdel", [group])
  }
  remove() // leftovers of an interrupted run
  sh("groupadd", ["--system", group])
  for (const user of users) {
    sh("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ...(user.member ? ["--groups", group] : []), user.name])
  }
  return { remove }
}

/** Run a program as `user` with that user's groups (setpriv --init-groups, as a login would). */
export const runAs = (user: string, file: string, args: ReadonlyArray<string>) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve) => {
    CP.execFile(
      "setpriv",
      ["--reuid", user, "--regid", user, "--init-groups", "--", file, ...args],
      { encoding: "utf8", timeout: 60_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: "/" } },
      (error, stdout, stderr) => resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : null, stdout, stderr })
    )
  })

/** A tmpfs of `size` at `dir` (a real filesystem that can fill up or be read-only). */
export const mountTmpfs = (dir: string, options: { readonly size: string; readonly readOnly?: boolean }) => {
  Fs.mkdirSync(dir, { recursive: true })
  sh("mount", ["-t", "tmpfs", "-o", `size=${options.size}${options.readOnly ? ",ro" : ""}`, "tmpfs", dir])
  return { unmount: () => CP.spawnSync("umount", ["-l", dir]) }
}
