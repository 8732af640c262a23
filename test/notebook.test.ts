// Notebook-grade results through the official SDK client: plots as images, DataFrames as tables,
// progress while code runs, cancellation, pictures out of the sandbox, package installs.
import * as Zlib from "node:zlib"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Interpreter, onRuntime, sandboxRuntimes, startInterpreter, textOf } from "./support/interpreter.js"

/** Width and height of a PNG, after checking that its pixel data really decompresses. */
const decodePng = (base64: string) => {
  const png = Buffer.from(base64, "base64")
  expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a")
  let offset = 8
  let width = 0
  let height = 0
  let bytesPerPixel = 0
  const idat: Array<Buffer> = []
  while (offset < png.length) {
    const length = png.readUInt32BE(offset)
    const type = png.subarray(offset + 4, offset + 8).toString("ascii")
    const data = png.subarray(offset + 8, offset + 8 + length)
    if (type === "IHDR") {
      width = data.readUInt32BE(0)
      height = data.readUInt32BE(4)
      bytesPerPixel = ({ 2: 3, 6: 4, 0: 1, 4: 2 } as Record<number, number>)[data[9]!]! * (data[8]! / 8)
    }
    if (type === "IDAT") idat.push(data)
    offset += 12 + length
  }
  const pixels = Zlib.inflateSync(Buffer.concat(idat))
  expect(pixels.length).toBe(height * (1 + width * bytesPerPixel))
  return { width, height }
}

const images = (result: Awaited<ReturnType<Interpreter["call"]>>) =>
  result.content.flatMap((c) => (c.type === "image" ? [c] : []))

