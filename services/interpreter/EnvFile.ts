// The optional .env file the code interpreter reads settings from (they lose to arguments and the environment).
import { Context, type Effect } from "effect"
import type { SettingsInvalid } from "../../src/interpreter/settings.js"

export class EnvFile extends Context.Tag("mcp-code-interpreter/EnvFile")<EnvFile, {
  /** The variables the file at `path` defines (dotenv syntax); none when it does not exist. */
  readonly read: (path: string) => Effect.Effect<Readonly<Record<string, string>>, SettingsInvalid>
}>() {}
