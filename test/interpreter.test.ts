// mcp-code-interpreter end to end: the built server, a real Docker engine, the official SDK client.
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually, isAlive, sleep, tempDir } from "./support/daemon.js"
import { containerRuntime, type Interpreter, onRuntime, sandboxContainers, sandboxRuntimes, startInterpreter, textOf } from "./support/interpreter.js"

describe.each(sandboxRuntimes)("mcp-code-interpreter over stdio (%s)", (runtime) => {
  let py: Interpreter
  beforeAll(async () => {
    py = await startInterpreter(onRuntime(runtime))
  })
  afterAll(() => py?.close())

  it("lists every tool with annotations and output schemas", async () => {
    const { tools } = await py.client.listTools()
    expect(tools.map((t) => t.name)).toEqual([
      "init", "close_session", "run_code", "run_file", "cp_in", "cp_out", "edit_file", "list_packages", "install_packages", "reset"
    ])
    for (const tool of tools) {
      expect(tool.outputSchema, tool.name).toBeDefined()
      expect(tool.annotations, tool.name).toBeDefined()
      expect(tool.description!.length, tool.name).toBeGreaterThan(40)
    }
  })

  it("run_code without a session: stdout, stderr, the last value, and nothing kept", async () => {
    const result = await py.call("run_code", { code: "import sys\nprint('out')\nprint('err', file=sys.stderr)\nx = 6\nx * 7" })
    expect(result.isError).toBe(false)
    expect(result.structuredContent).toMatchObject({ session_id: null, status: "ok", stdout: "out\n", stderr: "err\n", value: "42" })
    expect(textOf(result)).toBe("out\n[stderr]\nerr\nOut: 42")
    const again = await py.call("run_code", { code: "x" })
    expect(again.isError).toBe(true)
    expect(again.structuredContent).toMatchObject({ status: "error", exception: { type: "NameError" } })
  })

  it("a session keeps variables, imports and files; another session sees none of them", async () => {
    const a = (await py.ok("init")).session_id as string
    const b = (await py.ok("init")).session_id as string
    expect(a).not.toBe(b)
    await py.ok("run_code", { code: "import math\ntotal = 40\nopen('note.txt', 'w').write('mine')", session_id: a })
    expect((await py.ok("run_code", { code: "total + 2, math.pi > 3", session_id: a })).value).toBe("(42, True)")
    expect((await py.ok("run_code", { code: "import os\nos.getcwd()", session_id: a })).value).toBe(`'/workspace/sessions/${a}'`)
    const other = await py.call("run_code", { code: "total", session_id: b })
    expect(other.structuredContent).toMatchObject({ status: "error", exception: { type: "NameError" } })
    const peek = await py.call("run_code", { code: `open('/workspace/sessions/${a}/note.txt').read()`, session_id: b })
    expect(peek.structuredContent).toMatchObject({ status: "error", exception: { type: "PermissionError" } })
    await py.ok("close_session", { session_id: a })
    await py.ok("close_session", { session_id: b })
  })

  it("exceptions come back as tool errors with the traceback and the source line", async () => {
    const result = await py.call("run_code", { code: "def f(n):\n    return 10 / n\nf(0)" })
    expect(result.isError).toBe(true)
    const text = textOf(result)
    expect(text).toContain("ZeroDivisionError: division by zero")
    expect(text).toContain("return 10 / n")
    expect(text).not.toContain("<string>") // the driver's own frames are hidden
    const syntax = await py.call("run_code", { code: "def broken(:\n  pass" })
    expect(syntax.structuredContent).toMatchObject({ status: "error", exception: { type: "SyntaxError" } })
  })

  it("captures output of subprocesses and C code, not just print()", async () => {
    const result = await py.ok("run_code", { code: "import os, subprocess\nos.system('echo from-shell')\nsubprocess.run(['sh', '-c', 'echo to-stderr >&2'])\nos.write(1, b'raw fd\\n')" })
    expect(result.stdout).toBe("from-shell\nraw fd\n")
    expect(result.stderr).toBe("to-stderr\n")
  })

  it("cp_in, edit_file, run_file and cp_out move files between the work directories and a session", async () => {
    const id = (await py.ok("init")).session_id as string
    Fs.writeFileSync(Path.join(py.workIn, "data.csv"), "a,b\n1,2\n3,4\n")
    Fs.mkdirSync(Path.join(py.workIn, "pkg/sub"), { recursive: true })
    Fs.writeFileSync(Path.join(py.workIn, "pkg/sub/x.txt"), "nested")
    const copied = await py.ok("cp_in", { local_path: "data.csv", session_id: id })
    expect(copied).toMatchObject({ to: `/workspace/sessions/${id}/data.csv`, files: 1, bytes: 12 })
    expect((await py.ok("cp_in", { local_path: "pkg", session_id: id })).files).toBe(1)
    await py.ok("edit_file", {
      container_path: "scripts/sum.py",
      content: "import csv\nrows = list(csv.DictReader(open('data.csv')))\nprint(sum(int(r['b']) for r in rows))\nopen('result.txt', 'w').write('six')\n",
      session_id: id
    })
    const ran = await py.ok("run_file", { path: "scripts/sum.py", session_id: id })
    expect(ran.stdout).toBe("6\n")
    expect((await py.ok("run_code", { code: "open('pkg/sub/x.txt').read()", session_id: id })).value).toBe("'nested'")

    const out = await py.ok("cp_out", { container_path: "result.txt", session_id: id })
    expect(out.to).toBe(Path.join(Fs.realpathSync(py.workOut), "result.txt"))
    expect(Fs.readFileSync(Path.join(py.workOut, "result.txt"), "utf8")).toBe("six")
    await py.ok("cp_out", { container_path: "pkg", local_path: "copied", session_id: id })
    expect(Fs.readFileSync(Path.join(py.workOut, "copied/sub/x.txt"), "utf8")).toBe("nested")
    // cp_out replaces a file but never a directory
    await py.ok("cp_out", { container_path: "data.csv", local_path: "result.txt", session_id: id })
    expect(Fs.readFileSync(Path.join(py.workOut, "result.txt"), "utf8")).toBe("a,b\n1,2\n3,4\n")
    // like cp, an existing directory receives the file inside it; if that name is a directory too, refuse
    Fs.mkdirSync(Path.join(py.workOut, "adir/data.csv/data.csv"), { recursive: true })
    const onDir = await py.call("cp_out", { container_path: "data.csv", local_path: "adir/data.csv", session_id: id })
    expect(onDir.isError).toBe(true)
    expect(textOf(onDir)).toContain("is a directory; cp_out does not replace a directory with a file")
    const missing = await py.call("cp_out", { container_path: "nope.txt", session_id: id })
    expect(textOf(missing)).toBe(`no such file or directory in the sandbox: /workspace/sessions/${id}/nope.txt`)
    await py.ok("close_session", { session_id: id })
  })

  it("refuses every host path that could leave the work directories", async () => {
    const outside = Path.join(Path.dirname(py.workIn), "secret.txt")
    Fs.writeFileSync(outside, "secret")
    Fs.symlinkSync(outside, Path.join(py.workIn, "link-out"))
    Fs.symlinkSync(Path.dirname(outside), Path.join(py.workIn, "dir-out"))
    Fs.symlinkSync(Path.dirname(outside), Path.join(py.workOut, "dir-out"))
    Fs.writeFileSync(Path.join(py.workIn, "inside.txt"), "fine")
    Fs.symlinkSync("inside.txt", Path.join(py.workIn, "link-in"))
    const refusedIn: Array<[string, string]> = [
      ["/etc/passwd", "absolute paths are not allowed"],
      ["../secret.txt", "\"..\" is not allowed"],
      ["a/../../secret.txt", "\"..\" is not allowed"],
      ["~/secret.txt", "\"~\" is not expanded"],
      ["inside.txt\0.png", "it contains a NUL byte"],
      [`${"x".repeat(300)}.txt`, "longer than 255 bytes"],
      ["link-out", "resolves (through a symbolic link)"],
      ["dir-out/secret.txt", "resolves (through a symbolic link)"]
    ]
    for (const [path, reason] of refusedIn) {
      const result = await py.call("cp_in", { local_path: path })
      expect(result.isError, path).toBe(true)
      expect(textOf(result), path).toContain(reason)
    }
    expect((await py.ok("cp_in", { local_path: "link-in", container_path: "/workspace/ok.txt" })).bytes).toBe(4)
    await py.ok("edit_file", { container_path: "/workspace/payload.txt", content: "payload" })
    const refusedOut: Array<[string, string]> = [
      ["/tmp/evil.txt", "absolute paths are not allowed"],
      ["../evil.txt", "\"..\" is not allowed"],
      ["dir-out/evil.txt", "is a symbolic link; cp_out never writes through symbolic links"]
    ]
    for (const [path, reason] of refusedOut) {
      const result = await py.call("cp_out", { container_path: "/workspace/payload.txt", local_path: path })
      expect(result.isError, path).toBe(true)
      expect(textOf(result), path).toContain(reason)
    }
    // a symlink at the destination is replaced, never written through
    Fs.symlinkSync(outside, Path.join(py.workOut, "victim.txt"))
    await py.ok("cp_out", { container_path: "/workspace/payload.txt", local_path: "victim.txt" })
    expect(Fs.readFileSync(outside, "utf8")).toBe("secret")
    expect(Fs.lstatSync(Path.join(py.workOut, "victim.txt")).isFile()).toBe(true)
    expect(Fs.existsSync(Path.join(Path.dirname(outside), "evil.txt"))).toBe(false)
    const nul = await py.call("run_file", { path: "a\0b.py" })
    expect(textOf(nul)).toContain("NUL byte")
  })

  it("symlinks made inside the sandbox do not lead cp_out anywhere", async () => {
    await py.ok("run_code", { code: "import os\nos.makedirs('/workspace/tree', exist_ok=True)\nopen('/workspace/tree/real.txt', 'w').write('r')\nos.symlink('/etc/passwd', '/workspace/tree/passwd')" })
    const result = await py.ok("cp_out", { container_path: "/workspace/tree", local_path: "tree" })
    expect(result.files).toBe(1)
    expect(result.skipped).toEqual(["tree/passwd (symlink)"])
    expect(Fs.readdirSync(Path.join(py.workOut, "tree"))).toEqual(["real.txt"])
  })

  it("sandbox defaults: a numeric non-root user, no network, read-only system, writable /workspace and /tmp", async () => {
    const result = await py.ok("run_code", {
      code: [
        "import os, socket",
        "net = sorted(os.listdir('/sys/class/net'))",
        "try:",
        "    socket.create_connection(('1.1.1.1', 53), timeout=2); reach = 'reached'",
        "except OSError as e:",
        "    reach = type(e).__name__",
        "def writable(p):",
        "    try:",
        "        open(os.path.join(p, '.probe'), 'w').close(); return True",
        "    except OSError:",
        "        return False",
        "import ctypes",
        "caps = [l for l in open('/proc/self/status') if l.startswith('CapEff')]",
        "caps.append('NoNewPrivs: %d' % ctypes.CDLL(None).prctl(39, 0, 0, 0, 0))  # PR_GET_NO_NEW_PRIVS: gVisor's /proc/self/status lacks the line",
        "(os.getuid() != 0, net, reach, [writable(p) for p in ('/workspace', '/tmp', '/usr', '/etc', '/')], caps)"
      ].join("\n")
    })
    expect(result.value).toBe("(True, ['lo'], 'OSError', [True, True, False, False, False], ['CapEff:\\t0000000000000000\\n', 'NoNewPrivs: 1'])")
  })

  it(`runs under ${runtime}: the container says so, and the kernel is gVisor's exactly under runsc`, async () => {
    const result = await py.ok("run_code", {
      code: "import platform, subprocess\nlog = subprocess.run(['dmesg'], capture_output=True, text=True).stdout\n(platform.release(), 'Starting gVisor' in log)"
    })
    expect(containerRuntime(sandboxContainers(py.pid)[0]!)).toBe(runtime)
    // gVisor's own kernel reports release 4.4.0 and boots with "Starting gVisor..."; the host's does not
    if (runtime === "runsc") expect(result.value).toBe("('4.4.0', True)")
    else expect(result.value).toMatch(/^\('(?!4\.4\.0')[^']+', False\)$/)
  })

  it("list_packages answers name/version pairs", async () => {
    const result = await py.ok("list_packages")
    const packages = result.packages as Array<{ name: string; version: string }>
    expect(result.count).toBe(packages.length)
    expect(packages.map((p) => p.name)).toEqual(expect.arrayContaining(["numpy", "pandas", "matplotlib"]))
  })

  it("calls on one session run in order; different sessions run in parallel", async () => {
    const [a, b] = await Promise.all([py.ok("init"), py.ok("init")]).then((r) => r.map((s) => s.session_id as string))
    // each sleep reports when it began and ended (wall clock, the same in every session)
    const sleep = (then: string) => `import time\nbegan = time.time()\ntime.sleep(1.5)\n${then}\n(began, time.time())`
    const interval = (value: unknown) => String(value).replace(/[()]/g, "").split(",").map(Number)
    const results = await Promise.all([
      py.ok("run_code", { code: sleep("order = ['first']"), session_id: a }),
      py.ok("run_code", { code: "order.append('second')\norder", session_id: a }),
      py.ok("run_code", { code: sleep("pass"), session_id: b })
    ])
    expect(results[1]!.value).toBe("['first', 'second']")
    const [aBegan, aEnded] = interval(results[0]!.value)
    const [bBegan, bEnded] = interval(results[2]!.value)
    // the two sleeps overlapped, however slow the machine: each began before the other ended
    expect(aBegan).toBeLessThan(bEnded!)
    expect(bBegan).toBeLessThan(aEnded!)
    await Promise.all([a, b].map((id) => py.ok("close_session", { session_id: id })))
  })

  it("reset closes every session and starts a new container", async () => {
    const id = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "x = 1", session_id: id })
    const before = sandboxContainers(py.pid)
    expect(before).toHaveLength(1)
    const reset = await py.ok("reset")
    expect(reset.sessions_closed).toBeGreaterThanOrEqual(1)
    expect(textOf(await py.call("run_code", { code: "x", session_id: id }))).toContain(`no session "${id}"`)
    await py.ok("run_code", { code: "1" })
    const after = sandboxContainers(py.pid)
    expect(after).toHaveLength(1)
    expect(after[0]).not.toBe(before[0])
  })

  it("bad types are refused by the schema, not crashing the server", async () => {
    const result = await py.call("run_code", { code: 42 })
    expect(result.isError).toBe(true)
    expect((await py.ok("run_code", { code: "'still here'" })).value).toBe("'still here'")
  })

  it("a mistyped argument (sesion_id) is refused, naming it and the accepted ones, and no code runs", async () => {
    const id = (await py.ok("init")).session_id as string
    const marker = "/workspace/unknown-argument-marker"
    const code = `open(${JSON.stringify(marker)}, 'w').write('ran')\nprint('ran')`
    const exists = async () => (await py.ok("run_code", { code: `import os\nos.path.exists(${JSON.stringify(marker)})` })).value
    const mistyped = await py.call("run_code", { code, sesion_id: id })
    expect(mistyped.isError).toBe(true)
    expect(mistyped.structuredContent).toBeUndefined()
    expect(textOf(mistyped)).toContain(`Invalid arguments for tool run_code: unknown argument "sesion_id" (accepted: code, session_id)`)
    expect(textOf(mistyped)).not.toContain("ran")
    expect(await exists()).toBe("False")
    // the same code under the right name writes the marker, so its absence above means nothing ran
    expect(await py.ok("run_code", { code, session_id: id })).toMatchObject({ session_id: id, stdout: "ran\n" })
    expect(await exists()).toBe("True")
    await py.ok("run_code", { code: `import os\nos.remove(${JSON.stringify(marker)})`, session_id: id }) // /workspace is sticky: its writer removes it
    await py.ok("close_session", { session_id: id })
  })
})

