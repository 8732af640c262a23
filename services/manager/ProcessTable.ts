// Finding and signalling the processes a server left behind, including ones that left its
// process group (setsid daemons): every server process carries a marker in its environment.
import { Context, type Effect, type Option } from "effect"

/** Environment variable set on every server process; its value identifies one run of one server. */
export const runMarkerVar = "MCP_MANAGER_RUN"

export interface ProcessQuery {
  /** Members of this process group. */
  readonly pgid?: number
  /** Processes whose environment has `MCP_MANAGER_RUN` equal to this value, or starting with it when it ends in "/". */
  readonly marker?: string
  /**
   * Only look for the marker in processes started at or after this start time (clock ticks since
   * boot, as `startTime` gives it). A run's marker is inherited from the run's main process, so no
   * older process can carry it: this spares reading the environment of every process on the host.
   */
  readonly startedSince?: string
}

export class ProcessTable extends Context.Tag("mcp-manager/ProcessTable")<ProcessTable, {
  /** Live (not zombie) processes matching any part of the query. */
  readonly find: (query: ProcessQuery) => Effect.Effect<ReadonlyArray<number>>
  /** Send a signal to each pid; processes that are already gone are ignored. */
  readonly signal: (pids: ReadonlyArray<number>, signal: NodeJS.Signals) => Effect.Effect<void>
  /**
   * When the process started (clock ticks since boot), None when it is gone. A pid and its start
   * time together name one process: a reused pid has another start time.
   */
  readonly startTime: (pid: number) => Effect.Effect<Option.Option<string>>
}>() {}
