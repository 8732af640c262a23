// Who may use an HTTP listener: the rules (src/shared/httpAccess.ts), then the built interpreter's
// --http refusing to start open to the network, and refusing requests before reading their bodies.
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import * as CP from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  allowedHosts,
  allowedOrigins,
  bearerMatches,
  isLoopbackHost,
  refusal,
  tokenDigest
} from "../src/shared/httpAccess.js"
import { eventually, tempDir } from "./support/daemon.js"
import { serverJs, testImage } from "./support/interpreter.js"

describe("HTTP access rules", () => {
  it("loopback is 127.0.0.0/8, ::1 and localhost; wildcards and other addresses are not", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost", "LOCALHOST"]) {
      expect(isLoopbackHost(host), host).toBe(true)
    }
    for (const host of ["0.0.0.0", "::", "", "192.168.1.5", "128.0.0.1", "::2", "example.com", "localhost.example.com"]) {
      expect(isLoopbackHost(host), host).toBe(false)
    }
  })

  it("Host and Origin: the listener's own; loopback answers to its other names; a wildcard to any Host", () => {
    expect(allowedHosts("127.0.0.1", 8765)).toEqual(["127.0.0.1:8765", "localhost:8765", "[::1]:8765"])
    expect(allowedHosts("::1", 8765)).toEqual(["[::1]:8765", "localhost:8765", "127.0.0.1:8765"])
    expect(allowedHosts("10.0.0.5", 80)).toEqual(["10.0.0.5:80", "10.0.0.5"])
    expect(allowedHosts("0.0.0.0", 8765)).toBeUndefined()
    expect(allowedOrigins("localhost", 8765, "localhost:8765")).toEqual(["http://localhost:8765", "http://127.0.0.1:8765", "http://[::1]:8765"])
    expect(allowedOrigins("::", 8765, "Box.lan:8765")).toEqual(["http://box.lan:8765"])
  })

  it("the bearer token: scheme in any case, the exact token only", () => {
    const digest = tokenDigest("s3cret")
    expect(bearerMatches(digest, "Bearer s3cret")).toBe(true)
    expect(bearerMatches(digest, "bearer  s3cret ")).toBe(true)
    for (const header of [undefined, "", "Bearer", "Bearer s3cre", "Bearer s3cret2", "Basic s3cret", "s3cret"]) {
      expect(bearerMatches(digest, header), String(header)).toBe(false)
    }
  })

  it("refusals in order: Host 421, Origin 403, token 401, announced body 413", () => {
    const policy = { host: "127.0.0.1", tokenDigest: tokenDigest("t"), maxBodyBytes: 100 }
    const ok = { host: "127.0.0.1:9", authorization: "Bearer t", "content-length": "100" }
    expect(refusal(policy, 9, ok)).toBeUndefined()
    expect(refusal(policy, 9, { ...ok, origin: "http://localhost:9" })).toBeUndefined()
    expect(refusal(policy, 9, { ...ok, host: "evil.example:9", origin: "http://evil.example" })?.status).toBe(421)
    expect(refusal(policy, 9, { ...ok, host: "127.0.0.1:10" })?.status).toBe(421)
    expect(refusal(policy, 9, { ...ok, origin: "http://evil.example", authorization: undefined })?.status).toBe(403)
    expect(refusal(policy, 9, { ...ok, origin: "null" })?.status).toBe(403)
    expect(refusal(policy, 9, { ...ok, authorization: undefined })).toMatchObject({ status: 401, headers: { "www-authenticate": `Bearer realm="mcp"` } })
    expect(refusal(policy, 9, { ...ok, "content-length": "101" })?.status).toBe(413)
    expect(refusal({ ...policy, tokenDigest: undefined }, 9, { host: "127.0.0.1:9" })).toBeUndefined()
  })
})

interface Started {
  readonly port: number
  readonly url: string
  readonly stderr: () => string
  readonly stop: () => Promise<void>
}

