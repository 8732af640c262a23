// Runs the built mcp-code-interpreter (dist/server.js) against the real Docker engine, driven by
// the official MCP SDK client.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir } from "./daemon.js"

export const serverJs = Path.resolve(import.meta.dirname, "../../dist/server.js")

/** Built by docker/build-offline-image.sh (no registry needed); .ci/run builds it. */
export const testImage = process.env.MCP_TEST_IMAGE ?? "mcp-code-interpreter-test:bookworm"

/** Fail loudly (never skip) when the engine or the image is missing. */
export const requireDocker = () => {
  const engine = CP.spawnSync("docker", ["info", "--format", "{{.ServerVersion}}"], { encoding: "utf8" })
  if (engine.status !== 0) {
    throw new Error(
      `These tests need a running Docker engine and none answers (${engine.stderr.trim()}). Start one with scripts/ensure-docker.sh (.ci/run does).`
    )
  }
  const image = CP.spawnSync("docker", ["image", "inspect", testImage], { encoding: "utf8" })
  if (image.status !== 0) {
    throw new Error(`The test image ${testImage} is missing: build it with docker/build-offline-image.sh (.ci/run does).`)
  }
}

/**
 * The Docker runtimes the sandbox's suites run under, each group once per runtime with the runtime
 * in its name: runc (the engine's usual default) and gVisor's runsc, which
 * scripts/test-prerequisites.sh installs and registers. `TEST_SANDBOX_RUNTIMES=runc` runs one.
 */
export const sandboxRuntimes: ReadonlyArray<string> = (process.env.TEST_SANDBOX_RUNTIMES ?? "runc,runsc")
  .split(",").map((r) => r.trim()).filter((r) => r !== "")

const engineRuntimes = new Map<string, boolean>()

/** The server's environment for a sandbox under `runtime`; fails loudly when the engine lacks it. */
export const onRuntime = (runtime: string): Record<string, string> => {
  if (!engineRuntimes.has(runtime)) {
    const info = CP.spawnSync("docker", ["info", "--format", "{{json .Runtimes}}"], { encoding: "utf8" })
    engineRuntimes.set(runtime, info.status === 0 && Object.hasOwn(JSON.parse(info.stdout) as object, runtime))
  }
  if (!engineRuntimes.get(runtime)) {
    throw new Error(`The Docker engine has no runtime ${runtime}: scripts/test-prerequisites.sh installs runsc (gVisor) and registers it.`)
  }
  return { PY_EXEC_RUNTIME: runtime }
}

/** The runtime a server's sandbox container was created with (HostConfig.Runtime). */
export const containerRuntime = (container: string): string =>
  CP.execFileSync("docker", ["inspect", "--format", "{{.HostConfig.Runtime}}", container], { encoding: "utf8" }).trim()

export const sandboxContainers = (ownerPid: number): ReadonlyArray<string> =>
  CP.execFileSync("docker", ["ps", "-a", "--filter", "label=org.mcp-server-manager.sandbox", "--format", "{{.ID}} {{.Label \"org.mcp-server-manager.owner\"}}"], {
    encoding: "utf8"
  }).split("\n").filter((line) => line.split(" ")[1]?.split("/")[1] === String(ownerPid)).map((line) => line.split(" ")[0]!)

export interface Interpreter {
  readonly client: Client
  readonly transport: StdioClientTransport
  readonly workIn: string
  readonly workOut: string
  readonly pid: number
  readonly stderr: () => string
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>
  /** structuredContent of a call that must succeed. */
  readonly ok: (name: string, args?: Record<string, unknown>) => Promise<Record<string, unknown>>
  readonly close: () => Promise<void>
}

export const textOf = (result: CallToolResult) =>
  result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join("\n")

export const startInterpreter = async (env: Readonly<Record<string, string>> = {}, args: ReadonlyArray<string> = []): Promise<Interpreter> => {
  requireDocker()
  const root = tempDir("mcpi-")
  const workIn = Path.join(root, "in")
  const workOut = Path.join(root, "out")
  Fs.mkdirSync(workIn)
  Fs.mkdirSync(workOut)
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverJs, ...args],
    cwd: root,
    env: { PATH: process.env.PATH ?? "", DOCKER_IMAGE: testImage, WORKDIR_IN: workIn, WORKDIR_OUT: workOut, ...env },
    stderr: "pipe"
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const client = new Client({ name: "interpreter-test", version: "0.0.0" })
  await client.connect(transport)
  const call = async (name: string, callArgs: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: callArgs }, undefined, { timeout: 120_000 })) as CallToolResult
  return {
    client,
    transport,
    workIn,
    workOut,
    pid: transport.pid!,
    stderr: () => stderr,
    call,
    ok: async (name, callArgs) => {
      const result = await call(name, callArgs)
      if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`)
      return result.structuredContent ?? {}
    },
    close: () => client.close()
  }
}
