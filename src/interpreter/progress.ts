// MCP progress notifications for long runs, when the client asks for them with a progress token.
import type { ServerNotification } from "@modelcontextprotocol/sdk/types.js"
import { Effect } from "effect"
import type { RunOptions } from "./runTypes.js"

/** What a tool handler gets from the SDK that progress reporting needs. */
export interface HandlerExtra {
  readonly _meta?: { readonly progressToken?: string | number | undefined } | undefined
  readonly sendNotification: (notification: ServerNotification) => Promise<void>
}

/** Longest line of output quoted in a progress message. */
const maxProgressLine = 200

/**
 * MCP progress for a long run, when the client asked for it with a progress token: the elapsed
 * time every second, and the latest output lines as they arrive.
 */
const progressOf = (extra: HandlerExtra) => {
  const token = extra._meta?.progressToken
  if (token === undefined) return undefined
  const started = Date.now()
  let last = 0
  const notify = (message: string) =>
    Effect.promise(() => {
      last = Math.max(last + 0.001, (Date.now() - started) / 1000) // progress must increase
      return extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress: last, message } })
    }).pipe(Effect.ignore)
  return {
    options: {
      onOutput: (stream: "stdout" | "stderr", chunk: string) => {
        const lines = chunk.split("\n").filter((l) => l.trim() !== "").slice(-3)
        return lines.length === 0 ? Effect.void : notify(lines.map((l) => `${stream}: ${l.slice(0, maxProgressLine)}`).join("\n"))
      }
    },
    ticking: <A, E, R>(program: Effect.Effect<A, E, R>) =>
      Effect.scoped(Effect.zipRight(
        Effect.forkScoped(
          Effect.suspend(() => notify(`running for ${Math.round((Date.now() - started) / 1000)}s`)).pipe(
            Effect.delay("1 second"),
            Effect.forever
          )
        ),
        program
      ))
  }
}

/** Run code with progress reporting when the client asked for it. */
export const runWithProgress = <A, E, R>(extra: HandlerExtra, run: (options: RunOptions) => Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  const progress = progressOf(extra)
  return progress === undefined ? run({}) : progress.ticking(run(progress.options))
}

