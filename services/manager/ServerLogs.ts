// What each server wrote: a bounded in-memory tail per server, live followers, optional files.
import { Context, type Effect, type Stream } from "effect"
import type { LogLine, OutputStream } from "../../src/protocol/ManagerRpcs.js"

export class ServerLogs extends Context.Tag("mcp-manager/ServerLogs")<ServerLogs, {
  readonly record: (server: string, stream: OutputStream, text: string) => Effect.Effect<void>
  /** The last `lines` lines, then (with `follow`) new lines as they arrive. */
  readonly read: (server: string, options: { readonly lines: number; readonly follow: boolean }) => Stream.Stream<LogLine>
  /** Why the server's log file is not being written (the disk is full, …); null while it is, or with no log file. */
  readonly fileProblem: (server: string) => Effect.Effect<string | null>
  /** Drop the tail of a server that left the config. */
  readonly forget: (server: string) => Effect.Effect<void>
}>() {}
