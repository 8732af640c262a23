// Moving files between the host's work directories and the sandbox, and looking inside it.
import { Context, type Effect, Schema } from "effect"
import type { HostIoFailed, PathRefused } from "../../src/interpreter/hostPaths.js"
import type { Copied, Package } from "../../src/interpreter/transferTypes.js"
import type { SandboxUnavailable } from "./Sandbox.js"
import type { UnknownSession } from "./Sessions.js"

/** The sandbox side of a transfer failed: the reason comes from there (missing file, full disk…). */
export class TransferFailed extends Schema.TaggedError<TransferFailed>("mcp-code-interpreter/TransferFailed")("TransferFailed", {
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return this.reason
  }
}

export type FileError = PathRefused | HostIoFailed | TransferFailed | UnknownSession | SandboxUnavailable

export class SandboxFiles extends Context.Tag("mcp-code-interpreter/SandboxFiles")<SandboxFiles, {
  /** WORKDIR_IN/localPath → the sandbox (default: the session's directory, same name). */
  readonly copyIn: (localPath: string, containerPath: string | undefined, sessionId: string | undefined) => Effect.Effect<Copied, FileError>
  /** A sandbox file or directory → WORKDIR_OUT/localPath (default: its own name); `asImage` also returns a PNG, JPEG, GIF, WebP or SVG file's content. */
  readonly copyOut: (
    containerPath: string,
    localPath: string | undefined,
    sessionId: string | undefined,
    options?: { readonly asImage?: boolean }
  ) => Effect.Effect<Copied, FileError>
  /** Create or replace a text file in the sandbox. */
  readonly writeFile: (containerPath: string, content: string, sessionId: string | undefined) => Effect.Effect<Copied, FileError>
  readonly listPackages: Effect.Effect<ReadonlyArray<Package>, TransferFailed | SandboxUnavailable>
}>() {}
