import { Effect } from "effect"
import type { ConfigInvalid } from "./ConfigInvalid.js"
import { decodeJsonConfig, type DecodedConfig } from "./jsonFormat.js"
import { decodeSeedConfig } from "./seedFormat.js"

/** `*.json` files are the MCP client form; anything else is the seed format (mcp_server.conf). */
export const decodeConfig = (
  file: string,
  text: string,
  env: NodeJS.ProcessEnv
): Effect.Effect<DecodedConfig, ConfigInvalid> =>
  file.toLowerCase().endsWith(".json")
    ? decodeJsonConfig(file, text, env)
    : Effect.map(decodeSeedConfig(file, text), (specs) => ({ specs, skipped: [] }))