describe.each(sandboxRuntimes)("sessions: idle expiry, limit, timeouts, output caps (%s)", (runtime) => {
  let py: Interpreter
  beforeAll(async () => {
    py = await startInterpreter({
      ...onRuntime(runtime),
      PY_EXEC_SESSION_TTL: "2",
      PY_EXEC_SESSION_MAX: "2",
      PY_EXEC_TIMEOUT: "2",
      PY_EXEC_MAX_OUTPUT: "1k",
      PY_EXEC_MEMORY: "256m"
    })
  })
  afterAll(() => py?.close())

  it("refuses a session beyond PY_EXEC_SESSION_MAX and expires idle ones after the TTL", async () => {
    const a = (await py.ok("init")).session_id as string
    const b = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "import os\nopen('f', 'w').write('x')\nos.getuid()", session_id: a })
    const third = await py.call("init")
    expect(third.isError).toBe(true)
    expect(textOf(third)).toBe(
      "2 sessions are open, the most allowed (PY_EXEC_SESSION_MAX): close one with close_session or wait for an idle one to expire"
    )
    // keep b busy past the TTL: a session in use does not expire
    const busy = py.call("run_code", { code: "import time\ntime.sleep(1.8)\n'busy'", session_id: b })
    await sleep(2600)
    expect((await busy).structuredContent).toMatchObject({ value: "'busy'" })
    expect(textOf(await py.call("run_code", { code: "1", session_id: a }))).toContain(`no session "${a}"`)
    // its directory and processes are gone
    const left = await py.ok("run_code", { code: `import os\nos.path.exists('/workspace/sessions/${a}')` })
    expect(left.value).toBe("False")
    const fresh = await eventually(async () => {
      const result = await py.call("init")
      return result.isError ? undefined : (result.structuredContent?.session_id as string)
    }, 10_000, "a free session slot")
    // b (idle since its busy call) and fresh may already have expired under a slow runtime: a close of either may say so
    await py.call("close_session", { session_id: fresh })
    await py.call("close_session", { session_id: b })
  })

  it("interrupts a call past PY_EXEC_TIMEOUT and keeps the session's state", async () => {
    const id = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "kept = 'yes'", session_id: id })
    const result = await py.call("run_code", { code: "print('working')\nwhile True:\n    pass", session_id: id })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ status: "timeout", stdout: "working\n", exception: { type: "KeyboardInterrupt" } })
    expect(textOf(result)).toContain("timed out after 2s (PY_EXEC_TIMEOUT): interrupted with KeyboardInterrupt")
    expect((await py.ok("run_code", { code: "kept", session_id: id })).value).toBe("'yes'")
    await py.ok("close_session", { session_id: id })
  })

  it("kills and restarts an interpreter that ignores the interrupt; the session works afterwards", async () => {
    const id = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "lost = True", session_id: id })
    const result = await py.call("run_code", {
      code: "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.1)",
      session_id: id
    })
    expect(result.structuredContent).toMatchObject({ status: "timeout" })
    expect(textOf(result)).toContain("did not stop when interrupted: the session's interpreter was killed, its variables are lost")
    const after = await py.call("run_code", { code: "'lost' in globals()", session_id: id })
    expect(after.structuredContent).toMatchObject({ status: "ok", value: "False" })
    await py.ok("close_session", { session_id: id })
  })

  it("an interpreter that exits or exhausts memory is replaced, with a clear note", async () => {
    const id = (await py.ok("init")).session_id as string
    const exited = await py.call("run_code", { code: "import os\nos._exit(3)", session_id: id })
    expect(exited.structuredContent).toMatchObject({ status: "crashed" })
    expect(textOf(exited)).toContain("the interpreter exited with code 3")
    const bomb = await py.call("run_code", { code: "blocks = []\nwhile True:\n    blocks.append(bytearray(50 * 1024 * 1024))", session_id: id })
    expect(bomb.isError).toBe(true)
    // runc: the kernel kills the one interpreter; gVisor: the host sees one sandbox and stops all of it
    expect(textOf(bomb)).toMatch(
      runtime === "runsc" ? /the sandbox container was stopped by the sandbox memory limit of 256 MiB/ : /MemoryError|sandbox memory limit of 256 MiB/
    )
    const after = await py.call("run_code", { code: "'alive'", session_id: id })
    expect(after.structuredContent).toMatchObject({ status: "ok", value: "'alive'" })
    if (runtime === "runsc") expect(textOf(after)).toContain("the sandbox container was replaced")
    await py.ok("close_session", { session_id: id })
  })

  it("caps each output stream and says how much was cut, keeping the start and the end", async () => {
    const result = await py.ok("run_code", { code: "import sys\nfor i in range(5000):\n    print(f'line {i}')\nprint('tail', file=sys.stderr)" })
    const stdout = result.stdout as string
    expect(stdout.startsWith("line 0\nline 1\n")).toBe(true)
    expect(stdout.endsWith("line 4999\n")).toBe(true)
    expect(result.stdout_truncated_bytes).toBeGreaterThan(40_000)
    expect(stdout).toMatch(new RegExp(`\\[\\.\\.\\. ${String(result.stdout_truncated_bytes)} bytes cut \\.\\.\\.\\]`))
    expect(stdout.length).toBeLessThan(1024 + 1024 / 5 + 100)
    expect(result.stderr).toBe("tail\n")
  })
})

