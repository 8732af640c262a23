// An append-only log file rotated by size (name.log → name.log.1 → … → name.log.<keep>).
// Writing never blocks or fails the caller: when the disk is full or the directory unwritable the
// file is suspended, the reason reported once, and writing retried a little later.
import * as Fs from "node:fs"

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
    const stream = this.stream ?? this.open()
    if (stream === undefined) return
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
    this.stream?.end()
    this.stream = undefined
  }

  private append(stream: Fs.WriteStream, text: string) {
    stream.write(text)
    this.size += Buffer.byteLength(text)
  }

  private open(): Fs.WriteStream | undefined {
    try {
      const fd = Fs.openSync(this.options.path, "a", 0o640)
      this.size = Fs.fstatSync(fd).size
      const stream = Fs.createWriteStream(this.options.path, { fd, flags: "a" })
      stream.on("error", (error) => this.suspend(error))
      if (this.suspendedUntil !== 0) this.options.onProblem(`writing ${this.options.path} again`)
      this.suspendedUntil = 0
      this.suspendedBecause = undefined
      this.stream = stream
      return stream
    } catch (error) {
      this.suspend(error)
      return undefined
    }
  }

  private suspend(error: unknown) {
    const reason = error instanceof Error ? error.message : String(error)
    this.stream?.destroy()
    this.stream = undefined
    this.suspendedUntil = Date.now() + retryAfterMs
    this.suspendedBecause = `cannot write ${this.options.path} (${reason})`
    this.options.onProblem(`${this.suspendedBecause}; lines are kept in memory only, retrying in ${retryAfterMs / 1000}s`)
  }

  private rotate() {
    this.close()
    try {
      const { keep, path } = this.options
      for (let i = keep - 1; i >= 1; i--) {
        if (Fs.existsSync(`${path}.${i}`)) Fs.renameSync(`${path}.${i}`, `${path}.${i + 1}`)
      }
      if (keep >= 1) Fs.renameSync(path, `${path}.1`)
      else Fs.truncateSync(path)
    } catch (error) {
      this.suspend(error)
    }
  }
}
