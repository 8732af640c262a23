// Docker API calls as Effects: each bounded in time, aborted when interrupted, failing with a
// DockerCallFailed that names the operation and keeps the engine's error as its cause.
import type Docker from "dockerode"
import { Effect, Schema } from "effect"
import { Readable } from "node:stream"
import { reasonOf } from "./sandboxContainer.js"

/** One Docker API call failed or got no answer in time; `operation` names it (ping, pull, exec...). */
export class DockerCallFailed extends Schema.TaggedError<DockerCallFailed>("mcp-code-interpreter/DockerCallFailed")("DockerCallFailed", {
  operation: Schema.String,
  cause: Schema.Defect
}) {
  override get message(): string {
    return `${this.operation}: ${reasonOf(this.cause)}`
  }
}

/** The container vanished under an exec: worth one retry in a fresh container. */
export class ContainerGone extends Schema.TaggedError<ContainerGone>("mcp-code-interpreter/ContainerGone")("ContainerGone", {
  reason: Schema.String,
  cause: Schema.Defect
}) {}

/**
 * One Docker API call, bounded in time: a hung engine must not hang a tool call forever. `f` gets
 * the signal that aborts its request when the call is interrupted (or times out); pass it as
 * `abortSignal` where dockerode takes one. Removals do not: they are cleanup, better finished late
 * than cut off; `ping` and an image's `inspect` take no signal (short GETs).
 */
export const dockerCall = <A>(operation: string, f: (signal: AbortSignal) => Promise<A>) =>
  Effect.tryPromise({ try: (signal) => f(signal), catch: (cause) => new DockerCallFailed({ operation, cause }) }).pipe(
    Effect.timeoutFail({
      duration: "60 seconds",
      onTimeout: () => new DockerCallFailed({ operation, cause: new Error("no answer from the Docker engine within 60s") })
    })
  )

/** Pull an image, echoing the engine's progress to stderr (stdout may carry JSON-RPC). */
export const pullImage = (docker: Docker, image: string) =>
  Effect.gen(function*() {
    yield* Effect.logInfo(`pulling ${image}`)
    const stream = yield* dockerCall("pull", (signal) => docker.pull(image, { abortSignal: signal }))
    yield* Effect.async<void, DockerCallFailed>((resume) => {
      let last = ""
      docker.modem.followProgress(
        stream,
        (error) => resume(error ? Effect.fail(new DockerCallFailed({ operation: "pull", cause: error })) : Effect.void),
        (event: { status?: string; id?: string; progress?: string }) => {
          const line = `${event.id ? `${event.id}: ` : ""}${event.status ?? ""} ${event.progress ?? ""}`.trim()
          if (line !== last) process.stderr.write(`pull ${image}: ${line}\n`)
          last = line
        }
      )
      // interrupted (or past the caller's deadline): hang up, the engine then stops sending
      return Effect.sync(() => {
        if (stream instanceof Readable) stream.destroy()
      })
    })
  })
