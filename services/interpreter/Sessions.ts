// services/interpreter/: what the code interpreter can do, one Context.Tag per capability with the
// typed errors it raises; implemented in layers/interpreter/. Sessions (this file) is the heart of it.
//
// Python sessions: a directory and a persistent interpreter each, with an idle TTL and a cap.
import { Context, type Effect, Schema } from "effect"
import type { RunOptions, RunRequest, RunResult } from "../../src/interpreter/runTypes.js"
import type { SandboxUnavailable } from "./Sandbox.js"

export class UnknownSession extends Schema.TaggedError<UnknownSession>("mcp-code-interpreter/UnknownSession")("UnknownSession", {
  sessionId: Schema.String
}) {
  override get message(): string {
    return `no session "${this.sessionId}": it was closed, expired after being idle, or never existed (call init for a new one)`
  }
}

export class SessionLimitReached extends Schema.TaggedError<SessionLimitReached>("mcp-code-interpreter/SessionLimitReached")("SessionLimitReached", {
  max: Schema.Int
}) {
  override get message(): string {
    return `${this.max} sessions are open, the most allowed (PY_EXEC_SESSION_MAX): close one with close_session or wait for an idle one to expire`
  }
}

/** Where relative container paths of a session resolve, and the user file operations run as. */
export interface SessionContext {
  readonly sessionId: string | null
  readonly dir: string
  readonly user: string
}

export class Sessions extends Context.Tag("mcp-code-interpreter/Sessions")<Sessions, {
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
