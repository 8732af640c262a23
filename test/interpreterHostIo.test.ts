// No blocking I/O on the interpreter's event loop: cp_in of a directory holding a FIFO must neither
// wait for a writer nor stop the server answering other sessions meanwhile (the built server, a
// real Docker engine, the official SDK client).
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Interpreter, startInterpreter, textOf } from "./support/interpreter.js"

/** Frees a reader stuck opening `fifo` (a regression), so the server can still be closed. */
const unblock = (fifo: string) => {
  try {
    Fs.closeSync(Fs.openSync(fifo, Fs.constants.O_WRONLY | Fs.constants.O_NONBLOCK))
  } catch {
    // no reader waiting: nothing to free
  }
}

describe("mcp-code-interpreter: no blocking host I/O", () => {
  let py: Interpreter
  const fifos: Array<string> = []
  beforeAll(async () => {
    py = await startInterpreter()
  })
  afterAll(async () => {
    fifos.forEach(unblock)
    await py?.close()
  })

  // bounded by the test's timeout: a server blocked on the FIFO answers neither call
  it("cp_in of a directory with a FIFO skips it at once, while another session's run_code is answered", { timeout: 30_000 }, async () => {
    const copier = (await py.ok("init")).session_id as string
    const other = (await py.ok("init")).session_id as string
    await py.ok("run_code", { code: "1", session_id: other }) // warm: the concurrent call below is not a first call
    const dir = Path.join(py.workIn, "project")
    Fs.mkdirSync(Path.join(dir, "src"), { recursive: true })
    Fs.writeFileSync(Path.join(dir, "README.txt"), "hello")
    Fs.writeFileSync(Path.join(dir, "src/main.py"), "print('main')\n")
    fifos.push(Path.join(dir, "src/pipe"), Path.join(py.workIn, "lone-pipe"))
    CP.execFileSync("mkfifo", fifos)

    const [copied, ran] = await Promise.all([
      py.call("cp_in", { local_path: "project", session_id: copier }),
      py.call("run_code", { code: "6 * 7", session_id: other })
    ])
    expect(copied.isError ?? false, textOf(copied)).toBe(false)
    expect(copied.structuredContent).toMatchObject({ files: 2, bytes: 19, skipped: ["project/src/pipe (fifo)"] })
    expect(textOf(copied)).toContain("; skipped project/src/pipe (fifo)")
    expect(ran.structuredContent).toMatchObject({ status: "ok", value: "42" })

    // the regular files arrived, the FIFO did not
    const listing = await py.ok("run_code", {
      code: "import os\nsorted(os.path.join(d, f) for d, _, fs in os.walk('project') for f in fs)",
      session_id: copier
    })
    expect(listing.value).toBe("['project/README.txt', 'project/src/main.py']")

    // a FIFO named directly is refused, without waiting either
    const lone = await py.call("cp_in", { local_path: "lone-pipe", session_id: copier })
    expect(lone.isError).toBe(true)
    expect(textOf(lone)).toContain("it is a fifo, neither a regular file nor a directory")
    await py.ok("close_session", { session_id: copier })
    await py.ok("close_session", { session_id: other })
  })
})
