// Reading the optional .env file of the code interpreter (dotenv syntax).
import * as Dotenv from "dotenv"
import { Effect } from "effect"
import * as Fs from "node:fs"
import { SettingsInvalid } from "../../../src/interpreter/settings.js"

/** The variables a .env file defines; none when the file does not exist. */
export const readDotenv = (path: string) =>
  Effect.try({
    try: (): Readonly<Record<string, string>> => (Fs.existsSync(path) ? Dotenv.parse(Fs.readFileSync(path)) : {}),
    catch: (error) => new SettingsInvalid({ variable: ".env", problem: `cannot read ${path}: ${String(error)}` })
  })
