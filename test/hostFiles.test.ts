// Path confinement of the host side of file transfer, on a real filesystem.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Fs from "node:fs"
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
