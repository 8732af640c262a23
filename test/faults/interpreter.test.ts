// Fault and abuse suite, code interpreter: path escapes, hostile code, a sandbox and an engine
// that die under it, many sessions at once, a client that vanishes mid-call.
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, isAlive, sleep } from "../support/daemon.js"
import { type Interpreter, onRuntime, sandboxContainers, sandboxRuntimes, startInterpreter, textOf } from "../support/interpreter.js"
import { record } from "./support/report.js"

/** Everything a test may look at outside the work directories: it must stay as it was. */
const snapshot = (dir: string): string =>
  Fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const path = Path.join(e.parentPath, e.name)
      return `${path}:${e.isFile() ? Fs.readFileSync(path, "utf8") : e.isSymbolicLink() ? `->${Fs.readlinkSync(path)}` : "dir"}`
    })
    .sort()
    .join("\n")

describe("path-escape corpus", () => {
  let py: Interpreter
  let outside: string
  const secret = "TOP-SECRET-CONTENT"
  beforeAll(async () => {
    py = await startInterpreter()
    // the work directories live in <root>/in and <root>/out; <root>/outside holds the bait
    outside = Path.join(Path.dirname(py.workIn), "outside")
    Fs.mkdirSync(Path.join(outside, "sub"), { recursive: true })
    Fs.writeFileSync(Path.join(outside, "secret.txt"), secret)
    Fs.writeFileSync(Path.join(outside, "sub/secret.txt"), secret)
    for (const work of [py.workIn, py.workOut]) {
      Fs.writeFileSync(Path.join(work, "inside.txt"), "inside")
      Fs.mkdirSync(Path.join(work, "dir"))
      Fs.symlinkSync(Path.join(outside, "secret.txt"), Path.join(work, "file-link"))
      Fs.symlinkSync(outside, Path.join(work, "dir-link"))
      Fs.symlinkSync("../outside/secret.txt", Path.join(work, "relative-link"))
      Fs.symlinkSync("/", Path.join(work, "root-link"))
      Fs.symlinkSync("loop-b", Path.join(work, "loop-a"))
      Fs.symlinkSync("loop-a", Path.join(work, "loop-b"))
      Fs.mkdirSync(Path.join(work, "nest"))
      Fs.symlinkSync(outside, Path.join(work, "nest/deep-link"))
    }
    await py.ok("edit_file", { container_path: "/workspace/payload.txt", content: "payload" })
  })
  afterAll(() => py?.close())

  /** Every form a path escape can take, built from a few targets. */
  const escapes = (() => {
    const targets = ["secret.txt", "outside/secret.txt", "sub/secret.txt", "etc/passwd"]
    const out = new Set<string>()
    for (const t of targets) {
      const parts = ["a", "b", t]
      for (let i = 0; i <= parts.length; i++) {
        for (const dots of ["..", "../..", "../../..", "./..", "..//.."]) {
          out.add([...parts.slice(0, i), dots, ...parts.slice(i)].join("/"))
        }
      }
      out.add(`../${t}`)
      out.add(`../../${t}`)
      out.add(`a/../../${t}`)
      out.add(`/${t}`)
      out.add(`//${t}`)
      out.add(`~/${t}`)
      out.add(`~root/${t}`)
      out.add(`${t}\0.txt`)
      out.add(`inside.txt\0/../../${t}`)
    }
    for (const link of ["file-link", "dir-link/secret.txt", "dir-link/sub/secret.txt", "relative-link", "root-link/etc/passwd", "nest/deep-link/secret.txt", "dir-link", "loop-a"]) {
      out.add(link)
      out.add(`./${link}`)
      out.add(`dir/../${link}`)
    }
    out.add("x".repeat(256))
    out.add(`${"d/".repeat(2100)}f`)
    out.add("..")
    out.add("../")
    out.add("/")
    return [...out]
  })()

  /** Look-alikes of `..` and `/`: ordinary names on Linux; they may fail, but never escape. */
  const lookAlikes = ["\u2025/secret.txt", "\uff0e\uff0e/secret.txt", "..\u2215secret.txt", "%2e%2e/secret.txt", "..%2fsecret.txt", "..\\secret.txt", "\u002e\u002e\u2044secret.txt", ". ./secret.txt"]

  it("cp_in: every escape is refused and nothing outside is read", async () => {
    const before = snapshot(outside)
    let refused = 0
    for (const path of escapes) {
      const result = await py.call("cp_in", { local_path: path, container_path: "/workspace/got" })
      const label = JSON.stringify(path.slice(0, 60))
      expect(result.isError, label).toBe(true)
      expect(textOf(result).slice(0, 300), label).toMatch(/refused path|no such file or directory|too many levels of symbolic links|Input validation error/)
      refused++
    }
    let harmless = 0
    for (const path of lookAlikes) {
      const result = await py.call("cp_in", { local_path: path, container_path: "/workspace/got" })
      expect(result.isError, path).toBe(true) // no such file inside WORKDIR_IN
      harmless++
    }
    const leaked = await py.ok("run_code", { code: "import os\nos.path.exists('/workspace/got')" })
    expect(leaked.value).toBe("False")
    expect(snapshot(outside)).toBe(before)
    record({
      area: "interpreter",
      tried: "path-escape corpus against cp_in (`..` in every position, absolute, `~`, NUL, overlong, symlinked files and parents, loops) + unicode look-alikes",
      cases: refused + harmless,
      result: `${refused} escapes refused, ${harmless} look-alikes found nothing; nothing outside WORKDIR_IN read`
    })
  })

  it("cp_out: every escape is refused and nothing outside is written", async () => {
    const before = snapshot(outside)
    const workOut = Fs.realpathSync(py.workOut)
    const landedInside = (result: Awaited<ReturnType<Interpreter["call"]>>) =>
      Fs.realpathSync(Path.dirname(result.structuredContent!.to as string)).startsWith(workOut)
    let refused = 0
    let replaced = 0
    for (const path of escapes) {
      const result = await py.call("cp_out", { container_path: "/workspace/payload.txt", local_path: path })
      const label = JSON.stringify(path.slice(0, 60))
      if (result.isError) {
        refused++
      } else {
        // a symlink named as the destination itself is replaced by the file, inside WORKDIR_OUT
        expect(landedInside(result), label).toBe(true)
        expect(Fs.lstatSync(result.structuredContent!.to as string).isFile(), label).toBe(true)
        replaced++
      }
    }
    let contained = replaced
    for (const path of lookAlikes) {
      const result = await py.call("cp_out", { container_path: "/workspace/payload.txt", local_path: path })
      if (!result.isError) expect(landedInside(result), path).toBe(true) // written under that odd name, inside
      contained++
    }
    expect(snapshot(outside)).toBe(before)
    record({
      area: "interpreter",
      tried: "the same corpus against cp_out's local_path",
      cases: refused + contained,
      result: `${refused} refused; ${replaced} symlinks named as the destination were replaced inside WORKDIR_OUT (their targets untouched); ${contained - replaced} look-alikes stayed inside; nothing outside written`
    })
  })

  it("edit_file and run_file: container paths stay in the sandbox; the host is untouched", async () => {
    const before = snapshot(outside)
    const containerEscapes = ["../../../etc/passwd", "/etc/passwd", "/proc/self/root/etc/x", "/usr/lib/python3/x.py", "../../../../../tmp/../etc/shadow", "a\0b"]
    let cases = 0
    for (const path of containerEscapes) {
      const written = await py.call("edit_file", { container_path: path, content: "pwned" })
      expect(written.isError, path).toBe(true) // read-only root filesystem (or NUL refused)
      const ran = await py.call("run_file", { path })
      expect(ran.isError, path).toBe(true)
      cases += 2
    }
    // inside the sandbox, /workspace outside a session is shared; a session cannot write another's files
    const a = (await py.ok("init")).session_id as string
    const b = (await py.ok("init")).session_id as string
    await py.ok("edit_file", { container_path: "mine.txt", content: "a", session_id: a })
    const cross = await py.call("edit_file", { container_path: `/workspace/sessions/${a}/mine.txt`, content: "b", session_id: b })
    expect(cross.isError).toBe(true)
    cases++
    expect(snapshot(outside)).toBe(before)
    record({
      area: "interpreter",
      tried: "edit_file / run_file with container paths outside /workspace, through /proc, with NUL, and into another session",
      cases,
      result: "all refused (read-only root, per-session uids); host untouched"
    })
  })

  it("a symlink swapped in between check and use never leads outside (cp_in and cp_out, 200 races each)", async () => {
    const before = snapshot(outside)
    const racer = Path.join(py.workIn, "racer.txt")
    const racerDir = Path.join(py.workOut, "racer-dir")
    let flips = 0
    let stop = false
    // flip a file <-> symlink (cp_in) and a directory <-> symlink (cp_out) as fast as possible
    const attempt = (f: () => void) => {
      try {
        f()
      } catch {
        // the server created or replaced it meanwhile: that is the race
      }
    }
    const flipper = (async () => {
      while (!stop) {
        attempt(() => Fs.rmSync(racer, { force: true }))
        attempt(() => Fs.writeFileSync(racer, "harmless"))
        attempt(() => Fs.rmSync(racer, { force: true }))
        attempt(() => Fs.symlinkSync(Path.join(outside, "secret.txt"), racer))
        attempt(() => Fs.rmSync(racerDir, { recursive: true, force: true }))
        attempt(() => Fs.mkdirSync(racerDir))
        attempt(() => Fs.rmSync(racerDir, { recursive: true, force: true }))
        attempt(() => Fs.symlinkSync(outside, racerDir))
        flips++
        await sleep(2) // leave the server windows where the path is a plain file or directory
      }
    })()
    let copiedIn = 0
    let copiedOut = 0
    for (let i = 0; i < 200; i++) {
      const into = await py.call("cp_in", { local_path: "racer.txt", container_path: `/workspace/race-${i}.txt` })
      if (!into.isError) copiedIn++
      const outOf = await py.call("cp_out", { container_path: "/workspace/payload.txt", local_path: `racer-dir/out-${i}.txt` })
      if (!outOf.isError) copiedOut++
    }
    stop = true
    await flipper
    const contents = await py.ok("run_code", {
      code: "import glob\nsorted({open(p).read() for p in glob.glob('/workspace/race-*.txt')})"
    })
    expect(contents.value).not.toContain(secret)
    expect(Fs.readdirSync(outside).filter((f) => f.startsWith("out-"))).toEqual([])
    expect(snapshot(outside)).toBe(before)
    record({
      area: "interpreter",
      tried: `symlink swapped in between check and use (${flips} flips during 200 cp_in + 200 cp_out)`,
      cases: 400,
      result: `${copiedIn} cp_in and ${copiedOut} cp_out went through inside the work directories, the rest were refused; the secret was never read, nothing written outside`
    })
  })
})

