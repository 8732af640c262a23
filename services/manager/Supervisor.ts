// services/manager/: what the daemon can do, one Context.Tag per capability with the typed errors
// it raises; implemented in layers/manager/. Supervisor (this file) is the heart of it.
//
// The running set of servers: start, stop, restart, inspect, and apply a new config.
import { Context, type Effect, type Stream } from "effect"
import type { AmbiguousServer, BadState, LogLine, ReloadResult, ServerState, ServerStatus, UnknownServer } from "../../src/protocol/ManagerRpcs.js"
import type { ServerSpec } from "../../src/manager/ServerSpec.js"

export type TargetError = UnknownServer | AmbiguousServer

export class Supervisor extends Context.Tag("mcp-manager/Supervisor")<Supervisor, {
  readonly status: Effect.Effect<ReadonlyArray<ServerStatus>>
  /** The state of every server in config order: now, then again after every change (never ends). */
  readonly states: Stream.Stream<ReadonlyArray<ServerState>>
  /** Stop (if running) and start again now, skipping any backoff delay. */
  readonly restart: (target: string) => Effect.Effect<ServerStatus, TargetError>
  readonly restartAll: Effect.Effect<ReadonlyArray<ServerStatus>>
  readonly start: (target: string) => Effect.Effect<ServerStatus, TargetError | BadState>
  readonly stop: (target: string) => Effect.Effect<ServerStatus, TargetError | BadState>
  readonly logs: (target: string, options: { readonly lines: number; readonly follow: boolean }) => Stream.Stream<LogLine, TargetError>
  /** Make the running set match `specs`: unchanged servers are left untouched. */
  readonly apply: (specs: ReadonlyArray<ServerSpec>) => Effect.Effect<Omit<ReloadResult, "skipped">>
}>() {}
