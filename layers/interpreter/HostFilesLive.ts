// HostFiles on the local filesystem. Every file and directory is checked after it is opened, via
// /proc/self/fd, so a symlink swapped in between a check and the use cannot lead outside the work
// directory; writes go through directory descriptors opened with O_NOFOLLOW.
import { Effect, Either, Layer, Scope } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Readable } from "node:stream"
import { pipeline } from "node:stream/promises"
import { HostFiles, type HostTarget, type SourceFile } from "../../services/interpreter/HostFiles.js"
import { HostIoFailed, isInside, PathRefused, relativeComponents } from "../../src/interpreter/hostPaths.js"

const { O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_WRONLY } = Fs.constants

/** Bounds on a directory copied in: it should be a project folder, not a disk. */
const maxEntries = 10_000
const maxDepth = 64

const fdPath = (fd: number) => `/proc/self/fd/${fd}`
const errnoOf = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code ?? String(error)

const ioFailed = (path: string) => (error: unknown) => new HostIoFailed({ path, reason: describeErrno(error), cause: error })

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

const closeQuietly = (fd: number) => {
  try {
    Fs.closeSync(fd)
  } catch {
    // already closed
  }
}

/** The real path of an open descriptor (what the kernel actually opened). */
const openedPath = (fd: number) => Fs.readlinkSync(fdPath(fd))

