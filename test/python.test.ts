// The sandbox's Python (src/interpreter/python/*.py) tested as Python: the stdlib unittest suite in
// test/python, run inside the image the interpreter tests use (its python3, numpy, pandas,
// matplotlib), so the helpers meet the same Python they meet in a sandbox.
import * as CP from "node:child_process"
import * as Path from "node:path"
import { expect, it } from "vitest"
import { requireDocker, testImage } from "./support/interpreter.js"

const root = Path.resolve(import.meta.dirname, "..")
/** The test methods test/python holds: a suite that finds fewer (a file not discovered) fails. */
const written = 32

it("the sandbox's Python helpers pass their unittest suite inside the test image", () => {
  requireDocker()
  const run = CP.spawnSync("docker", [
    "run", "--rm", "--network", "none",
    "-v", `${Path.join(root, "src/interpreter/python")}:/src:ro`,
    "-v", `${Path.join(root, "test/python")}:/tests:ro`,
    "-e", "PYTHONPATH=/src", "-e", "PYTHONDONTWRITEBYTECODE=1",
    testImage, "python3", "-m", "unittest", "discover", "-s", "/tests", "-v"
  ], { encoding: "utf8", timeout: 120_000 })
  const output = `${run.stdout}${run.stderr}${run.error ? `\n${run.error.message}` : ""}`
  expect(run.status, output).toBe(0)
  expect(Number(/^Ran (\d+) tests? in /m.exec(output)?.[1] ?? 0), output).toBeGreaterThanOrEqual(written)
})
