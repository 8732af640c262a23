// HostFiles on the local filesystem. Every file and directory is checked after it is opened, via
// /proc/self/fd, so a symlink swapped in between a check and the use cannot lead outside the work
// directory; writes go through directory descriptors opened with O_NOFOLLOW. Nothing here blocks
// the event loop: every call is asynchronous (node:fs/promises), and nothing but a regular file or
// a directory is ever opened, each with O_NONBLOCK (a FIFO opened for reading waits for a writer).
import { Effect, Either, Layer, Scope } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Path from "node:path"
import type { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { HostFiles, type HostTarget, type SourceFile } from "../../services/interpreter/HostFiles.js"
import { HostIoFailed, isInside, PathRefused, relativeComponents } from "../../src/interpreter/hostPaths.js"

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_WRONLY } = Fs.constants

/** Reading: the path is resolved and checked first, so never follow a link, and never wait. */
const readFlags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY

/** Bounds on a directory copied in: it should be a project folder, not a disk. */
const maxEntries = 10_000
const maxDepth = 64

const fdPath = (handle: FsP.FileHandle) => `/proc/self/fd/${handle.fd}`
const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code ?? String(error)

const ioFailed = (path: string) => (error: unknown) => new HostIoFailed({ path, reason: describeErrno(error), cause: error })

/** One asynchronous filesystem call, its failure reported against the path the client gave. */
const attempt = <A>(requested: string, run: () => Promise<A>) => Effect.tryPromise({ try: run, catch: ioFailed(requested) })

const describeErrno = (error: unknown): string => {
  switch (errnoOf(error)) {
    case "ENOENT":
      return "no such file or directory"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "ENOSPC":
      return "no space left on the device"
    case "EISDIR":
      return "is a directory"
    case "ENOTDIR":
      return "a component of the path is not a directory"
    case "ELOOP":
      return "too many levels of symbolic links (a loop?)"
    default:
      return error instanceof Error ? error.message : String(error)
  }
}

const closeQuietly = (handle: FsP.FileHandle) => Effect.promise(() => handle.close().catch(() => undefined))

/** lstat, or undefined when nothing is there. */
const lstatIfAny = (requested: string, path: string) =>
  attempt(requested, () => FsP.lstat(path).catch((error: unknown) => (errnoOf(error) === "ENOENT" ? undefined : Promise.reject(error))))

/** What an entry that is neither a regular file nor a directory is, in tar's words (as cp_out's notes). */
const kindOf = (stat: Fs.Stats) =>
  stat.isFIFO()
    ? "fifo"
    : stat.isSocket()
    ? "socket"
    : stat.isCharacterDevice()
    ? "character-device"
    : stat.isBlockDevice()
    ? "block-device"
    : stat.isSymbolicLink()
    ? "symlink"
    : "unknown"

const outside = (requested: string, real: string, root: string) =>
  new PathRefused({ path: requested, reason: `it resolves (through a symbolic link) to ${real}, outside ${root}` })

