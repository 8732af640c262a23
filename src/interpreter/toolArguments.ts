// Tool arguments are strict: LLM clients mistype names, and a silently dropped `sesion_id` would run
// the code in a temporary session and lose its state. The SDK wraps a raw shape in z.object, which
// strips unknown keys; a strict object refuses them, and tools/list then says
// `additionalProperties: false`.
import * as z from "zod/v4"

/** Why a call is refused: the unknown arguments it named, and the ones this tool accepts. */
const unknownArguments = (unknown: ReadonlyArray<PropertyKey>, accepted: ReadonlyArray<string>) =>
  `unknown argument${unknown.length === 1 ? "" : "s"} ${unknown.map((key) => JSON.stringify(String(key))).join(", ")} ` +
  (accepted.length === 0 ? "(this tool takes no arguments)" : `(accepted: ${accepted.join(", ")})`)

/** A tool's input schema from the shape of its arguments: an unknown argument is an error, not dropped. */
export const strictArguments = <Shape extends z.ZodRawShape>(shape: Shape) =>
  z.strictObject(shape, {
    // only the object's own issue; each argument keeps its own message
    error: (issue) => (issue.code === "unrecognized_keys" ? unknownArguments(issue.keys, Object.keys(shape)) : undefined)
  })
