// An append-only log file rotated by size (name.log → name.log.1 → … → name.log.<keep>).
// Writing never blocks or fails the caller: the file is opened and rotated asynchronously (lines
// are held in memory meanwhile) and opened with O_NONBLOCK (a FIFO put in its place fails at once
// instead of waiting for a reader); when the disk is full or the directory unwritable the file is
// suspended, the reason reported once, and writing retried a little later.
import * as Fs from "node:fs"

const { O_APPEND, O_CREAT, O_NONBLOCK, O_WRONLY } = Fs.constants

/** Lines queued for the disk beyond this are dropped (and counted) rather than held in memory. */
const maxPendingBytes = 1024 * 1024
const retryAfterMs = 30_000

export interface RotatingLogFileOptions {
  readonly path: string
  readonly maxBytes: number
  readonly keep: number
  /** Called when the file stops or resumes being written, with a reason a person can act on. */
  readonly onProblem: (message: string) => void
}

export class RotatingLogFile {
  private stream: Fs.WriteStream | undefined
  private size = 0
  private suspendedUntil = 0
  private dropped = 0
  private suspendedBecause: string | undefined
  /** Lines waiting while the file is being opened or rotated; undefined when neither is going on. */
  private held: Array<string> | undefined
  private heldBytes = 0
  /** Bumped by suspend() and close(): an open or a rotation begun before drops its outcome. */
  private epoch = 0

  constructor(private readonly options: RotatingLogFileOptions) {}

  /** Why the file is not being written right now, e.g. the disk is full; undefined while it is. */
  get problem(): string | undefined {
    return this.suspendedBecause
  }

  write(line: string): void {
    if (Date.now() < this.suspendedUntil) {
      this.dropped++
      return
    }
    if (this.stream === undefined && this.held === undefined) this.open()
    const stream = this.stream
    if (stream === undefined || this.held !== undefined) {
      if (this.heldBytes > maxPendingBytes) {
        this.dropped++
        return
      }
      this.held?.push(line)
      this.heldBytes += line.length + 1
      return
    }
    if (stream.writableLength > maxPendingBytes) {
      this.dropped++
      return
    }
    if (this.dropped > 0) {
      const note = `[mcp-manager: ${this.dropped} line(s) not written to this file]\n`
      this.dropped = 0
      this.append(stream, note)
    }
    this.append(stream, line + "\n")
    if (this.size >= this.options.maxBytes) this.rotate()
  }

  close(): void {
    this.epoch++
    this.stream?.end()
    this.stream = undefined
    this.held = undefined
    this.heldBytes = 0
  }

  private append(stream: Fs.WriteStream, text: string) {
    stream.write(text)
    this.size += Buffer.byteLength(text)
  }

  /** Open the file in the background; lines are held until it is open, then written in order. */
  private open() {
    this.held ??= []
    const epoch = this.epoch
    const { path } = this.options
    const current = () => epoch === this.epoch
    Fs.open(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o640, (openError, fd) => {
      if (openError !== null) return current() ? this.suspend(openError) : undefined
      Fs.fstat(fd, (statError, stat) => {
        if (statError !== null || !current()) {
          Fs.close(fd, () => {})
          return statError !== null && current() ? this.suspend(statError) : undefined
        }
        const stream = Fs.createWriteStream(path, { fd, flags: "a" })
        stream.on("error", (error) => this.suspend(error))
        if (this.suspendedUntil !== 0) this.options.onProblem(`writing ${path} again`)
        this.suspendedUntil = 0
        this.suspendedBecause = undefined
        this.size = stat.size
        this.stream = stream
        const held = this.held ?? []
        this.held = undefined
        this.heldBytes = 0
        // through write(): a rotation those lines set off holds the rest for the next file
        for (const line of held) this.write(line)
      })
    })
  }

  private suspend(error: unknown) {
    const reason = error instanceof Error ? error.message : String(error)
    this.epoch++
    this.stream?.destroy()
    this.stream = undefined
    this.dropped += this.held?.length ?? 0
    this.held = undefined
    this.heldBytes = 0
    this.suspendedUntil = Date.now() + retryAfterMs
    this.suspendedBecause = `cannot write ${this.options.path} (${reason})`
    this.options.onProblem(`${this.suspendedBecause}; lines are kept in memory only, retrying in ${retryAfterMs / 1000}s`)
  }

  /** Renames in the background; the old stream ends into name.log.1, new lines wait for the new file. */
  private rotate() {
    const epoch = this.epoch
    this.stream?.end()
    this.stream = undefined
    this.held = []
    const { keep, path } = this.options
    const renames = async () => {
      for (let i = keep - 1; i >= 1; i--) {
        await Fs.promises.rename(`${path}.${i}`, `${path}.${i + 1}`).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== "ENOENT") throw error
        })
      }
      if (keep >= 1) await Fs.promises.rename(path, `${path}.1`)
      else await Fs.promises.truncate(path)
    }
    renames().then(
      () => (epoch === this.epoch ? this.open() : undefined),
      (error: unknown) => (epoch === this.epoch ? this.suspend(error) : undefined)
    )
  }
}