describe.each(sandboxRuntimes)("notebook-grade results (%s)", (runtime) => {
  let py: Interpreter
  let session: string
  beforeAll(async () => {
    py = await startInterpreter(onRuntime(runtime))
    session = (await py.ok("init")).session_id as string
  })
  afterAll(() => py?.close())

  it("returns matplotlib figures as PNG images, in order: plt.show() and figures left open", async () => {
    const result = await py.call("run_code", {
      session_id: session,
      code: [
        "import matplotlib.pyplot as plt",
        "plt.figure(figsize=(4, 2)); plt.plot([1, 3, 2]); plt.title('first')",
        "plt.show()",
        "plt.figure(figsize=(2, 4)); plt.bar(['a', 'b'], [3, 5])",
        "print('two figures')"
      ].join("\n")
    })
    expect(result.isError).toBe(false)
    expect(result.structuredContent).toMatchObject({ status: "ok", stdout: "two figures\n", figures: 2 })
    const [first, second] = images(result)
    expect(first!.mimeType).toBe("image/png")
    const a = decodePng(first!.data)
    const b = decodePng(second!.data)
    expect(a.width).toBeGreaterThan(a.height) // the 4x2 figure came first
    expect(b.height).toBeGreaterThan(b.width)
    // shown figures are closed: the next cell starts clean
    const next = await py.ok("run_code", { session_id: session, code: "import matplotlib.pyplot as plt\nlen(plt.get_fignums())" })
    expect(next).toMatchObject({ value: "0", figures: 0 })
    const backend = await py.ok("run_code", { session_id: session, code: "import matplotlib\nmatplotlib.get_backend()" })
    expect(backend.value).toBe("'module://mcp_inline'")
  })

  it("shows a DataFrame as a compact markdown table, bounded in rows and columns", async () => {
    const small = await py.call("run_code", {
      session_id: session,
      code: "import pandas as pd\ndf = pd.DataFrame({'city': ['Oslo', 'Lima'], 'temp': [3.5, 19.0]})\ndf"
    })
    expect(small.structuredContent).toMatchObject({ value_kind: "table" })
    expect(textOf(small)).toBe("Out:\n|  | city | temp |\n|---|---|---|\n| 0 | Oslo | 3.5 |\n| 1 | Lima | 19.0 |\n\n[2 rows x 2 columns]")
    const big = await py.ok("run_code", {
      session_id: session,
      code: "import numpy as np\npd.DataFrame(np.arange(1000 * 30).reshape(1000, 30))"
    })
    const table = big.value as string
    const rows = table.split("\n").filter((l) => l.startsWith("|"))
    expect(rows).toHaveLength(2 + 20 + 1) // header, rule, 20 rows and the elision row
    expect(rows[0]!.split("|").length - 2).toBe(1 + 10 + 1) // index, 10 columns, elision
    expect(table).toContain("[1000 rows x 30 columns]")
    expect((await py.ok("run_code", { session_id: session, code: "df['temp']" })).value_kind).toBe("table")
    expect((await py.ok("run_code", { session_id: session, code: "{'a': 1}" })).value).toBe("{'a': 1}")
  })

  it("sends progress notifications (elapsed time and output) during a long call", async () => {
    const progress: Array<{ progress: number; message?: string | undefined }> = []
    const result = await py.client.callTool(
      { name: "run_code", arguments: { session_id: session, code: "import time\nfor i in range(4):\n    print(f'step {i}', flush=True)\n    time.sleep(0.8)" } },
      undefined,
      { onprogress: (p) => void progress.push(p), timeout: 60_000 }
    )
    expect(result.isError).toBe(false)
    const messages = progress.map((p) => p.message ?? "")
    expect(messages).toEqual(expect.arrayContaining(["stdout: step 0", "stdout: step 3"]))
    expect(messages.some((m) => /^running for \ds$/.test(m))).toBe(true)
    const values = progress.map((p) => p.progress)
    expect(values).toEqual([...values].sort((x, y) => x - y)) // increasing
  })

  it("a cancelled call stops the code; the session keeps working", async () => {
    await py.ok("run_code", { session_id: session, code: "counter = 0" })
    const abort = new AbortController()
    const started = Date.now()
    const call = py.client.callTool(
      { name: "run_code", arguments: { session_id: session, code: "import time\nwhile True:\n    counter += 1\n    time.sleep(0.01)" } },
      undefined,
      { signal: abort.signal, timeout: 60_000 }
    ).then(() => "finished", (error: Error) => `rejected: ${error.message}`)
    setTimeout(() => abort.abort("enough"), 1000)
    expect(await call).toBe("rejected: MCP error -32001: enough")
    const after = await py.ok("run_code", { session_id: session, code: "first = counter\nimport time\ntime.sleep(0.3)\n(first, counter)" })
    const [first, later] = JSON.parse((after.value as string).replace("(", "[").replace(")", "]")) as [number, number]
    expect(first).toBeGreaterThan(10) // it ran until cancelled
    expect(later).toBe(first) // and runs no more
    expect(Date.now() - started).toBeLessThan(20_000)
  })

  it("cp_out returns a saved picture as image content when asked", async () => {
    await py.ok("run_code", {
      session_id: session,
      code: "import matplotlib.pyplot as plt\nplt.figure(figsize=(3, 3)); plt.plot([0, 1]); plt.savefig('chart.png'); plt.close('all')"
    })
    const plain = await py.call("cp_out", { container_path: "chart.png", session_id: session })
    expect(images(plain)).toHaveLength(0)
    const shown = await py.call("cp_out", { container_path: "chart.png", session_id: session, return_image: true })
    const [image] = images(shown)
    expect(image!.mimeType).toBe("image/png")
    expect(decodePng(image!.data).width).toBeGreaterThan(100)
    await py.ok("edit_file", { container_path: "notes.txt", content: "text", session_id: session })
    const notImage = await py.call("cp_out", { container_path: "notes.txt", session_id: session, return_image: true })
    expect(textOf(notImage)).toContain("not returned as an image")
  })

  it("list_packages gives name/version pairs; install_packages explains that the sandbox has no network", async () => {
    const listed = await py.call("list_packages")
    expect(textOf(listed)).toMatch(/^numpy==\d/m)
    const install = await py.call("install_packages", { packages: ["requests"], session_id: session })
    expect(install.isError).toBe(true)
    expect(textOf(install)).toContain("the sandbox has no network (PY_EXEC_NETWORK=none)")
    expect(textOf(install)).toContain("PY_EXEC_NETWORK=bridge")
    const injection = await py.call("install_packages", { packages: ["--index-url=http://evil"] })
    expect(injection.isError).toBe(true)
  })
})

describe.each(sandboxRuntimes)("install_packages with a network (%s)", (runtime) => {
  it("runs pip in the session and reports its failure clearly (no index reachable here)", async () => {
    const py = await startInterpreter({ ...onRuntime(runtime), PY_EXEC_NETWORK: "host" })
    const id = (await py.ok("init")).session_id as string
    const result = await py.call("install_packages", { packages: ["surely-not-a-package-xyz==1.0"], session_id: id })
    expect(result.isError).toBe(true)
    expect(result.structuredContent).toMatchObject({ status: "error", exception: { type: "SystemExit" } })
    expect(textOf(result)).toContain("pip failed with exit code")
    expect(textOf(result)).toMatch(/surely-not-a-package-xyz/)
    await py.close()
  })
})
