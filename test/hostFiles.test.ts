// Path confinement of the host side of file transfer, on a real filesystem.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { Readable } from "node:stream"
import { HostFilesLive } from "../layers/interpreter/HostFilesLive.js"
import { HostFiles } from "../services/interpreter/HostFiles.js"
import { relativeComponents } from "../src/interpreter/hostPaths.js"
import { tempDir } from "./support/daemon.js"

const setup = () => {
  const root = Fs.realpathSync(tempDir("hostfiles-"))
  const input = Path.join(root, "in")
  const output = Path.join(root, "out")
  Fs.mkdirSync(input)
  Fs.mkdirSync(output)
  Fs.writeFileSync(Path.join(root, "secret"), "secret")
  return { root, input, output, layer: HostFilesLive({ input, output }) }
}

/**
 * Should the code under test block on a FIFO (this test process would freeze, its own timeouts
 * with it), a writer appears after `delayMs` and frees it; the marker file, written just before,
 * tells the test it needed rescuing.
 */
const fifoRescuer = (marker: string, fifos: ReadonlyArray<string>, delayMs = 5000) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      CP.spawn(process.execPath, [
        "-e",
        `const fs = require("node:fs"); const [marker, delay, ...fifos] = process.argv.slice(1)
        setTimeout(() => {
          fs.writeFileSync(marker, "")
          setInterval(() => { for (const f of fifos) try { fs.closeSync(fs.openSync(f, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)) } catch {} }, 50)
        }, Number(delay))`,
        marker,
        String(delayMs),
        ...fifos
      ], { stdio: "ignore" })
    ),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  )

