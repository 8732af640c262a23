// What the interpreter driver (pythonDriver.ts) sends and receives, as Schemas.
import { Schema } from "effect"

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
