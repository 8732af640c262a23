// SandboxFiles: tar streams (tar-stream on the host, Python's tarfile in the sandbox) over
// `docker exec`, run as the session's user so the files belong to it.
import { Cause, Effect, Exit, Layer, Runtime, Schema, Scope } from "effect"
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Path from "node:path"
import type { Readable, Writable } from "node:stream"
import { pipeline } from "node:stream/promises"
import * as Tar from "tar-stream"
import { HostFiles } from "../../services/interpreter/HostFiles.js"
import { Sandbox } from "../../services/interpreter/Sandbox.js"
import { SandboxFiles, TransferFailed } from "../../services/interpreter/SandboxFiles.js"
import { type SessionContext, Sessions } from "../../services/interpreter/Sessions.js"
import { HostIoFailed, PathRefused, relativeComponents } from "../../src/interpreter/hostPaths.js"
import { extractTar, listPackages, packTar } from "../../src/interpreter/pythonPrograms.js"
import type { Copied } from "../../src/interpreter/transferTypes.js"

/** What a helper may print on stdout / stderr and be kept: enough for JSON answers and errors. */
const maxAnswerBytes = 4 * 1024 * 1024
const maxErrorBytes = 16 * 1024

// no cleanup: the stream is a sandbox program's, destroyed when the exec's scope closes
const collect = (stream: Readable, limit: number) =>
  Effect.async<string>((resume) => {
    let text = ""
    stream.setEncoding("utf8")
    stream.on("data", (chunk: string) => {
      if (text.length < limit) text += chunk.slice(0, limit - text.length)
    })
    stream.once("end", () => resume(Effect.succeed(text)))
    stream.once("error", () => resume(Effect.succeed(text)))
  })

const lastLine = (text: string) => text.trim().split("\n").at(-1) ?? ""

const Written = Schema.parseJson(Schema.Struct({ written: Schema.Array(Schema.String), bytes: Schema.Number }))
const Packages = Schema.parseJson(Schema.Array(Schema.Struct({ name: Schema.String, version: Schema.String })))

const imageTypes: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".gif": "image/gif",
  ".webp": "image/webp",
  ".svg": "image/svg+xml"
}
/** Images larger than this stay files: a client would choke on the base64. */
const maxImageBytes = 4 * 1024 * 1024

/**
 * The copied file as image content, read back without following a symlink swapped in since, nor
 * waiting on a FIFO (O_NONBLOCK; only a regular file is read).
 */
const imageOf = (path: string, files: number): Effect.Effect<Pick<Copied, "image" | "imageNote">> => {
  const mimeType = imageTypes[Path.extname(path).toLowerCase()]
  if (files !== 1 || mimeType === undefined) {
    return Effect.succeed({ imageNote: `not returned as an image: ${path} is not a single PNG, JPEG, GIF, WebP or SVG file` })
  }
  return Effect.promise(async (): Promise<Pick<Copied, "image" | "imageNote">> => {
    try {
      const handle = await FsP.open(path, Fs.constants.O_RDONLY | Fs.constants.O_NOFOLLOW | Fs.constants.O_NONBLOCK)
      try {
        const stat = await handle.stat()
        if (!stat.isFile()) return { imageNote: `not returned as an image: ${path} is not a regular file` }
        if (stat.size > maxImageBytes) return { imageNote: `not returned as an image: ${stat.size} bytes is more than ${maxImageBytes}` }
        return { image: { data: (await handle.readFile()).toString("base64"), mimeType } }
      } finally {
        await handle.close()
      }
    } catch (error) {
      return { imageNote: `not returned as an image: ${error instanceof Error ? error.message : String(error)}` }
    }
  })
}

/** Container paths: absolute as given, relative to the session's directory (or /workspace). */
const inSandbox = (context: SessionContext, path: string) =>
  path.includes("\0")
    ? Effect.fail(new PathRefused({ path, reason: "it contains a NUL byte" }))
    : Effect.succeed(path.startsWith("/") ? Path.posix.normalize(path) : Path.posix.join(context.dir, path))

