// How tool results look: text for the model, structuredContent matching each tool's outputSchema.
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { Duration, Effect } from "effect"
import * as z from "zod/v4"
import type { RunResult } from "./runTypes.js"
import type { Copied, Package } from "./transferTypes.js"

export const text = (t: string) => ({ type: "text" as const, text: t })

/** A failure the user can act on: one line, no stack. */
export const toolError = (message: string): CallToolResult => ({ isError: true, content: [text(message)] })

export const ok = (summary: string, structuredContent: Record<string, unknown>): CallToolResult => ({
  content: [text(summary)],
  structuredContent
})

/** Expected failures of any tool (they all carry a message written for the user). */
export const failed = <A, E extends { readonly message: string }, R>(program: Effect.Effect<A, E, R>, f: (a: A) => CallToolResult) =>
  program.pipe(Effect.match({ onFailure: (e) => toolError(e.message), onSuccess: f }))

export const sessionIdArg = z.string().min(1).max(64).optional().describe(
  "Session from init. Omit to run in a temporary session that is deleted right after the call."
)

const exceptionShape = z.object({ type: z.string(), message: z.string(), traceback: z.string() })

export const runOutput = {
  session_id: z.string().nullable().describe("The session the code ran in; null for a temporary session"),
  status: z.enum(["ok", "error", "timeout", "crashed"]),
  stdout: z.string(),
  stderr: z.string(),
  stdout_truncated_bytes: z.number().int().describe("Bytes cut from the middle of stdout (its start and end are kept)"),
  stderr_truncated_bytes: z.number().int(),
  value: z.string().nullable().describe("The last expression's value as a notebook shows it: repr(), or a markdown table for a pandas DataFrame"),
  value_kind: z.enum(["repr", "table"]).nullable(),
  figures: z.number().int().describe("matplotlib figures returned as image content, in order"),
  exception: exceptionShape.nullable(),
  duration_ms: z.number(),
  notes: z.array(z.string()).describe("Timeouts, restarts, lost state")
}

export const copyOutput = {
  session_id: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  files: z.number().int(),
  bytes: z.number().int(),
  skipped: z.array(z.string())
}

/** What the model reads: output first, then the value, the traceback and any notes. */
const runText = (r: RunResult): string => {
  const parts: Array<string> = []
  if (r.stdout !== "") parts.push(r.stdout.replace(/\n$/, ""))
  if (r.stderr !== "") parts.push(`[stderr]\n${r.stderr.replace(/\n$/, "")}`)
  if (r.value !== null) parts.push(r.valueKind === "table" ? `Out:\n${r.value}` : `Out: ${r.value}`)
  if (r.error !== null) parts.push(r.error.traceback.replace(/\n$/, ""))
  for (const note of r.notes) parts.push(`[note] ${note}`)
  if (parts.length === 0) parts.push("(no output)")
  return parts.join("\n")
}

export const runResult = (r: RunResult): CallToolResult => ({
  isError: r.status !== "ok",
  content: [text(runText(r)), ...r.figures.map((data) => ({ type: "image" as const, data, mimeType: "image/png" }))],
  structuredContent: {
    session_id: r.sessionId,
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    stdout_truncated_bytes: r.cut.stdout,
    stderr_truncated_bytes: r.cut.stderr,
    value: r.value,
    value_kind: r.valueKind,
    figures: r.figures.length,
    exception: r.error,
    duration_ms: Math.round(r.seconds * 1000 * 10) / 10,
    notes: [...r.notes]
  }
})

export const copyResult = (sessionId: string | undefined, c: Copied): CallToolResult =>
  ok(
    `copied ${c.files} file(s), ${c.bytes} bytes: ${c.from} → ${c.to}${c.skipped.length ? `; skipped ${c.skipped.join(", ")}` : ""}`,
    { session_id: sessionId ?? null, from: c.from, to: c.to, files: c.files, bytes: c.bytes, skipped: [...c.skipped] }
  )


/** cp_out's copy, with the picture asked for (or why there is none) after the summary. */
export const copyOutResult = (sessionId: string | undefined, c: Copied): CallToolResult => {
  const result = copyResult(sessionId, c)
  return {
    ...result,
    content: [
      ...result.content,
      ...(c.image ? [{ type: "image" as const, data: c.image.data, mimeType: c.image.mimeType }] : []),
      ...(c.imageNote ? [text(c.imageNote)] : [])
    ]
  }
}

export const sessionStarted = (id: string, idleTimeout: Duration.Duration): CallToolResult =>
  ok(`session ${id} started (directory /workspace/sessions/${id})`, {
    session_id: id,
    directory: `/workspace/sessions/${id}`,
    idle_timeout_seconds: Duration.toSeconds(idleTimeout)
  })

export const sessionClosed = (id: string): CallToolResult => ok(`session ${id} closed`, { session_id: id, closed: true })

export const packagesResult = (packages: ReadonlyArray<Package>): CallToolResult =>
  ok(packages.map((p) => `${p.name}==${p.version}`).join("\n") || "(no packages)", { packages: [...packages], count: packages.length })

export const sandboxReset = (closed: number): CallToolResult =>
  ok(`sandbox reset: ${closed} session(s) closed; the next call starts a new container`, { sessions_closed: closed })
