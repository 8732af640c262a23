// Starting one server process and owning it for the lifetime of a Scope.
import { Context, type Effect, Schema, type Scope } from "effect"
import type { OutputStream } from "../../src/protocol/ManagerRpcs.js"
import type { ServerSpec } from "../../src/manager/ServerSpec.js"

export class SpawnFailed extends Schema.TaggedError<SpawnFailed>("mcp-manager/SpawnFailed")("SpawnFailed", {
  server: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.server}: cannot start: ${this.reason}`
  }
}

export interface ChildExit {
  readonly code: number | null
  readonly signal: string | null
}

export interface RunningChild {
  readonly pid: number
  /** Completes when the server's main process has exited. */
  readonly exited: Effect.Effect<ChildExit>
}

/** Receives each line the server writes (already split, bounded in length). */
export type OutputHandler = (stream: OutputStream, text: string) => Effect.Effect<void>

export class ChildProcesses extends Context.Tag("mcp-manager/ChildProcesses")<ChildProcesses, {
  /**
   * Spawn the server in its own process group with stdin held open. Closing the scope stops it:
   * `stopSignal` to the whole group and to what left it (processes carrying the run's marker),
   * `stopTimeout`, then SIGKILL to all that is left: at most `stopTimeout` + 5 s in all. What is left
   * of the group after the main process exits on its own is stopped the same way.
   */
  readonly spawn: (spec: ServerSpec, onOutput: OutputHandler) => Effect.Effect<RunningChild, SpawnFailed, Scope.Scope>
}>() {}