export const HostFilesLive = (roots: { readonly input: string; readonly output: string }) =>
  Layer.sync(HostFiles, () => {
    const realRoot = (root: string, variable: string) =>
      Effect.try({
        try: () => Fs.realpathSync(root),
        catch: (error) => new HostIoFailed({ path: root, reason: `${variable} is not usable: ${describeErrno(error)}`, cause: error })
      })

    const components = (path: string, root: string): Effect.Effect<ReadonlyArray<string>, PathRefused> =>
      Either.match(relativeComponents(path, root), { onLeft: Effect.fail, onRight: Effect.succeed })

    /** Open `path` (following symlinks) and make sure what was opened lies inside `root`. */
    const openConfined = (requested: string, path: string, root: string, flags: number) =>
      Effect.gen(function*() {
        const fd = yield* Effect.try({ try: () => Fs.openSync(path, flags), catch: ioFailed(requested) })
        const real = openedPath(fd)
        if (!isInside(root, real)) {
          closeQuietly(fd)
          return yield* new PathRefused({ path: requested, reason: `it resolves (through a symbolic link) to ${real}, outside ${root}` })
        }
        return fd
      })

    const source = (localPath: string, maxBytes: number) =>
      Effect.gen(function*() {
        const root = yield* realRoot(roots.input, "WORKDIR_IN")
        const parts = yield* components(localPath, root)
        const fd = yield* openConfined(localPath, Path.join(root, ...parts), root, O_RDONLY)
        const stat = Fs.fstatSync(fd)
        const name = parts.at(-1) ?? Path.basename(root)
        const fileAt = (path: string, display: string, fileName: string, st: Fs.Stats): SourceFile => ({
          name: fileName,
          size: st.size,
          mode: st.mode & 0o777,
          open: Effect.acquireRelease(openConfined(display, path, root, O_RDONLY), (f) => Effect.sync(() => closeQuietly(f))).pipe(
            Effect.map((f) => Fs.createReadStream("", { fd: f, autoClose: false }) as Readable)
          )
        })
        if (stat.isFile()) {
          const real = openedPath(fd)
          closeQuietly(fd)
          if (stat.size > maxBytes) {
            return yield* new HostIoFailed({ path: localPath, reason: `${stat.size} bytes is more than the ${maxBytes} allowed (PY_EXEC_MAX_FILE_SIZE)` })
          }
          return { kind: "file" as const, name, files: [fileAt(real, localPath, "", stat)], directories: [], bytes: stat.size }
        }
        if (!stat.isDirectory()) {
          closeQuietly(fd)
          return yield* new PathRefused({ path: localPath, reason: "it is neither a regular file nor a directory" })
        }
        // walk the tree through descriptors, checking every entry where it really is
        const files: Array<SourceFile> = []
        const directories: Array<string> = []
        let bytes = 0
        const walk = (dirFd: number, prefix: string, depth: number): Effect.Effect<void, PathRefused | HostIoFailed> =>
          Effect.gen(function*() {
            if (depth > maxDepth) return yield* new PathRefused({ path: localPath, reason: `it is nested deeper than ${maxDepth} levels` })
            const names = yield* Effect.try({ try: () => Fs.readdirSync(fdPath(dirFd)), catch: ioFailed(`${localPath}/${prefix}`) })
            for (const entry of names.sort()) {
              const relative = prefix === "" ? entry : `${prefix}/${entry}`
              const display = `${localPath}/${relative}`
              if (files.length + directories.length >= maxEntries) {
                return yield* new PathRefused({ path: localPath, reason: `it holds more than ${maxEntries} entries` })
              }
              const childFd = yield* openConfined(display, `${fdPath(dirFd)}/${entry}`, root, O_RDONLY)
              const childStat = Fs.fstatSync(childFd)
              if (childStat.isDirectory()) {
                directories.push(relative)
                yield* walk(childFd, relative, depth + 1).pipe(Effect.ensuring(Effect.sync(() => closeQuietly(childFd))))
              } else if (childStat.isFile()) {
                bytes += childStat.size
                if (bytes > maxBytes) {
                  closeQuietly(childFd)
                  return yield* new HostIoFailed({ path: localPath, reason: `more than the ${maxBytes} bytes allowed (PY_EXEC_MAX_FILE_SIZE)` })
                }
                files.push(fileAt(openedPath(childFd), display, relative, childStat))
                closeQuietly(childFd)
              } else {
                closeQuietly(childFd) // sockets, fifos, devices: nothing to copy
              }
            }
          })
        yield* walk(fd, "", 0).pipe(Effect.ensuring(Effect.sync(() => closeQuietly(fd))))
        return { kind: "directory" as const, name, files, directories, bytes }
      })

    /** Open (creating when missing) each directory below `dirFd`, refusing symbolic links. */
    const openDirectories = (requested: string, root: string, dirFd: number, parts: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        let current = dirFd
        for (const part of parts) {
          const path = `${fdPath(current)}/${part}`
          const existing = Fs.lstatSync(path, { throwIfNoEntry: false })
          if (existing?.isSymbolicLink()) {
            return yield* new PathRefused({ path: requested, reason: `${part} is a symbolic link; cp_out never writes through symbolic links` })
          }
          if (existing !== undefined && !existing.isDirectory()) {
            return yield* new PathRefused({ path: requested, reason: `${part} exists and is not a directory` })
          }
          if (existing === undefined) yield* Effect.try({ try: () => Fs.mkdirSync(path, { mode: 0o755 }), catch: ioFailed(requested) })
          const next = yield* openConfined(requested, path, root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW)
          yield* Effect.addFinalizer(() => Effect.sync(() => closeQuietly(next)))
          current = next
        }
        return current
      })

    const target = (localPath: string | undefined, defaultName: string, kind: "file" | "directory") =>
      Effect.gen(function*() {
        const requested = localPath ?? defaultName
        const root = yield* realRoot(roots.output, "WORKDIR_OUT")
        const rootFd = yield* Effect.acquireRelease(
          Effect.try({ try: () => Fs.openSync(root, O_RDONLY | O_DIRECTORY), catch: ioFailed(root) }),
          (fd) => Effect.sync(() => closeQuietly(fd))
        )
        const parts = yield* components(requested, root)
        let parentParts = parts.slice(0, -1)
        let name = parts.at(-1)
        // an existing directory (or none given at all) receives the default name inside it, like cp
        const named = name === undefined ? undefined : Fs.lstatSync(Path.join(root, ...parts), { throwIfNoEntry: false })
        if (name === undefined || named?.isDirectory()) {
          parentParts = [...parts]
          name = defaultName
        }
        const nameCheck = relativeComponents(name, root)
        if (Either.isLeft(nameCheck) || nameCheck.right.length !== 1) {
          return yield* new PathRefused({ path: requested, reason: `${JSON.stringify(name)} cannot be a file name` })
        }
        const parentFd = yield* openDirectories(requested, root, rootFd, parentParts)
        const finalName = name
        const placed = `${openedPath(parentFd)}/${finalName}`
        const existing = Fs.lstatSync(`${fdPath(parentFd)}/${finalName}`, { throwIfNoEntry: false })
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
            if (kind === "file") return { dirFd: parentFd, base: finalName }
            const below = yield* openDirectories(requested, root, parentFd, [finalName, ...inner.slice(0, -1)])
            return { dirFd: below, base: inner.at(-1) ?? finalName }
          }).pipe(Effect.provideService(Scope.Scope, scope))

        const writeFile: HostTarget["writeFile"] = (name, mode, content) =>
          Effect.gen(function*() {
            const { base, dirFd } = yield* locate(name)
            const display = name === "" ? placed : `${placed}/${name}`
            const finalPath = `${fdPath(dirFd)}/${base}`
            if (Fs.lstatSync(finalPath, { throwIfNoEntry: false })?.isDirectory()) {
              content.resume()
              return yield* new PathRefused({ path: requested, reason: `${display} is a directory; cp_out does not replace a directory with a file` })
            }
            const temporary = `${fdPath(dirFd)}/.${base.slice(0, 200)}.partial-${Crypto.randomBytes(4).toString("hex")}`
            const fd = yield* Effect.try({
              try: () => Fs.openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, (mode & 0o777) | 0o600),
              catch: ioFailed(display)
            })
            const written = yield* Effect.tryPromise({
              try: async () => {
                const out = Fs.createWriteStream("", { fd, autoClose: false })
                let count = 0
                content.on("data", (chunk: Buffer) => (count += chunk.length))
                await pipeline(content, out)
                return count
              },
              catch: ioFailed(display)
            }).pipe(
              Effect.ensuring(Effect.sync(() => closeQuietly(fd))),
              Effect.tapError(() => Effect.sync(() => Fs.rmSync(temporary, { force: true })))
            )
            // rename replaces a symlink at the destination itself, never the file it points to
            yield* Effect.try({ try: () => Fs.renameSync(temporary, finalPath), catch: ioFailed(display) }).pipe(
              Effect.tapError(() => Effect.sync(() => Fs.rmSync(temporary, { force: true })))
            )
            return written
          })

        const makeDirectory: HostTarget["makeDirectory"] = (name) =>
          components(name, placed).pipe(
            Effect.flatMap((inner) => openDirectories(requested, root, parentFd, [finalName, ...inner])),
            Effect.provideService(Scope.Scope, scope),
            Effect.asVoid
          )

        return { path: placed, writeFile, makeDirectory } satisfies HostTarget
      })

    return HostFiles.of({ inputRoot: roots.input, outputRoot: roots.output, source, target })
  })