describe.each(sandboxRuntimes)("hostile code (%s)", (runtime) => {
  let py: Interpreter
  beforeAll(async () => {
    py = await startInterpreter({ ...onRuntime(runtime), PY_EXEC_TIMEOUT: "5", PY_EXEC_MEMORY: "512m" })
  })
  afterAll(() => py?.close())

  const cases: ReadonlyArray<[string, string, RegExp]> = [
    ["endless loop", "while True:\n    pass", /timed out after 5s/],
    ["endless loop ignoring KeyboardInterrupt", "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass", /did not stop when interrupted/],
    // under gVisor each process costs ~4 MB of host memory: 128 of them may reach 512 MiB first, which stops the whole sandbox
    ["fork bomb", "import os\nwhile True:\n    os.fork()", runtime === "runsc"
      ? /BlockingIOError|processes left running by the code|stopped by the sandbox memory limit of 512 MiB/
      : /BlockingIOError|processes left running by the code/],
    ["memory bomb", "hog = []\nwhile True:\n    hog.append(bytearray(64 * 1024 * 1024))", /MemoryError|memory limit of 512 MiB/],
    ["50 MB of output", "import sys\nsys.stdout.write('x' * 50_000_000)\nprint('end')", /bytes cut/],
    ["10,000 tiny prints", "for i in range(10_000):\n    print(i)", /9999/],
    ["closes its own stdout", "import os\nos.close(1)\nprint('lost')", /Bad file descriptor/],
    ["kills its interpreter", "import os\nos._exit(9)", /the interpreter exited with code 9/],
    ["SIGKILLs its own process group", "import os, signal\nos.killpg(0, signal.SIGKILL)", /interpreter (exited|was killed)/],
    ["spawns a daemon that outlives the call", "import subprocess\nsubprocess.Popen(['sleep', '1000'], start_new_session=True)\n'spawned'", /spawned/]
  ]

  it("each ends in a clear result; the session (or a fresh one) works afterwards; the server never exits", async () => {
    const id = (await py.ok("init")).session_id as string
    const outcomes: Array<string> = []
    for (const [name, code, expected] of cases) {
      const started = Date.now()
      const result = await py.call("run_code", { code, session_id: id })
      expect(textOf(result), name).toMatch(expected)
      const after = await py.call("run_code", { code: "'alive'", session_id: id })
      expect(after.structuredContent, name).toMatchObject({ value: "'alive'" })
      const fresh = await py.call("run_code", { code: "'fresh'" })
      expect(fresh.structuredContent, name).toMatchObject({ value: "'fresh'" })
      outcomes.push(`${name}: ${(result.structuredContent as { status: string }).status} in ${((Date.now() - started) / 1000).toFixed(1)}s`)
    }
    expect(py.transport.pid !== null && isAlive(py.pid)).toBe(true)
    record({
      area: "interpreter",
      tried: `hostile code under ${runtime}: endless loops, fork bomb, memory bomb, 50 MB output, 10,000 prints, closed stdout, os._exit, killpg, a daemon`,
      cases: cases.length,
      result: `each ended clearly (${outcomes.join("; ")}); the session and a fresh one worked after each; the server never exited`
    })
  })
})

