// The sandbox container and running programs in it.
import { Context, type Duration, type Effect, Schema, type Scope } from "effect"
import type { Readable, Writable } from "node:stream"

/** Docker unreachable, the image missing, the container gone: the reason says which and what to do. */
export class SandboxUnavailable extends Schema.TaggedError<SandboxUnavailable>("mcp-code-interpreter/SandboxUnavailable")("SandboxUnavailable", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return this.reason
  }
}

export interface SandboxExecOptions {
  /** Numeric `uid:gid`. */
  readonly user: string
  readonly workingDir?: string
  readonly env?: Readonly<Record<string, string>>
}

/** A program running in the sandbox; it is killed (its streams destroyed) when the scope closes. */
export interface SandboxProcess {
  /** Which container it runs in: a new container (after a crash or `reset`) has a new generation. */
  readonly generation: number
  readonly stdin: Writable
  readonly stdout: Readable
  readonly stderr: Readable
  /** Exit code once the program has ended; null when the engine no longer knows. */
  readonly exitCode: Effect.Effect<number | null>
}

export class Sandbox extends Context.Tag("mcp-code-interpreter/Sandbox")<Sandbox, {
  /** Start the container if there is none (or it died), and return its generation. */
  readonly ensure: Effect.Effect<number, SandboxUnavailable>
  /** Run `command` (argv; `python` is replaced by the image's python3 or python). */
  readonly exec: (command: ReadonlyArray<string>, options: SandboxExecOptions) => Effect.Effect<SandboxProcess, SandboxUnavailable, Scope.Scope>
  /**
   * Is the container of this generation still running? Just after a kill the engine may still
   * say so: with `patience`, look again for that long before believing it.
   */
  readonly alive: (generation: number, patience?: Duration.DurationInput) => Effect.Effect<boolean>
  /**
   * Was this generation's container, found stopped by `alive`, stopped by the engine for going over
   * its memory limit? (Under gVisor the limit ends the whole sandbox, not one process.)
   */
  readonly stoppedForMemory: (generation: number) => Effect.Effect<boolean>
  /** Remove the container; the next use starts a fresh one. */
  readonly reset: Effect.Effect<void>
}>() {}