export const HostFilesLive = (roots: { readonly input: string; readonly output: string }) =>
  Layer.sync(HostFiles, () => {
    const realRoot = (root: string, variable: string) =>
      Effect.tryPromise({
        try: () => FsP.realpath(root),
        catch: (error) => new HostIoFailed({ path: root, reason: `${variable} is not usable: ${describeErrno(error)}`, cause: error })
      })

    const components = (path: string, root: string): Effect.Effect<ReadonlyArray<string>, PathRefused> =>
      Either.match(relativeComponents(path, root), { onLeft: Effect.fail, onRight: Effect.succeed })

    /**
     * Open `path` and make sure what was opened lies inside `root` (the real path of the open
     * descriptor, so a link swapped into a parent since any check is caught). Closed with the scope.
     */
    const openConfined = (requested: string, path: string, root: string, flags: number) =>
      Effect.gen(function*() {
        const handle = yield* Effect.acquireRelease(attempt(requested, () => FsP.open(path, flags)), closeQuietly)
        const real = yield* attempt(requested, () => FsP.readlink(fdPath(handle)))
        if (!isInside(root, real)) return yield* outside(requested, real, root)
        return { handle, real }
      })

    /**
     * What `path` is, without opening it: its lstat, and for a symbolic link that of the real path it
     * leads to, which must lie inside `root`.
     */
    const inspect = (requested: string, path: string, root: string) =>
      Effect.gen(function*() {
        const stat = yield* attempt(requested, () => FsP.lstat(path))
        if (!stat.isSymbolicLink()) return { path, stat }
        const real = yield* attempt(requested, () => FsP.realpath(path))
        if (!isInside(root, real)) return yield* outside(requested, real, root)
        return { path: real, stat: yield* attempt(requested, () => FsP.lstat(real)) }
      })

    /** Open a regular file or directory `inspect` found, checking the one opened is that same one. */
    const openInspected = (requested: string, found: { readonly path: string; readonly stat: Fs.Stats }, root: string) =>
      Effect.gen(function*() {
        const { handle, real } = yield* openConfined(requested, found.path, root, readFlags)
        const stat = yield* attempt(requested, () => handle.stat())
        if (stat.dev !== found.stat.dev || stat.ino !== found.stat.ino) {
          return yield* new PathRefused({ path: requested, reason: "it was replaced while being opened" })
        }
        return { handle, real, stat }
      })

    const source = (localPath: string, maxBytes: number) =>
      Effect.gen(function*() {
        const root = yield* realRoot(roots.input, "WORKDIR_IN")
        const parts = yield* components(localPath, root)
        const name = parts.at(-1) ?? Path.basename(root)
        // every component resolved before anything is opened: a link out is refused, never followed
        const real = yield* attempt(localPath, () => FsP.realpath(Path.join(root, ...parts)))
        if (!isInside(root, real)) return yield* outside(localPath, real, root)
        const top = yield* inspect(localPath, real, root)
        const fileAt = (path: string, display: string, fileName: string, st: Fs.Stats): SourceFile => ({
          name: fileName,
          size: st.size,
          mode: st.mode & 0o777,
          open: Effect.gen(function*() {
            const found = yield* inspect(display, path, root)
            if (!found.stat.isFile()) return yield* new PathRefused({ path: display, reason: `it is no longer a regular file (a ${kindOf(found.stat)})` })
            const { handle } = yield* openInspected(display, found, root)
            return handle.createReadStream() as Readable // closes the handle at its end; the scope closes it otherwise
          })
        })
        if (top.stat.isFile()) {
          const opened = yield* Effect.scoped(openInspected(localPath, top, root))
          if (opened.stat.size > maxBytes) {
            return yield* new HostIoFailed({ path: localPath, reason: `${opened.stat.size} bytes is more than the ${maxBytes} allowed (PY_EXEC_MAX_FILE_SIZE)` })
          }
          const files = [fileAt(opened.real, localPath, "", opened.stat)]
          return { kind: "file" as const, name, files, directories: [], bytes: opened.stat.size, skipped: [] }
        }
        if (!top.stat.isDirectory()) {
          return yield* new PathRefused({ path: localPath, reason: `it is a ${kindOf(top.stat)}, neither a regular file nor a directory` })
        }
        // walk the tree through descriptors, checking every entry where it really is
        const files: Array<SourceFile> = []
        const directories: Array<string> = []
        const skipped: Array<string> = []
        let bytes = 0
        const walk = (dir: FsP.FileHandle, prefix: string, depth: number): Effect.Effect<void, PathRefused | HostIoFailed> =>
          Effect.gen(function*() {
            if (depth > maxDepth) return yield* new PathRefused({ path: localPath, reason: `it is nested deeper than ${maxDepth} levels` })
            const names = yield* attempt(`${localPath}/${prefix}`, () => FsP.readdir(fdPath(dir)))
            for (const entry of names.sort()) {
              const relative = prefix === "" ? entry : `${prefix}/${entry}`
              const display = `${localPath}/${relative}`
              if (files.length + directories.length + skipped.length >= maxEntries) {
                return yield* new PathRefused({ path: localPath, reason: `it holds more than ${maxEntries} entries` })
              }
              const found = yield* inspect(display, `${fdPath(dir)}/${entry}`, root)
              if (found.stat.isDirectory()) {
                directories.push(relative)
                yield* Effect.scoped(Effect.flatMap(openInspected(display, found, root), ({ handle }) => walk(handle, relative, depth + 1)))
              } else if (found.stat.isFile()) {
                const opened = yield* Effect.scoped(openInspected(display, found, root))
                bytes += opened.stat.size
                if (bytes > maxBytes) {
                  return yield* new HostIoFailed({ path: localPath, reason: `more than the ${maxBytes} bytes allowed (PY_EXEC_MAX_FILE_SIZE)` })
                }
                files.push(fileAt(opened.real, display, relative, opened.stat))
              } else {
                skipped.push(`${name}/${relative} (${kindOf(found.stat)})`) // fifos, sockets, devices: never opened
              }
            }
          })
        yield* Effect.scoped(Effect.flatMap(openInspected(localPath, top, root), ({ handle }) => walk(handle, "", 0)))
        return { kind: "directory" as const, name, files, directories, bytes, skipped }
      })

    /** Open (creating when missing) each directory below `dir`, refusing symbolic links. */
    const openDirectories = (requested: string, root: string, dir: FsP.FileHandle, parts: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        let current = dir
        for (const part of parts) {
          const path = `${fdPath(current)}/${part}`
          const existing = yield* lstatIfAny(requested, path)
          if (existing?.isSymbolicLink()) {
            return yield* new PathRefused({ path: requested, reason: `${part} is a symbolic link; cp_out never writes through symbolic links` })
          }
          if (existing !== undefined && !existing.isDirectory()) {
            return yield* new PathRefused({ path: requested, reason: `${part} exists and is not a directory` })
          }
          if (existing === undefined) yield* attempt(requested, () => FsP.mkdir(path, { mode: 0o755 }))
          const next = yield* openConfined(requested, path, root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK)
          current = next.handle
        }
        return current
      })

    const target = (localPath: string | undefined, defaultName: string, kind: "file" | "directory") =>
      Effect.gen(function*() {
        const requested = localPath ?? defaultName
        const root = yield* realRoot(roots.output, "WORKDIR_OUT")
        const rootDir = yield* Effect.acquireRelease(attempt(root, () => FsP.open(root, O_RDONLY | O_DIRECTORY | O_NONBLOCK)), closeQuietly)
        const parts = yield* components(requested, root)
        let parentParts = parts.slice(0, -1)
        let name = parts.at(-1)
        // an existing directory (or none given at all) receives the default name inside it, like cp
        const named = name === undefined ? undefined : yield* lstatIfAny(requested, Path.join(root, ...parts))
        if (name === undefined || named?.isDirectory()) {
          parentParts = [...parts]
          name = defaultName
        }
        const nameCheck = relativeComponents(name, root)
        if (Either.isLeft(nameCheck) || nameCheck.right.length !== 1) {
          return yield* new PathRefused({ path: requested, reason: `${JSON.stringify(name)} cannot be a file name` })
        }
        const parentDir = yield* openDirectories(requested, root, rootDir, parentParts)
        const finalName = name
        const placed = `${yield* attempt(requested, () => FsP.readlink(fdPath(parentDir)))}/${finalName}`
        const existing = yield* lstatIfAny(requested, `${fdPath(parentDir)}/${finalName}`)
        if (kind === "file" && existing?.isDirectory()) {
          return yield* new PathRefused({ path: requested, reason: `${placed} is a directory; cp_out does not replace a directory with a file` })
        }
        if (kind === "directory" && existing !== undefined && !existing.isDirectory()) {
          return yield* new PathRefused({ path: requested, reason: `${placed} exists and is not a directory` })
        }
        const scope = yield* Effect.scope

        /** Directory holding `name` inside the target, and the file's own name. */
        const locate = (name: string) =>
          Effect.gen(function*() {
            const inner = yield* components(name, placed)
            if (kind === "file") return { dir: parentDir, base: finalName }
            const below = yield* openDirectories(requested, root, parentDir, [finalName, ...inner.slice(0, -1)])
            return { dir: below, base: inner.at(-1) ?? finalName }
          }).pipe(Effect.provideService(Scope.Scope, scope))

        const writeFile: HostTarget["writeFile"] = (name, mode, content) =>
          Effect.gen(function*() {
            const { base, dir } = yield* locate(name)
            const display = name === "" ? placed : `${placed}/${name}`
            const finalPath = `${fdPath(dir)}/${base}`
            if ((yield* lstatIfAny(display, finalPath))?.isDirectory()) {
              content.resume()
              return yield* new PathRefused({ path: requested, reason: `${display} is a directory; cp_out does not replace a directory with a file` })
            }
            const temporary = `${fdPath(dir)}/.${base.slice(0, 200)}.partial-${Crypto.randomBytes(4).toString("hex")}`
            const removeTemporary = Effect.promise(() => FsP.rm(temporary, { force: true }).catch(() => undefined))
            const written = yield* Effect.scoped(Effect.gen(function*() {
              const handle = yield* Effect.acquireRelease(
                attempt(display, () => FsP.open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, (mode & 0o777) | 0o600)),
                closeQuietly
              )
              return yield* attempt(display, async () => {
                const out = handle.createWriteStream() // closes the handle when done (with autoClose: false, close() never settles)
                let count = 0
                content.on("data", (chunk: Buffer) => (count += chunk.length))
                await pipeline(content, out)
                return count
              })
            })).pipe(Effect.tapError(() => removeTemporary))
            // rename replaces a symlink at the destination itself, never the file it points to
            yield* attempt(display, () => FsP.rename(temporary, finalPath)).pipe(Effect.tapError(() => removeTemporary))
            return written
          })

        const makeDirectory: HostTarget["makeDirectory"] = (name) =>
          components(name, placed).pipe(
            Effect.flatMap((inner) => openDirectories(requested, root, parentDir, [finalName, ...inner])),
            Effect.provideService(Scope.Scope, scope),
            Effect.asVoid
          )

        return { path: placed, writeFile, makeDirectory } satisfies HostTarget
      })

    return HostFiles.of({ inputRoot: roots.input, outputRoot: roots.output, source, target })
  })