describe("the sandbox and the engine failing under the server", () => {
  it("docker kill mid-call: the call fails clearly and the next call gets a new container", async () => {
    const py = await startInterpreter()
    const id = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "1", session_id: id })
    const [container] = sandboxContainers(py.pid)
    const call = py.call("run_code", { code: "import time\ntime.sleep(30)", session_id: id })
    await sleep(1000)
    CP.execFileSync("docker", ["kill", container!])
    const failed = await call
    expect(failed.isError).toBe(true)
    expect(textOf(failed)).toContain("the sandbox container stopped during the call (killed from outside?)")
    const next = await py.call("run_code", { code: "'new container'", session_id: id })
    expect(next.structuredContent).toMatchObject({ status: "ok", value: "'new container'" })
    expect(textOf(next)).toContain("the sandbox container was replaced")
    await eventually(() => (sandboxContainers(py.pid).includes(container!) ? undefined : true), 15_000, "the dead container removed")
    await py.close()
    record({ area: "interpreter", tried: "sandbox container killed with docker kill in the middle of a call", cases: 1, result: "the call failed with a clear message; the next call ran in a new container; the dead one was removed" })
  })

  it("the Docker engine stopped and started: calls fail clearly while it is down and work after, same server", async () => {
    const py = await startInterpreter()
    await py.ok("run_code", { code: "1" })
    const stopEngine = () => {
      CP.execSync("pkill -TERM -x dockerd || true")
      CP.execSync("for i in $(seq 1 100); do docker info >/dev/null 2>&1 || exit 0; sleep 0.2; done; exit 1")
      // the API is gone; dockerd itself may still be stopping containers for a while
      CP.execSync("for i in $(seq 1 300); do pgrep -x dockerd >/dev/null || exit 0; sleep 0.2; done; exit 1")
    }
    stopEngine()
    const down = await py.call("run_code", { code: "1" })
    expect(down.isError).toBe(true)
    expect(textOf(down)).toMatch(/Docker engine is not reachable|cannot run in the sandbox|container stopped/)
    const downInit = await py.call("init")
    expect(textOf(downInit)).toContain("the Docker engine is not reachable")
    CP.execFileSync(Path.resolve(import.meta.dirname, "../../scripts/ensure-docker.sh"), { stdio: "inherit" })
    const back = await eventually(async () => {
      const result = await py.call("run_code", { code: "'engine back'" })
      return result.isError ? undefined : result
    }, 60_000, "a working call after the engine restart")
    expect(back.structuredContent).toMatchObject({ value: "'engine back'" })
    expect(isAlive(py.pid)).toBe(true)
    await py.close()
    record({ area: "interpreter", tried: "Docker engine stopped, then started again, under a running server", cases: 1, result: "calls failed with \"the Docker engine is not reachable\" while it was down and worked again after, without restarting the server" })
  })
})

