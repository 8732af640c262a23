// The daemon's config file, read and decoded on demand (at start and on every reload).
import { Context, type Effect } from "effect"
import type { ConfigInvalid } from "../../src/manager/config/ConfigInvalid.js"
import type { DecodedConfig } from "../../src/manager/config/jsonFormat.js"

export class ConfigSource extends Context.Tag("mcp-manager/ConfigSource")<ConfigSource, {
  readonly file: string
  readonly load: Effect.Effect<DecodedConfig, ConfigInvalid>
}>() {}
