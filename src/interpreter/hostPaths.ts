// Rules for the host paths tools accept: relative to a work directory, and nothing that could
// name a file outside it. Symlinks are checked on the opened file itself (layers/interpreter/HostFilesLive.ts).
import { Either, Schema } from "effect"

export class PathRefused extends Schema.TaggedError<PathRefused>("mcp-code-interpreter/PathRefused")("PathRefused", {
  path: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `refused path ${JSON.stringify(this.path)}: ${this.reason}`
  }
}

export class HostIoFailed extends Schema.TaggedError<HostIoFailed>("mcp-code-interpreter/HostIoFailed")("HostIoFailed", {
  path: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

const maxPathBytes = 4096
const maxNameBytes = 255

/**
 * The components of a path relative to a work directory (empty: the directory itself). Refused:
 * absolute paths, `~`, `..` anywhere, NUL bytes, overlong paths or names.
 */
export const relativeComponents = (path: string, root: string): Either.Either<ReadonlyArray<string>, PathRefused> => {
  const refuse = (reason: string) => Either.left(new PathRefused({ path, reason }))
  if (path.includes("\0")) return refuse("it contains a NUL byte")
  if (Buffer.byteLength(path) > maxPathBytes) return refuse(`it is longer than ${maxPathBytes} bytes`)
  if (path.startsWith("/")) return refuse(`absolute paths are not allowed; give a path relative to ${root}`)
  if (path.startsWith("~")) return refuse(`"~" is not expanded; give a path relative to ${root}`)
  const components = path.split("/").filter((c) => c !== "" && c !== ".")
  if (components.includes("..")) return refuse(`".." is not allowed; give a path inside ${root}`)
  const long = components.find((c) => Buffer.byteLength(c) > maxNameBytes)
  if (long !== undefined) return refuse(`a name in it is longer than ${maxNameBytes} bytes`)
  return Either.right(components)
}

/** Is `candidate` (an absolute, resolved path) `root` itself or inside it? */
export const isInside = (root: string, candidate: string): boolean =>
  candidate === root || candidate.startsWith(root.endsWith("/") ? root : `${root}/`)