export const SandboxFilesLive = (settings: { readonly maxFile: number }) =>
  Layer.effect(
    SandboxFiles,
    Effect.gen(function*() {
      const sandbox = yield* Sandbox
      const sessions = yield* Sessions
      const host = yield* HostFiles
      const runtime = yield* Effect.runtime<never>()
      /** Run an effect from inside stream-handling async code; its typed error is thrown as is. */
      const runOrThrow = async <A, E>(effect: Effect.Effect<A, E>): Promise<A> => {
        const exit = await Runtime.runPromiseExit(runtime)(effect)
        if (Exit.isSuccess(exit)) return exit.value
        throw Cause.squash(exit.cause)
      }

      /** Run a helper to the end, feeding its stdin; fails with its last stderr line. */
      const runHelper = (
        context: SessionContext,
        argv: ReadonlyArray<string>,
        feed: (stdin: Writable) => Promise<void>
      ) =>
        Effect.scoped(Effect.gen(function*() {
          const helper = yield* sandbox.exec(["python", "-c", ...argv], { user: context.user, workingDir: context.dir })
          const [answer, errors, fed] = yield* Effect.all([
            collect(helper.stdout, maxAnswerBytes),
            collect(helper.stderr, maxErrorBytes),
            Effect.tryPromise({ try: () => feed(helper.stdin), catch: (e) => e }).pipe(Effect.either)
          ], { concurrency: "unbounded" })
          const exitCode = yield* helper.exitCode
          // a refused or unreadable host file stops the feed: that is the error to report
          if (fed._tag === "Left" && (fed.left instanceof PathRefused || fed.left instanceof HostIoFailed)) {
            return yield* Effect.fail(fed.left)
          }
          if (exitCode !== 0) {
            return yield* new TransferFailed({ reason: lastLine(errors) || `the sandbox helper exited with code ${exitCode}` })
          }
          return answer
        }))

      /** Send a tar of `entries` to the extractor in the sandbox. */
      const sendTar = (
        context: SessionContext,
        target: string,
        single: boolean,
        baseName: string,
        fill: (pack: Tar.Pack) => Promise<void>
      ) =>
        runHelper(context, [extractTar, target, single ? "1" : "0", baseName], async (stdin) => {
          const pack = Tar.pack()
          const sending = pipeline(pack, stdin)
          try {
            await fill(pack)
          } finally {
            pack.finalize()
          }
          await sending
        }).pipe(
          Effect.flatMap((answer) =>
            Schema.decodeUnknown(Written)(answer.trim()).pipe(
              Effect.mapError((cause) => new TransferFailed({ reason: `unexpected answer from the sandbox: ${answer.slice(0, 200)}`, cause }))
            )
          )
        )

      const owner = (context: SessionContext) => {
        const [uid, gid] = context.user.split(":").map(Number)
        return { uid: uid ?? 0, gid: gid ?? 0 }
      }

      const copyIn = (localPath: string, containerPath: string | undefined, sessionId: string | undefined) =>
        Effect.gen(function*() {
          const source = yield* host.source(localPath, settings.maxFile)
          return yield* sessions.inContext(sessionId, (context) =>
            Effect.gen(function*() {
              const target = yield* inSandbox(context, containerPath ?? source.name)
              const ids = owner(context)
              const written = yield* sendTar(context, target, source.kind === "file", source.name, async (pack) => {
                for (const directory of source.directories) {
                  pack.entry({ name: directory, type: "directory", mode: 0o755, ...ids })
                }
                for (const file of source.files) {
                  // one file open at a time: its descriptor closes as soon as it is sent
                  await runOrThrow(Effect.scoped(Effect.flatMap(file.open, (content) =>
                    Effect.promise(() => {
                      const entry = pack.entry({ name: file.name || source.name, type: "file", size: file.size, mode: file.mode | 0o600, ...ids })
                      return pipeline(content, entry)
                    }))))
                }
              })
              return {
                from: `${host.inputRoot}/${localPath}`.replace(/\/+/g, "/"),
                to: source.kind === "file" ? written.written[0] ?? target : target,
                files: written.written.length,
                bytes: written.bytes,
                skipped: source.skipped
              } satisfies Copied
            }))
        })

      const writeFile = (containerPath: string, content: string, sessionId: string | undefined) =>
        Effect.gen(function*() {
          const bytes = Buffer.from(content, "utf8")
          if (bytes.length > settings.maxFile) {
            return yield* new TransferFailed({ reason: `${bytes.length} bytes is more than the ${settings.maxFile} allowed (PY_EXEC_MAX_FILE_SIZE)` })
          }
          return yield* sessions.inContext(sessionId, (context) =>
            Effect.gen(function*() {
              const target = yield* inSandbox(context, containerPath)
              if (target.endsWith("/")) return yield* new PathRefused({ path: containerPath, reason: "it names a directory, not a file" })
              const ids = owner(context)
              const written = yield* sendTar(context, target, true, Path.posix.basename(target), async (pack) => {
                await new Promise<void>((resolve, reject) =>
                  pack.entry({ name: "file", type: "file", size: bytes.length, mode: 0o644, ...ids }, bytes, (e) => (e ? reject(e) : resolve()))
                )
              })
              return { from: "content", to: written.written[0] ?? target, files: 1, bytes: written.bytes, skipped: [] } satisfies Copied
            }))
        })

      const copyOut = (
        containerPath: string,
        localPath: string | undefined,
        sessionId: string | undefined,
        options: { readonly asImage?: boolean } = {}
      ) =>
        sessions.inContext(sessionId, (context) =>
          Effect.scoped(Effect.gen(function*() {
            const source = yield* inSandbox(context, containerPath)
            const baseName = Path.posix.basename(source) || "workspace"
            const helper = yield* sandbox.exec(["python", "-c", packTar, source], { user: context.user, workingDir: context.dir })
            const errors = collect(helper.stderr, maxErrorBytes).pipe(Effect.fork)
            const errorFiber = yield* errors
            const scope = yield* Effect.scope
            const extract = Tar.extract()
            helper.stdout.pipe(extract)
            helper.stdin.end()

            const result = yield* Effect.tryPromise({
              try: async () => {
                let target: Effect.Effect.Success<ReturnType<typeof host.target>> | undefined
                let files = 0
                let bytes = 0
                const skipped: Array<string> = []
                for await (const entry of extract) {
                  const { name: entryName, size = 0, type, mode = 0o644 } = entry.header
                  // the archive comes from the sandbox: its names are checked like any untrusted path
                  const parts = relativeComponents(entryName, source)
                  if (parts._tag === "Left" || parts.right[0] !== baseName) {
                    entry.resume()
                    throw new PathRefused({ path: entryName, reason: "the sandbox sent a name outside the copied path" })
                  }
                  const inner = parts.right.slice(1).join("/")
                  if (target === undefined) {
                    const kind = type === "directory" ? "directory" : "file"
                    target = await runOrThrow(host.target(localPath, baseName, kind).pipe(Effect.provideService(Scope.Scope, scope)))
                  }
                  if (type === "directory") {
                    await runOrThrow(target.makeDirectory(inner))
                    entry.resume()
                  } else if (type === "file" || type === "contiguous-file") {
                    bytes += size
                    if (bytes > settings.maxFile) {
                      entry.resume()
                      throw new HostIoFailed({ path: containerPath, reason: `more than the ${settings.maxFile} bytes allowed (PY_EXEC_MAX_FILE_SIZE)` })
                    }
                    await runOrThrow(target.writeFile(inner, mode, entry))
                    files++
                  } else {
                    skipped.push(`${entryName} (${type ?? "unknown"})`)
                    entry.resume()
                  }
                }
                return { target, files, bytes, skipped }
              },
              catch: (error) =>
                error instanceof PathRefused || error instanceof HostIoFailed
                  ? error
                  : new TransferFailed({ reason: error instanceof Error ? error.message : String(error), cause: error })
            })
            const exitCode = yield* helper.exitCode
            const stderr = yield* errorFiber.await.pipe(Effect.map((exit) => (exit._tag === "Success" ? exit.value : "")))
            if (exitCode !== 0 || result.target === undefined) {
              return yield* new TransferFailed({
                reason: exitCode === 2
                  ? `no such file or directory in the sandbox: ${source}`
                  : lastLine(stderr) || `nothing to copy from ${source}`
              })
            }
            const copied: Copied = { from: source, to: result.target.path, files: result.files, bytes: result.bytes, skipped: result.skipped }
            return options.asImage ? { ...copied, ...(yield* imageOf(copied.to, result.files)) } : copied
          })))

      return SandboxFiles.of({
        copyIn,
        copyOut,
        writeFile,
        listPackages: Effect.gen(function*() {
          const answer = yield* sessions.inContext(undefined, (shared) =>
            runHelper(shared, [listPackages], async (stdin) => void stdin.end())
          ).pipe(
            Effect.catchTag("UnknownSession", () => Effect.die("no session was asked for")),
            Effect.catchTags({
              PathRefused: (e) => Effect.fail(new TransferFailed({ reason: e.message, cause: e })),
              HostIoFailed: (e) => Effect.fail(new TransferFailed({ reason: e.message, cause: e }))
            })
          )
          return yield* Schema.decodeUnknown(Packages)(answer.trim()).pipe(
            Effect.mapError((cause) => new TransferFailed({ reason: "could not read the list of installed packages", cause }))
          )
        })
      })
    })
  )