const listening = (path: string) =>
  Effect.acquireRelease(
    Effect.async<Net.Server>((resume) => {
      const server = Net.createServer()
      server.listen(path, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

describe("relativeComponents", () => {
  it("accepts plain relative paths and normalises . and //", () => {
    expect(relativeComponents("a/./b//c.txt", "/w")).toEqual(Either.right(["a", "b", "c.txt"]))
    expect(relativeComponents(".", "/w")).toEqual(Either.right([]))
    // look-alikes of dots and slashes are ordinary characters in a name
    expect(relativeComponents("\u2024\u2024\u2215etc", "/w")).toEqual(Either.right(["\u2024\u2024\u2215etc"]))
  })
  it("refuses absolute, ~, .., NUL and overlong paths", () => {
    for (const path of ["/etc/passwd", "~/x", "~root/x", "..", "a/../../b", "a/..", "x\0y", "a/".repeat(2100), "n".repeat(256)]) {
      expect(Either.isLeft(relativeComponents(path, "/w")), path).toBe(true)
    }
  })
})

describe("HostFilesLive", () => {
  it.effect("reads files and directories inside WORKDIR_IN, following symlinks that stay inside", () => {
    const { input, layer } = setup()
    Fs.mkdirSync(Path.join(input, "d/e"), { recursive: true })
    Fs.writeFileSync(Path.join(input, "d/e/f.txt"), "f")
    Fs.writeFileSync(Path.join(input, "d/g.txt"), "gg")
    Fs.symlinkSync("d/g.txt", Path.join(input, "alias"))
    return Effect.gen(function*() {
      const host = yield* HostFiles
      const file = yield* host.source("alias", 1000)
      expect([file.kind, file.name, file.bytes]).toEqual(["file", "alias", 2])
      const dir = yield* host.source("d", 1000)
      expect(dir.directories).toEqual(["e"])
      expect(dir.files.map((f) => [f.name, f.size])).toEqual([["e/f.txt", 1], ["g.txt", 2]])
      const tooBig = yield* Effect.flip(host.source("d", 2))
      expect(tooBig.message).toContain("PY_EXEC_MAX_FILE_SIZE")
    }).pipe(Effect.provide(layer))
  })

  it.effect("refuses symlinks out of WORKDIR_IN: a file, a parent directory, one inside a copied tree", () => {
    const { input, layer, root } = setup()
    Fs.symlinkSync(Path.join(root, "secret"), Path.join(input, "file-link"))
    Fs.symlinkSync(root, Path.join(input, "dir-link"))
    Fs.mkdirSync(Path.join(input, "tree"))
    Fs.symlinkSync(Path.join(root, "secret"), Path.join(input, "tree/inner-link"))
    return Effect.gen(function*() {
      const host = yield* HostFiles
      for (const path of ["file-link", "dir-link/secret", "dir-link", "tree"]) {
        const error = yield* Effect.flip(host.source(path, 1000))
        expect(error._tag, path).toBe("PathRefused")
        expect(error.message, path).toContain(`outside ${input}`)
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("a symlink swapped in after the check is caught when the file is opened", () => {
    const { input, layer, root } = setup()
    Fs.writeFileSync(Path.join(input, "doc.txt"), "safe")
    return Effect.gen(function*() {
      const host = yield* HostFiles
      const source = yield* host.source("doc.txt", 1000)
      Fs.rmSync(Path.join(input, "doc.txt"))
      Fs.symlinkSync(Path.join(root, "secret"), Path.join(input, "doc.txt"))
      const error = yield* Effect.flip(Effect.scoped(source.files[0]!.open))
      expect(error._tag).toBe("PathRefused")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("never opens a FIFO or a socket: skipped inside a directory with a note, refused by name, caught if swapped in", () => {
    const { input, layer, root } = setup()
    const dir = Path.join(input, "proj")
    Fs.mkdirSync(Path.join(dir, "sub"), { recursive: true })
    Fs.writeFileSync(Path.join(dir, "a.txt"), "a")
    Fs.writeFileSync(Path.join(dir, "sub/b.txt"), "bb")
    const fifos = [Path.join(dir, "pipe"), Path.join(dir, "sub/pipe"), Path.join(input, "lone-pipe")]
    CP.execFileSync("mkfifo", fifos)
    Fs.symlinkSync("pipe", Path.join(dir, "pipe-link"))
    const rescued = Path.join(root, "rescued")
    return Effect.gen(function*() {
      yield* fifoRescuer(rescued, fifos)
      yield* listening(Path.join(dir, "sock"))
      const host = yield* HostFiles
      const source = yield* host.source("proj", 1000)
      expect(Fs.existsSync(rescued), "a writer had to free a FIFO: something opened one blocking").toBe(false)
      expect(source.files.map((f) => [f.name, f.size])).toEqual([["a.txt", 1], ["sub/b.txt", 2]])
      expect(source.directories).toEqual(["sub"])
      expect(source.skipped).toEqual(["proj/pipe (fifo)", "proj/pipe-link (fifo)", "proj/sock (socket)", "proj/sub/pipe (fifo)"])
      // by name: refused, never opened
      const byName = yield* Effect.flip(host.source("lone-pipe", 1000))
      expect([byName._tag, byName.message]).toEqual(["PathRefused", `refused path "lone-pipe": it is a fifo, neither a regular file nor a directory`])
      // a FIFO put in place of a listed file is refused when the file is opened to be sent
      Fs.rmSync(Path.join(dir, "a.txt"))
      CP.execFileSync("mkfifo", [Path.join(dir, "a.txt")])
      const swapped = yield* Effect.flip(Effect.scoped(source.files[0]!.open))
      expect(swapped.message).toContain("it is no longer a regular file (a fifo)")
      expect(Fs.existsSync(rescued)).toBe(false)
    }).pipe(Effect.provide(layer))
  }, 30_000)

  it.effect("writes atomically inside WORKDIR_OUT, never through a symlink, never over a directory", () => {
    const { layer, output, root } = setup()
    Fs.symlinkSync(root, Path.join(output, "escape"))
    Fs.symlinkSync(Path.join(root, "secret"), Path.join(output, "link.txt"))
    Fs.mkdirSync(Path.join(output, "existing/report.txt"), { recursive: true })
    const write = (localPath: string | undefined, name = "report.txt") =>
      Effect.scoped(Effect.flatMap(
        HostFiles,
        (host) => Effect.flatMap(host.target(localPath, name, "file"), (t) => t.writeFile("", 0o644, Readable.from([Buffer.from("new")])))
      ))
    return Effect.gen(function*() {
      expect(yield* write(undefined)).toBe(3)
      expect(Fs.readFileSync(Path.join(output, "report.txt"), "utf8")).toBe("new")
      yield* write("sub/dir/r.txt")
      expect(Fs.readFileSync(Path.join(output, "sub/dir/r.txt"), "utf8")).toBe("new")
      // a symlink at the destination is replaced, the file it points to is untouched
      yield* write("link.txt")
      expect(Fs.lstatSync(Path.join(output, "link.txt")).isSymbolicLink()).toBe(false)
      expect(Fs.readFileSync(Path.join(root, "secret"), "utf8")).toBe("secret")
      const through = yield* Effect.flip(write("escape/evil.txt"))
      expect(through.message).toContain("escape is a symbolic link; cp_out never writes through symbolic links")
      const overDir = yield* Effect.flip(write("existing"))
      expect(overDir.message).toContain("is a directory; cp_out does not replace a directory with a file")
      expect(Fs.existsSync(Path.join(root, "evil.txt"))).toBe(false)
      expect(Fs.readdirSync(output).filter((f) => f.includes(".partial-"))).toEqual([])
    }).pipe(Effect.provide(layer))
  })
})
