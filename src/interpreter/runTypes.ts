// What the interpreter driver (python/driver.py) sends and receives, as Schemas, and what a run of
// code gives back to the tools (the Sessions service speaks these types).
import { type Duration, type Effect, Schema } from "effect"

export type RunRequest =
  | { readonly t: "run"; readonly code: string }
  | { readonly t: "file"; readonly path: string }

export const DriverError = Schema.Struct({
  type: Schema.String,
  message: Schema.String,
  traceback: Schema.String
})
export type DriverError = typeof DriverError.Type

const Streams = <S extends Schema.Schema.Any>(value: S) => Schema.Struct({ stdout: value, stderr: value })

export const DriverEvent = Schema.Union(
  Schema.Struct({ t: Schema.Literal("ready"), pid: Schema.Int, python: Schema.String }),
  Schema.Struct({ t: Schema.Literal("out"), id: Schema.String, s: Schema.Literal("stdout", "stderr"), d: Schema.String }),
  Schema.Struct({
    t: Schema.Literal("done"),
    id: Schema.String,
    error: Schema.NullOr(DriverError),
    value: Schema.NullOr(Schema.String),
    /** "table": a DataFrame rendered as markdown; "repr": Python's repr. */
    value_kind: Schema.NullOr(Schema.Literal("repr", "table")),
    /** matplotlib figures shown or left open, in order, as base64 PNG. */
    figures: Schema.Array(Schema.String),
    /** What the driver did besides running the code (e.g. killed a fork bomb's processes). */
    notes: Schema.Array(Schema.String),
    seconds: Schema.Number,
    cut: Streams(Schema.Int),
    tail: Streams(Schema.String)
  })
)
export type DriverEvent = typeof DriverEvent.Type

/** What one run of code produced, as the interpreter reports it and sessions pass it on. */
export interface CellOutput {
  readonly stdout: string
  readonly stderr: string
  /** Bytes of output left out in the middle (the start and the end are kept). */
  readonly cut: { readonly stdout: number; readonly stderr: number }
  readonly error: DriverError | null
  /** The value of the code's last expression as a notebook shows it: repr(), or a markdown table for a DataFrame. */
  readonly value: string | null
  readonly valueKind: "repr" | "table" | null
  /** matplotlib figures shown or left open by the code, in order, as base64 PNG. */
  readonly figures: ReadonlyArray<string>
  readonly seconds: number
  /** What happened besides the code's own output: timeouts, restarts, lost state. */
  readonly notes: ReadonlyArray<string>
}

export type RunStatus = "ok" | "error" | "timeout" | "crashed"

/** What a run_code or run_file call produced, as Sessions reports it and the tool shows it. */
export interface RunResult extends CellOutput {
  /** null for a call without session_id (it ran in a temporary session, already deleted). */
  readonly sessionId: string | null
  readonly status: RunStatus
}

export interface RunOptions {
  readonly onOutput?: (stream: "stdout" | "stderr", text: string) => Effect.Effect<void>
  /** Instead of PY_EXEC_TIMEOUT (package installs take longer than code usually does). */
  readonly timeout?: Duration.Duration
}
