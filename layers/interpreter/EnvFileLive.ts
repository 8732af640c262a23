// EnvFile read from disk with the dotenv package.
import * as Dotenv from "dotenv"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import { EnvFile } from "../../services/interpreter/EnvFile.js"
import { SettingsInvalid } from "../../src/interpreter/settings.js"

export const EnvFileLive = Layer.succeed(EnvFile, {
  read: (path) =>
    Effect.try({
      // sync-ok: start-up only, read once before the settings are decoded and anything is served
      try: (): Readonly<Record<string, string>> => (Fs.existsSync(path) ? Dotenv.parse(Fs.readFileSync(path)) : {}),
      catch: (error) => new SettingsInvalid({ variable: ".env", problem: `cannot read ${path}: ${String(error)}`, cause: error })
    })
})
