// One persistent Python interpreter in the sandbox, started by the Sessions layer for each session
// (layers/interpreter/internal/pythonInterpreter.ts): what it can do and the error it raises. No
// Context.Tag: there is no single one to provide, each session starts its own.
import { type Duration, type Effect, Schema } from "effect"
import type { CellOutput, RunRequest } from "../../src/interpreter/runTypes.js"

/** The interpreter process is gone (it exited, was killed, or its container died). */
export class InterpreterLost extends Schema.TaggedError<InterpreterLost>("mcp-code-interpreter/InterpreterLost")("InterpreterLost", {
  exitCode: Schema.NullOr(Schema.Number),
  /** What the interpreter wrote on its own stderr last (Python's fatal errors land there). */
  detail: Schema.String
}) {}

export interface RunOutcome extends CellOutput {
  /** True when the run was stopped by a KeyboardInterrupt we sent (timeout or cancellation). */
  readonly interrupted: boolean
}

export interface RunOptions {
  readonly cap: number
  readonly timeout: Duration.Duration
  readonly onOutput?: (stream: "stdout" | "stderr", text: string) => Effect.Effect<void>
}

export interface PythonInterpreter {
  readonly generation: number
  readonly pid: number
  readonly python: string
  readonly run: (request: RunRequest, options: RunOptions) => Effect.Effect<RunOutcome, InterpreterLost>
}
