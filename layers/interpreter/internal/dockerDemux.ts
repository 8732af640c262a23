// Splitting a non-TTY `docker exec` stream into stdout and stderr. Docker frames each write with
// an 8-byte header (stream, 0, 0, 0, big-endian length). docker-modem's demuxStream concatenates
// its whole pending buffer for every frame, which made file transfer CPU-bound (a measured ~15% of
// the server's CPU during a 100 MB copy, plus the garbage); this one hands payloads on as slices.
import type { Readable, Writable } from "node:stream"

const headerSize = 8

export const demux = (source: Readable, stdout: Writable, stderr: Writable): void => {
  const header = Buffer.alloc(headerSize)
  let headerFilled = 0
  let remaining = 0
  let target: Writable = stdout
  const full = new Set<Writable>()

  /** Backpressure: stop reading while a consumer is full (the rest of the chunk still goes to it). */
  const write = (out: Writable, data: Buffer) => {
    if (out.write(data) || full.has(out)) return
    full.add(out)
    source.pause()
    out.once("drain", () => {
      full.delete(out)
      if (full.size === 0) source.resume()
    })
  }

  source.on("data", (chunk: Buffer) => {
    let offset = 0
    while (offset < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - offset)
        write(target, chunk.subarray(offset, offset + take))
        remaining -= take
        offset += take
        continue
      }
      const take = Math.min(headerSize - headerFilled, chunk.length - offset)
      chunk.copy(header, headerFilled, offset, offset + take)
      headerFilled += take
      offset += take
      if (headerFilled === headerSize) {
        headerFilled = 0
        target = header[0] === 2 ? stderr : stdout
        remaining = header.readUInt32BE(4)
      }
    }
  })
}
