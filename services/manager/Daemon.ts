// The daemon as a whole: what it is, and reloading its config.
import { Context, type Effect } from "effect"
import type { ConfigInvalid, DaemonInfo, ReloadResult } from "../../src/protocol/ManagerRpcs.js"

export class Daemon extends Context.Tag("mcp-manager/Daemon")<Daemon, {
  readonly info: Effect.Effect<DaemonInfo>
  /** Read the config again and apply the difference; an invalid file leaves everything running as it was. */
  readonly reload: Effect.Effect<ReloadResult, ConfigInvalid>
}>() {}
