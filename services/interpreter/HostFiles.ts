// The host side of file transfer, confined to the work directories (WORKDIR_IN, WORKDIR_OUT).
import { Context, type Effect, type Scope } from "effect"
import type { Readable } from "node:stream"
import type { HostIoFailed, PathRefused } from "../../src/interpreter/hostPaths.js"

export interface SourceFile {
  /** Path inside the copied tree ("" when the source is a single file). */
  readonly name: string
  readonly size: number
  readonly mode: number
  /** Opens the file, checking again that it still resolves inside the work directory. */
  readonly open: Effect.Effect<Readable, PathRefused | HostIoFailed, Scope.Scope>
}

export interface HostSource {
  readonly kind: "file" | "directory"
  /** Base name of the source, the default name on the other side. */
  readonly name: string
  readonly files: ReadonlyArray<SourceFile>
  /** Directories inside the tree, parents first. */
  readonly directories: ReadonlyArray<string>
  readonly bytes: number
  /** Entries never opened nor copied (FIFOs, sockets, devices), as `name/inner (fifo)`. */
  readonly skipped: ReadonlyArray<string>
}

export interface HostTarget {
  /** Where the copy lands, for the tool's answer. */
  readonly path: string
  /** Write a file at `name` inside the target ("" is the target itself): replaced atomically, never through a symlink. */
  readonly writeFile: (name: string, mode: number, content: Readable) => Effect.Effect<number, PathRefused | HostIoFailed>
  readonly makeDirectory: (name: string) => Effect.Effect<void, PathRefused | HostIoFailed>
}

export class HostFiles extends Context.Tag("mcp-code-interpreter/HostFiles")<HostFiles, {
  readonly inputRoot: string
  readonly outputRoot: string
  /**
   * A file or directory under WORKDIR_IN, at most `maxBytes` in all. Only regular files and
   * directories are ever opened, and never in a way that waits (a FIFO would wait for a writer).
   */
  readonly source: (localPath: string, maxBytes: number) => Effect.Effect<HostSource, PathRefused | HostIoFailed>
  /**
   * The place under WORKDIR_OUT a copy goes: `localPath`, or `defaultName` when none is given or
   * `localPath` is an existing directory (like cp). An existing directory is never replaced by a file.
   */
  readonly target: (
    localPath: string | undefined,
    defaultName: string,
    kind: "file" | "directory"
  ) => Effect.Effect<HostTarget, PathRefused | HostIoFailed, Scope.Scope>
}>() {}
