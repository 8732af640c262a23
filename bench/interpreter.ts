// Figures 7–10: the code interpreter (dist/server.js through the official MCP client) against
// `docker exec python3 -c` through dockerode and through the docker CLI (the seed's way).
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import Docker from "dockerode"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { PassThrough } from "node:stream"
import { pipeline } from "node:stream/promises"
import * as Tar from "tar-stream"
import { type Row, row } from "./results.js"
import { median, monotonicNs, msSince, own, ownContainer, repoRoot, run, runDir, runOk } from "./support.js"
import type { Plan } from "./supervisors.js"

const image = process.env.MCP_TEST_IMAGE ?? "mcp-code-interpreter-test:bookworm"
const serverJs = Path.join(repoRoot, "dist/server.js")
const ours = "mcp-code-interpreter"
const viaDockerode = "docker exec (dockerode)"
const viaCli = "docker exec (docker CLI)"

/** Fail clearly (never skip) when the engine or the image is missing. */
const requireDocker = async () => {
  const engine = await run("docker", ["info", "--format", "{{.ServerVersion}}"]).catch((e: Error) => ({ code: 1, stderr: e.message }))
  if (engine.code !== 0) throw new Error(`the interpreter figures need a running Docker engine (scripts/ensure-docker.sh starts one): ${engine.stderr.trim()}`)
  const found = await run("docker", ["image", "inspect", image])
  if (found.code !== 0) throw new Error(`the image ${image} is missing: build it with docker/build-offline-image.sh`)
}

// ---- our server, through the SDK client ---------------------------------------------------------

interface Server {
  readonly pid: number
  readonly workIn: string
  readonly workOut: string
  readonly call: (name: string, args?: Record<string, unknown>) => Promise<CallToolResult>
  readonly ok: (name: string, args?: Record<string, unknown>) => Promise<Record<string, unknown>>
  readonly close: () => Promise<void>
}