/** The built server on --http 0 with `args`; resolves once it listens (its port from the log), or rejects with its stderr if it exits. */
const startHttp = async (args: ReadonlyArray<string>): Promise<Started> => {
  const server = CP.spawn(process.execPath, [serverJs, "--http", "0", ...args], {
    env: { ...process.env, DOCKER_IMAGE: testImage },
    stdio: ["ignore", "ignore", "pipe"]
  })
  let log = ""
  server.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => server.once("exit", resolve))
  const port = await Promise.race([
    eventually(() => /on http:\/\/\S+:(\d+)\/mcp/.exec(log)?.[1], 15_000, "the HTTP address").then(Number),
    exited.then((code) => Promise.reject(new Error(`exited with ${code}: ${log}`)))
  ])
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    stderr: () => log,
    stop: async () => {
      server.kill("SIGTERM")
      await exited
    }
  }
}

/** Runs the server to its exit: what it printed on stderr, and the code. */
const refusedStart = (args: ReadonlyArray<string>) =>
  new Promise<{ readonly code: number | null; readonly stderr: string }>((resolve) => {
    CP.execFile(process.execPath, [serverJs, "--http", "0", ...args], { env: { ...process.env, DOCKER_IMAGE: testImage }, timeout: 15_000 }, (error, _stdout, stderr) =>
      resolve({ code: error === null ? 0 : (error.code as number), stderr }))
  })

const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } }
})
const mcpHeaders = { "content-type": "application/json", accept: "application/json, text/event-stream" }

const post = (url: string, headers: Record<string, string>, body: RequestInit["body"] = initialize) =>
  fetch(url, { method: "POST", headers: { ...mcpHeaders, ...headers }, body, duplex: "half" } as RequestInit)

/** A request with a Host header of our choosing (fetch does not let one be set). */
const withHost = (port: number, host: string, path = "/mcp") =>
  new Promise<number>((resolve, reject) => {
    const request = Http.request({ host: "127.0.0.1", port, path, method: "POST", headers: { ...mcpHeaders, host } }, (response) => {
      response.resume()
      resolve(response.statusCode ?? 0)
    })
    request.on("error", reject)
    request.end(initialize)
  })

const toolNames = async (url: string, headers: Record<string, string> = {}) => {
  const client = new Client({ name: "http-access-test", version: "0" })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  try {
    return (await client.listTools()).tools.map((tool) => tool.name)
  } finally {
    await client.close()
  }
}

const token = "tok-7f3a9c1e5b2d4f60a8e9"

