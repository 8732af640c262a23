// The process groups this daemon started, recorded in its runtime directory. A daemon killed with
// SIGKILL cannot stop its servers; the next start with the same runtime directory and socket stops
// what is left of them (only processes that still prove to be ours) before starting any server.
import { Context, type Duration, type Effect, Schema } from "effect"
import type { StopSignal } from "../../src/manager/ServerSpec.js"

export class GroupRecordFailed extends Schema.TaggedError<GroupRecordFailed>("mcp-manager/GroupRecordFailed")("GroupRecordFailed", {
  file: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `process group record ${this.file}: ${this.reason}`
  }
}

export interface StartedGroup {
  readonly server: string
  /** The group's id: the pid of the server's main process, which leads it. */
  readonly pgid: number
  /** The server's `MCP_MANAGER_RUN` value: proof, later, that a process is still ours. */
  readonly marker: string
  readonly stopSignal: StopSignal
  readonly stopTimeout: Duration.Duration
}

export class ProcessGroups extends Context.Tag("mcp-manager/ProcessGroups")<ProcessGroups, {
  /**
   * Record a group (written within milliseconds, coalesced with other changes; its processes carry
   * the run's marker meanwhile); a failed write is logged, never fatal.
   */
  readonly started: (group: StartedGroup) => Effect.Effect<void>
  /** The group is gone (stopped and swept). */
  readonly ended: (pgid: number) => Effect.Effect<void>
}>() {}