const startServer = async (): Promise<Server> => {
  const root = runDir("interpreter")
  const workIn = Path.join(root, "in")
  const workOut = Path.join(root, "out")
  Fs.mkdirSync(workIn)
  Fs.mkdirSync(workOut)
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverJs],
    cwd: root,
    env: { PATH: process.env.PATH ?? "", DOCKER_IMAGE: image, WORKDIR_IN: workIn, WORKDIR_OUT: workOut },
    stderr: "pipe"
  })
  let stderr = ""
  transport.stderr?.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-10_000)))
  const client = new Client({ name: "bench", version: "0.0.0" })
  await client.connect(transport)
  const pid = transport.pid!
  own(pid, "mcp-code-interpreter", serverJs)
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args }, undefined, { timeout: 300_000 })) as CallToolResult
  return {
    pid,
    workIn,
    workOut,
    call,
    ok: async (name, args) => {
      const result = await call(name, args)
      if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content).slice(0, 500)}\n${stderr}`)
      return result.structuredContent ?? {}
    },
    // stdin closed: the server removes its container and exits
    close: () => client.close()
  }
}

// ---- docker exec contenders ---------------------------------------------------------------------

const docker = new Docker()

/** A container like the sandbox (same image and limits) but with a plain /workspace, as `docker cp` needs. */
const startPlainContainer = async () => {
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["sleep", "infinity"],
    User: "65534:65534",
    WorkingDir: "/workspace",
    Labels: { "org.mcp-server-manager.bench": String(process.pid) },
    HostConfig: {
      NetworkMode: "none",
      Memory: 2 ** 30,
      MemorySwap: 2 ** 30,
      NanoCpus: 1e9,
      PidsLimit: 512,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      Init: true,
      Tmpfs: { "/tmp": "size=512m" }
    }
  })
  ownContainer(container.id)
  await container.start()
  // a writable /workspace for the sandbox user, in the container's own layer
  await runOk("docker", ["exec", "-u", "0", container.id, "chmod", "1777", "/workspace"])
  return container
}

const dockerodeExec = async (container: Docker.Container, cmd: ReadonlyArray<string>) => {
  const exec = await container.exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({ hijack: true, stdin: false })
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ""
  stdout.on("data", (c: Buffer) => (out += c.toString()))
  stderr.resume()
  docker.modem.demuxStream(stream, stdout, stderr)
  await new Promise<void>((resolve, reject) => {
    stream.on("end", () => resolve())
    stream.on("error", reject)
  })
  const { ExitCode } = await exec.inspect()
  return { code: ExitCode, stdout: out }
}

const cliExec = (id: string, cmd: ReadonlyArray<string>) => run("docker", ["exec", id, ...cmd])

// ---- figures -------------------------------------------------------------------------------------

const cpuJob = (seconds: number) =>
  `import time\nt = time.process_time()\nwhile time.process_time() - t < ${seconds}:\n    pass\nprint("done")`

const timed = async <A>(f: () => Promise<A>) => {
  const start = monotonicNs()
  const value = await f()
  return { ms: msSince(start), value }
}

const push = (samples: Map<string, Array<number>>, name: string, value: number) =>
  samples.set(name, [...samples.get(name) ?? [], value])

export const interpreterFigures = async (plan: Plan): Promise<ReadonlyArray<Row>> => {
  await requireDocker()
  const rows: Array<Row> = []
  const plain = await startPlainContainer()
  let server: Server | undefined
  try {
    // 7. warm run_code
    plan.log("7. run_code on a warm session")
    server = await startServer()
    const { session_id } = await server.ok("init") as { session_id: string }
    for (let i = 0; i < 5; i++) await server.ok("run_code", { code: "print(1)", session_id })
    const warm = new Map<string, Array<number>>()
    const rounds = plan.quick ? 20 : 100
    for (let i = 0; i < rounds; i++) {
      const s = server
      push(warm, ours, (await timed(() => s.ok("run_code", { code: "print(1)", session_id }))).ms)
      const viaApi = await timed(() => dockerodeExec(plain, ["python3", "-c", "print(1)"]))
      if (viaApi.value.code !== 0) throw new Error("docker exec (dockerode) failed")
      push(warm, viaDockerode, viaApi.ms)
      const viaCommand = await cliExec(plain.id, ["python3", "-c", "print(1)"])
      if (viaCommand.code !== 0) throw new Error(`docker exec failed: ${viaCommand.stderr}`)
      push(warm, viaCli, viaCommand.ms)
    }
    // the reference of the interpreter figures ("× floor"): the seed's way, the docker CLI
    const cliMedian = median(warm.get(viaCli) ?? [])
    for (const [name, xs] of warm) {
      rows.push(row('7. run_code("print(1)"), warm', name, "ms", xs, {
        floor: cliMedian,
        ...(name === ours ? { target: "p50 ≤ 10 ms", met: (m) => m <= 10 } : { note: "a new python3 process per call" })
      }))
    }

    await server.ok("close_session", { session_id }) // figure 9 opens PY_EXEC_SESSION_MAX sessions

    // 8. init on a warm server; first call on a cold server
    plan.log("8. init, cold start")
    const inits: Array<number> = []
    for (let i = 0; i < (plan.quick ? 5 : 20); i++) {
      const s = server
      const { ms, value } = await timed(() => s.ok("init"))
      inits.push(ms)
      await server.ok("close_session", { session_id: value.session_id })
    }
    rows.push(row("8. init (new session), warm server", ours, "ms", inits, { target: "≤ 30 ms", met: (m) => m <= 30 }))
    const cold = new Map<string, Array<number>>()
    for (let i = 0; i < (plan.quick ? 1 : 3); i++) {
      const { ms } = await timed(async () => {
        const fresh = await startServer()
        try {
          await fresh.ok("run_code", { code: "print(1)" })
        } finally {
          await fresh.close()
        }
      })
      push(cold, ours, ms)
      push(cold, "docker run --rm (docker CLI)", (await runOk("docker", ["run", "--rm", "--network", "none", image, "python3", "-c", "print(1)"])).ms)
    }
    for (const [name, xs] of cold) {
      rows.push(row("8. first call on a cold server (process + container start)", name, "ms", xs, {
        floor: median(cold.get("docker run --rm (docker CLI)") ?? []),
        note: name === ours ? "spawn server, MCP handshake, container create+start, session, print(1)" : "container create+start, python3"
      }))
    }

    // 9. many sessions at once
    const sessions = plan.quick ? 8 : 32
    const jobSeconds = 1
    plan.log(`9. ${sessions} sessions × ${jobSeconds} s CPU`)
    const parallel = new Map<string, { ms: number; failures: number }>()
    {
      const s = server
      const ids = await Promise.all(Array.from({ length: sessions }, async () => ((await s.ok("init")) as { session_id: string }).session_id))
      const { ms, value } = await timed(() => Promise.all(ids.map((id) => s.call("run_code", { code: cpuJob(jobSeconds), session_id: id }))))
      parallel.set(ours, { ms, failures: value.filter((r) => r.isError || (r.structuredContent as { status?: string } | undefined)?.status !== "ok").length })
      await Promise.all(ids.map((id) => s.ok("close_session", { session_id: id })))
    }
    {
      const { ms, value } = await timed(() => Promise.all(Array.from({ length: sessions }, () => dockerodeExec(plain, ["python3", "-c", cpuJob(jobSeconds)]).catch(() => ({ code: -1 })))))
      parallel.set(viaDockerode, { ms, failures: value.filter((r) => r.code !== 0).length })
    }
    {
      const { ms, value } = await timed(() => Promise.all(Array.from({ length: sessions }, () => cliExec(plain.id, ["python3", "-c", cpuJob(jobSeconds)]))))
      parallel.set(viaCli, { ms, failures: value.filter((r) => r.code !== 0).length })
    }
    const ideal = sessions * jobSeconds * 1000 // 1 CPU (PY_EXEC_CPUS and the plain container's limit)
    for (const [name, { failures, ms }] of parallel) {
      rows.push(row(`9. ${sessions} sessions × ${jobSeconds} s CPU at once: wall time`, name, "ms", [ms], {
        floor: parallel.get(viaCli)?.ms,
        note: `${failures} failed; ideal ${ideal / 1000} s on the 1-CPU limit`
      }))
      rows.push(row(`9. ${sessions} sessions × ${jobSeconds} s CPU at once: failures`, name, "failed", [failures], {
        ...(name === ours ? { target: "0", met: (m) => m === 0 } : {})
      }))
    }

    // 10. 100 MB each way
    plan.log("10. cp_in / cp_out of 100 MB")
    const size = 100 * 1e6
    const file = Path.join(server.workIn, "big.bin")
    Fs.writeFileSync(file, Crypto.randomBytes(size))
    const local = runDir("cp")
    const throughput = new Map<string, Array<number>>()
    const mbps = (ms: number) => size / 1e6 / (ms / 1000)
    for (let i = 0; i < (plan.quick ? 1 : 3); i++) {
      const s = server
      const input = await timed(() => s.ok("cp_in", { local_path: "big.bin", container_path: "/workspace/big.bin" }))
      push(throughput, `${ours} cp_in`, mbps(input.ms))
      const output = await timed(() => s.ok("cp_out", { container_path: "/workspace/big.bin", local_path: `big-${i}.bin` }))
      push(throughput, `${ours} cp_out`, mbps(output.ms))
      if (Fs.statSync(Path.join(server.workOut, `big-${i}.bin`)).size !== size) throw new Error("cp_out wrote a file of the wrong size")
      Fs.rmSync(Path.join(server.workOut, `big-${i}.bin`))

      push(throughput, "docker cp in (docker CLI)", mbps((await runOk("docker", ["cp", file, `${plain.id}:/workspace/big.bin`])).ms))
      push(throughput, "docker cp out (docker CLI)", mbps((await runOk("docker", ["cp", `${plain.id}:/workspace/big.bin`, Path.join(local, "big.bin")])).ms))
      Fs.rmSync(Path.join(local, "big.bin"))

      const put = await timed(async () => {
        const pack = Tar.pack()
        const entry = pack.entry({ name: "big2.bin", size, mode: 0o644 })
        // the engine reads the archive while the file is written into it
        const uploaded = plain.putArchive(pack, { path: "/workspace" })
        await pipeline(Fs.createReadStream(file), entry)
        pack.finalize()
        await uploaded
      })
      push(throughput, "putArchive (dockerode)", mbps(put.ms))
      const get = await timed(async () => {
        const archive = await plain.getArchive({ path: "/workspace/big2.bin" })
        const extract = Tar.extract()
        const done = new Promise<void>((resolve, reject) => {
          extract.on("entry", (_header, stream, next) => {
            stream.pipe(Fs.createWriteStream(Path.join(local, "big2.bin"))).on("finish", next).on("error", reject)
          })
          extract.on("finish", resolve)
          extract.on("error", reject)
        })
        archive.pipe(extract)
        await done
      })
      push(throughput, "getArchive (dockerode)", mbps(get.ms))
      Fs.rmSync(Path.join(local, "big2.bin"))
    }
    Fs.rmSync(file)
    for (const [name, xs] of throughput) {
      const reference = median(throughput.get(name.endsWith("cp_in") || name.includes(" in ") || name.startsWith("put") ? "docker cp in (docker CLI)" : "docker cp out (docker CLI)") ?? [])
      rows.push(row("10. 100 MB file copy", name, "MB/s", xs, {
        floor: reference,
        ...(name.startsWith(ours) ? { target: "≥ 200 MB/s", met: (m) => m >= 200 } : {})
      }))
    }
  } finally {
    await server?.close()
    await plain.remove({ force: true }).catch(() => undefined)
  }
  return rows
}
