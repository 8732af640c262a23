// Python sessions: a directory and a persistent interpreter each, with an idle TTL and a cap.
import { Context, type Duration, type Effect, Schema } from "effect"
import type { CellOutput, RunRequest } from "../../src/interpreter/runTypes.js"
import type { SandboxUnavailable } from "./Sandbox.js"

export class UnknownSession extends Schema.TaggedError<UnknownSession>()("UnknownSession", {
  sessionId: Schema.String
}) {
  override get message(): string {
    return `no session "${this.sessionId}": it was closed, expired after being idle, or never existed (call init for a new one)`
  }
}

export class SessionLimitReached extends Schema.TaggedError<SessionLimitReached>()("SessionLimitReached", {
  max: Schema.Int
}) {
  override get message(): string {
    return `${this.max} sessions are open, the most allowed (PY_EXEC_SESSION_MAX): close one with close_session or wait for an idle one to expire`
  }
}

export type RunStatus = "ok" | "error" | "timeout" | "crashed"

export interface RunResult extends CellOutput {
  /** null for a call without session_id (it ran in a temporary session, already deleted). */
  readonly sessionId: string | null
  readonly status: RunStatus
}

/** Where relative container paths of a session resolve, and the user file operations run as. */
export interface SessionContext {
  readonly sessionId: string | null
  readonly dir: string
  readonly user: string
}

export interface RunOptions {
  readonly onOutput?: (stream: "stdout" | "stderr", text: string) => Effect.Effect<void>
  /** Instead of PY_EXEC_TIMEOUT (package installs take longer than code usually does). */
  readonly timeout?: Duration.Duration
}

export class Sessions extends Context.Tag("Sessions")<Sessions, {
  readonly init: Effect.Effect<string, SessionLimitReached | SandboxUnavailable>
  readonly close: (sessionId: string) => Effect.Effect<void, UnknownSession>
  readonly run: (
    sessionId: string | undefined,
    request: RunRequest,
    options?: RunOptions
  ) => Effect.Effect<RunResult, UnknownSession | SandboxUnavailable>
  /** Run `f` in a session's context, in order with its other calls (no session: /workspace, shared). */
  readonly inContext: <A, E>(
    sessionId: string | undefined,
    f: (context: SessionContext) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | UnknownSession | SandboxUnavailable>
  /** Close every session and replace the sandbox container. */
  readonly reset: Effect.Effect<void>
  readonly ids: Effect.Effect<ReadonlyArray<string>>
}>() {}