describe("lifecycle and transports", () => {
  it("removes its container when the client disconnects, and containers of a crashed run at start", async () => {
    const first = await startInterpreter()
    await first.ok("run_code", { code: "1" })
    expect(sandboxContainers(first.pid)).toHaveLength(1)
    // a crash: the server gets no chance to clean up
    process.kill(first.pid, "SIGKILL")
    await eventually(() => (isAlive(first.pid) ? undefined : true))
    expect(sandboxContainers(first.pid)).toHaveLength(1)

    const second = await startInterpreter()
    await second.ok("run_code", { code: "1" })
    expect(sandboxContainers(first.pid)).toHaveLength(0)
    expect(second.stderr()).toContain("left behind by an earlier run")
    await second.close()
    await eventually(() => (isAlive(second.pid) ? undefined : true), 15_000, "server exit")
    expect(sandboxContainers(second.pid)).toHaveLength(0)
  })

  it("says how to get an image when DOCKER_IMAGE is missing and cannot be pulled", async () => {
    const py = await startInterpreter({ DOCKER_IMAGE: "mcp-test-no-such-image:1" })
    const result = await py.call("run_code", { code: "1" })
    expect(result.isError).toBe(true)
    expect(textOf(result)).toMatch(
      /^image mcp-test-no-such-image:1 is not available locally and could not be pulled \(.+\)\. Build one without a registry with docker\/build-offline-image\.sh, or set DOCKER_IMAGE/
    )
    expect((await py.call("init")).isError).toBe(true)
    await py.close()
  })

  it("a PY_EXEC_RUNTIME the engine does not have is refused clearly, naming the runtimes it has", async () => {
    const py = await startInterpreter({ PY_EXEC_RUNTIME: "no-such-runtime" })
    const result = await py.call("run_code", { code: "1" })
    expect(result.isError).toBe(true)
    // the engine's list may hold containerd's own names too (io.containerd.runc.v2): runc must be one item of it
    const listed = /^the Docker engine has no runtime "no-such-runtime" \(PY_EXEC_RUNTIME\); its runtimes: (.*?)\. Register it/.exec(textOf(result))
    expect(listed?.[1]?.split(", ")).toContain("runc")
    expect(sandboxContainers(py.pid)).toEqual([])
    await py.close()
  })

  it("refuses invalid settings at start, naming the variable", async () => {
    const { run } = await import("./support/daemon.js")
    const { serverJs } = await import("./support/interpreter.js")
    const bad = await run(process.execPath, [serverJs], { env: { ...process.env, PY_EXEC_SESSION_TTL: "soon" } })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('mcp-code-interpreter: PY_EXEC_SESSION_TTL: expected a whole number of seconds from 1 to 604800, got "soon"')
    const badArg = await run(process.execPath, [serverJs, "--py-exec-memory", "lots"])
    expect(badArg.stderr).toContain('PY_EXEC_MEMORY: expected a size like 512m or 2g, got "lots"')
  })
})