describe("Streamable HTTP access: --host, --http-token-file, Origin, Host, --http-max-body", () => {
  const dir = tempDir("mcp-http-")
  const tokenFile = Path.join(dir, "token")
  Fs.writeFileSync(tokenFile, `\n${token}  \n`, { mode: 0o600 })

  it("a non-loopback --host without --http-token-file does not start: exit 2 and one line saying so", async () => {
    const { code, stderr } = await refusedStart(["--host", "0.0.0.0"])
    expect(code).toBe(2)
    expect(stderr.trim()).toBe(
      "mcp-code-interpreter: refusing to serve HTTP on 0.0.0.0 without a token: it is not a loopback address (127.0.0.0/8, ::1, localhost), " +
        `so anyone who can reach it would be served. Give --http-token-file FILE (clients then send "Authorization: Bearer <token>"), or listen on 127.0.0.1`
    )
  })

  it("a token file that is missing or empty stops the start, naming the file", async () => {
    const missing = await refusedStart(["--host", "0.0.0.0", "--http-token-file", Path.join(dir, "nope")])
    expect(missing).toEqual({ code: 2, stderr: `mcp-code-interpreter: --http-token-file ${Path.join(dir, "nope")}: cannot read it: ENOENT: no such file or directory\n` })
    const empty = Path.join(dir, "empty")
    Fs.writeFileSync(empty, " \n", { mode: 0o600 })
    const blank = await refusedStart(["--http-token-file", empty])
    expect(blank).toEqual({ code: 2, stderr: `mcp-code-interpreter: --http-token-file ${empty}: it holds no token (the file is empty)\n` })
  })

  describe("on 0.0.0.0 with a token file", () => {
    let server: Started
    beforeAll(async () => {
      server = await startHttp(["--host", "0.0.0.0", "--http-token-file", tokenFile])
    })
    afterAll(() => server?.stop())

    it("every request needs the bearer token: none or a wrong one is 401, the right one lists the tools", async () => {
      const none = await post(server.url, {})
      expect(none.status).toBe(401)
      expect(none.headers.get("www-authenticate")).toMatch(/^Bearer\b/)
      const wrong = await post(server.url, { authorization: "Bearer tok-7f3a9c1e5b2d4f60a8e8" })
      expect(wrong.status).toBe(401)
      expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer\b/)
      expect((await fetch(`http://127.0.0.1:${server.port}/elsewhere`)).status).toBe(401) // every path
      await expect(toolNames(server.url)).rejects.toThrow()
      expect(await toolNames(server.url, { Authorization: `Bearer ${token}` })).toContain("run_code")
    })

    it("a foreign Origin is 403, even with the token; the listener's own is served", async () => {
      const foreign = await post(server.url, { authorization: `Bearer ${token}`, origin: "http://evil.example" })
      expect(foreign.status).toBe(403)
      const own = await post(server.url, { authorization: `Bearer ${token}`, origin: `http://127.0.0.1:${server.port}` })
      expect(own.status).toBe(200)
      await own.body?.cancel()
    })

    it("the token never shows in the server's log", () => {
      expect(server.stderr()).toContain("on http://0.0.0.0:")
      expect(server.stderr()).not.toContain(token)
      expect(server.stderr()).not.toContain("open to group or others") // the file is 0600
    })
  })

  describe("on 127.0.0.1", () => {
    let server: Started
    beforeAll(async () => {
      server = await startHttp([])
    })
    afterAll(() => server?.stop())

    it("a foreign Host is 421 on any path (DNS rebinding), the listener's names are served", async () => {
      expect(await withHost(server.port, "evil.example")).toBe(421)
      expect(await withHost(server.port, `evil.example:${server.port}`, "/other")).toBe(421)
      expect(await withHost(server.port, `127.0.0.1:${server.port + 1}`)).toBe(421)
      expect(await withHost(server.port, `localhost:${server.port}`)).toBe(200)
    })

    it("a foreign Origin is 403 on any path; localhost's is the listener's own", async () => {
      expect((await post(server.url, { origin: "http://evil.example" })).status).toBe(403)
      expect((await post(`http://127.0.0.1:${server.port}/other`, { origin: "https://evil.example" })).status).toBe(403)
      const own = await post(server.url, { origin: `http://localhost:${server.port}` })
      expect(own.status).toBe(200)
      await own.body?.cancel()
    })

    it("a 6 MiB body is 413, announced or streamed, and the server keeps serving", async () => {
      const announced = await post(server.url, {}, Buffer.alloc(6 * 1024 * 1024, 0x20))
      expect(announced.status).toBe(413)
      expect(await announced.text()).toContain("request body over 4194304 bytes")
      // decided on Content-Length alone: the answer comes though not a byte of the body was sent
      const unsent = await new Promise<number>((resolve, reject) => {
        const request = Http.request(server.url, { method: "POST", headers: { ...mcpHeaders, "content-length": String(6 * 1024 * 1024) } }, (response) => {
          response.resume()
          resolve(response.statusCode ?? 0)
          request.destroy()
        })
        request.on("error", reject)
        request.setTimeout(10_000, () => reject(new Error("no answer before the body")))
        request.flushHeaders()
      })
      expect(unsent).toBe(413)
      let sent = 0
      const chunked = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          if (sent >= 6 * 1024 * 1024) return controller.close()
          sent += 256 * 1024
          controller.enqueue(new Uint8Array(256 * 1024).fill(0x20))
        }
      })
      expect((await post(server.url, {}, chunked)).status).toBe(413)
      expect(await toolNames(server.url)).toContain("run_code")
    })
  })

  it("on loopback a token file is honoured too; --http-max-body sets the bound; a token file open to others is warned about", async () => {
    const shared = Path.join(dir, "shared-token")
    Fs.writeFileSync(shared, token, { mode: 0o644 })
    Fs.chmodSync(shared, 0o644)
    const server = await startHttp(["--http-token-file", shared, "--http-max-body", "1k"])
    try {
      expect((await post(server.url, {})).status).toBe(401)
      expect((await post(server.url, { authorization: `Bearer ${token}` }, JSON.stringify({ pad: "x".repeat(2000) }))).status).toBe(413)
      expect(await toolNames(server.url, { Authorization: `Bearer ${token}` })).toContain("run_code")
      expect(server.stderr()).toContain(`the token file ${shared} is open to group or others (mode 644): chmod 600 ${shared}`)
      expect(server.stderr()).not.toContain(token)
    } finally {
      await server.stop()
    }
  })
})