describe("load and disconnects", () => {
  it("32 sessions run code at the same time; none can read another's files", async () => {
    const py = await startInterpreter({ PY_EXEC_SESSION_MAX: "32" })
    const ids = await Promise.all(Array.from({ length: 32 }, () => py.ok("init").then((r) => r.session_id as string)))
    const results = await Promise.all(ids.map((id, i) =>
      py.call("run_code", {
        code: `import time, os\nopen('mine.txt', 'w').write('${i}')\nt = time.time()\nwhile time.time() - t < 1:\n    pass\nos.getuid()`,
        session_id: id
      })
    ))
    expect(results.filter((r) => r.isError).map(textOf)).toEqual([])
    expect(new Set(results.map((r) => r.structuredContent!.value)).size).toBe(32) // 32 distinct uids
    const snoop = await Promise.all(ids.map((id, i) =>
      py.call("run_code", { code: `open('/workspace/sessions/${ids[(i + 1) % 32]}/mine.txt').read()`, session_id: id })
    ))
    expect(snoop.every((r) => (r.structuredContent as { exception: { type: string } | null }).exception?.type === "PermissionError")).toBe(true)
    await py.close()
    record({ area: "interpreter", tried: "32 sessions each running a 1-second CPU job at once, then each reading its neighbour's file", cases: 64, result: "32 of 32 succeeded; 32 of 32 cross-session reads refused (PermissionError)" })
  })

  it("a client that disconnects mid-call: the call is cancelled, the server exits and removes its container", async () => {
    const py = await startInterpreter()
    const id = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "1", session_id: id })
    expect(sandboxContainers(py.pid)).toHaveLength(1)
    const pending = py.call("run_code", { code: "import time\ntime.sleep(60)", session_id: id }).catch(() => "closed")
    await sleep(1000)
    await py.close()
    expect(await pending).toBe("closed")
    await eventually(() => (isAlive(py.pid) ? undefined : true), 20_000, "server exit")
    expect(sandboxContainers(py.pid)).toEqual([])
    record({ area: "interpreter", tried: "client disconnecting in the middle of a 60-second call", cases: 1, result: "the call was cancelled; the server exited and removed its container" })
  })
})