describe("Streamable HTTP and the manager tools", () => {
  it("serves the same tools over Streamable HTTP on /mcp", async () => {
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js")
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js")
    const CP = await import("node:child_process")
    const { requireDocker, serverJs, testImage } = await import("./support/interpreter.js")
    requireDocker()
    const server = CP.spawn(process.execPath, [serverJs, "--http", "0"], {
      env: { ...process.env, DOCKER_IMAGE: testImage },
      stdio: ["ignore", "ignore", "pipe"]
    })
    let log = ""
    server.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()))
    try {
      const url = await eventually(() => /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(log)?.[1], 15_000, "the HTTP address")
      const clients = await Promise.all([1, 2].map(async () => {
        const client = new Client({ name: "http-test", version: "0" })
        await client.connect(new StreamableHTTPClientTransport(new URL(url)))
        return client
      }))
      const [a, b] = clients as [InstanceType<typeof Client>, InstanceType<typeof Client>]
      const session = (await a.callTool({ name: "init", arguments: {} })).structuredContent as { session_id: string }
      await a.callTool({ name: "run_code", arguments: { code: "shared = 'over http'", session_id: session.session_id } })
      // sessions belong to the server, so a second HTTP client can use the same session id
      const result = await b.callTool({ name: "run_code", arguments: { code: "shared", session_id: session.session_id } })
      expect(result.structuredContent).toMatchObject({ status: "ok", value: "'over http'" })
      // DNS rebinding protection: a page on another host name cannot drive the server
      const Http = await import("node:http")
      const wrongHost = await new Promise<number>((resolve, reject) => {
        const request = Http.request(url, {
          method: "POST",
          headers: { host: "evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" }
        }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
        })
        request.on("error", reject)
        request.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "x", version: "0" } } }))
      })
      expect(wrongHost).toBe(421) // Misdirected Request: not this listener's name
      await Promise.all(clients.map((c) => c.close()))
    } finally {
      server.kill("SIGTERM")
      await new Promise((resolve) => server.once("exit", resolve))
    }
    expect(log).toContain("sandbox container")
    expect(sandboxContainers(server.pid!)).toHaveLength(0)
  })

  it("every tool, the manager's too, says additionalProperties: false and refuses an unknown argument", async () => {
    const all = await startInterpreter({}, ["--manager-socket", Path.join(tempDir(), "no-daemon.sock")])
    try {
      const { tools } = await all.client.listTools()
      expect(tools.map((t) => t.name)).toEqual([
        "init", "close_session", "run_code", "run_file", "cp_in", "cp_out", "edit_file", "list_packages", "install_packages", "reset",
        "manager_status", "manager_restart"
      ])
      for (const tool of tools) {
        expect.soft(tool.inputSchema.additionalProperties, tool.name).toBe(false)
        const accepted = Object.keys(tool.inputSchema.properties ?? {})
        const result = await all.call(tool.name, { bogus_argument: 1 })
        expect(result.isError, tool.name).toBe(true)
        expect(textOf(result), tool.name).toContain(
          `unknown argument "bogus_argument" (${accepted.length === 0 ? "this tool takes no arguments" : `accepted: ${accepted.join(", ")}`})`
        )
      }
    } finally {
      await all.close()
    }
  })

  it("offers manager_status and manager_restart with --manager-socket, through the daemon's protocol", async () => {
    const { startDaemon, stopAllDaemons } = await import("./support/daemon.js")
    const daemon = await startDaemon({ config: "[alpha] sleep 1000\n" })
    try {
      const before = await daemon.running("alpha")
      const py = await startInterpreter({}, ["--manager-socket", daemon.socket])
      const { tools } = await py.client.listTools()
      expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["manager_status", "manager_restart"]))
      const status = await py.ok("manager_status")
      expect(status.servers).toMatchObject([{ name: "alpha", state: "running", pid: before.pid }])
      const restarted = await py.ok("manager_restart", { name: "alpha" })
      expect(restarted.server).toMatchObject({ name: "alpha", state: "running", restarts: 1 })
      const unknown = await py.call("manager_restart", { name: "nope" })
      expect(textOf(unknown)).toBe("no server named \"nope\" and none with that command (known: alpha)")
      await py.close()
      await daemon.stop()
      const offline = await startInterpreter({}, ["--manager-socket", daemon.socket])
      const down = await offline.call("manager_status")
      expect(down.isError).toBe(true)
      expect(textOf(down)).toBe(`cannot reach mcp-manager at ${daemon.socket}: is it running?`)
      await offline.close()
    } finally {
      await stopAllDaemons()
    }
  })
})
