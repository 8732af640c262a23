// ConfigSource reading a file from disk.
import { Effect, Layer } from "effect"
import * as Fs from "node:fs/promises"
import { ConfigSource } from "../../services/manager/ConfigSource.js"
import { ConfigInvalid } from "../../src/manager/config/ConfigInvalid.js"
import { decodeConfig } from "../../src/manager/config/decodeConfig.js"

/** A config larger than this is surely not a config (and would be slow to decode). */
const maxConfigBytes = 4 * 1024 * 1024

export const ConfigSourceLive = (file: string) =>
  Layer.succeed(ConfigSource, {
    file,
    load: Effect.gen(function*() {
      const cannotRead = (reason: string, cause?: unknown) => new ConfigInvalid({ file, problems: [`cannot read the config: ${reason}`], cause })
      const stat = yield* Effect.tryPromise({
        try: () => Fs.stat(file),
        catch: (error) => cannotRead((error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : String(error), error)
      })
      if (!stat.isFile()) return yield* cannotRead("not a regular file")
      if (stat.size > maxConfigBytes) return yield* cannotRead(`${stat.size} bytes is more than the ${maxConfigBytes} allowed`)
      const text = yield* Effect.tryPromise({ try: () => Fs.readFile(file, "utf8"), catch: (error) => cannotRead(String(error), error) })
      return yield* decodeConfig(file, text, process.env)
    })
  })
