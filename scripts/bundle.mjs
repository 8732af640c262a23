// Bundle each entry program into one file: a CLI that loads one file starts several times faster
// than one that resolves hundreds of modules (see the benchmark, npm run bench).
//
// mcp-manager and mcpctl go one step further: each is a CommonJS bundle (dist/NAME.cjs) started by
// a small launcher (dist/NAME.js) from V8's code cache (dist/NAME.cjs.cache). Compiling the ~1 MB
// bundle was a third of mcpctl's start and left ~20 MB of parser memory in the daemon. The build
// makes the caches by running both programs once (a daemon with one server, `mcpctl status`), so
// the cache holds the code that path runs. A cache that V8 rejects (another Node.js version) only
// costs that compile time again; without one the programs work the same.
import * as esbuild from "esbuild"
import * as CP from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as Path from "node:path"

const cached = ["daemon", "mcpctl"]
const plain = ["server"]
const trainingVar = "MCP_MANAGER_WRITE_CODE_CACHE"

/**
 * docker-modem loads ssh2 (a native addon) for ssh:// Docker hosts. The bundle talks to local
 * engines (unix socket, tcp) only, so ssh2 is replaced by a stub that says so when used.
 */
const withoutSsh2 = {
  name: "without-ssh2",
  setup(build) {
    build.onResolve({ filter: /^ssh2$/ }, () => ({ path: "ssh2", namespace: "stub" }))
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
      contents: "exports.Client = class { constructor() { throw new Error('ssh:// Docker hosts are not supported: use a unix socket or tcp DOCKER_HOST') } }",
      loader: "js"
    }))
  }
}

/**
 * Packages that mcp-manager and mcpctl bundle but never run: @effect/cli's config-file formats
 * (yaml, toml, ini) and @effect/rpc's MessagePack serialization (msgpackr, which probes for a
 * native addon when loaded); the control socket speaks ndjson. Each becomes a stub that says so if
 * it is ever called: ~190 KB less to load and a smaller code cache.
 */
const unusedByDaemonAndCtl = { yaml: ["parse", "stringify"], toml: ["parse"], ini: ["parse", "decode", "stringify", "encode"], msgpackr: ["Packr", "Unpackr", "encode", "decode"] }
const withoutUnused = {
  name: "without-unused",
  setup(build) {
    const names = Object.keys(unusedByDaemonAndCtl)
    build.onResolve({ filter: new RegExp(`^(${names.join("|")})$`) }, (args) => ({ path: args.path, namespace: "unused" }))
    build.onLoad({ filter: /.*/, namespace: "unused" }, (args) => ({
      contents: unusedByDaemonAndCtl[args.path].map((name) =>
        `exports.${name} = function () { throw new Error("${args.path}.${name}: not part of this build (scripts/bundle.mjs)") }`
      ).join("\n"),
      loader: "js"
    }))
  }
}

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  // the sandbox's Python programs (src/interpreter/python/*.py) are imported as their source text
  loader: { ".py": "text" },
  plugins: [withoutSsh2]
}

await esbuild.build({
  ...common,
  entryPoints: Object.fromEntries(plain.map((name) => [name, `src/${name}.ts`])),
  outdir: "dist",
  format: "esm",
  // bundled CommonJS dependencies call require(); give ESM output one
  banner: {
    js: "#!/usr/bin/env node\nimport{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"
  }
})

await esbuild.build({
  ...common,
  entryPoints: Object.fromEntries(cached.map((name) => [name, `src/${name}.ts`])),
  outdir: "dist",
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  plugins: [withoutSsh2, withoutUnused],
  // the sources are ES modules, strict by definition: keep them so as one CommonJS script
  banner: { js: "\"use strict\";" }
})

/** dist/NAME.js: runs NAME.cjs from its code cache (or writes the cache, when training). */
const launcher = (name) => `#!/usr/bin/env node
// ${name}: runs ${name}.cjs, compiled from V8's code cache ${name}.cjs.cache (see scripts/bundle.mjs).
import { readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

const file = fileURLToPath(new URL("./${name}.cjs", import.meta.url))
const training = process.env.${trainingVar} === "1"
let cachedData
try {
  if (!training) cachedData = readFileSync(\`\${file}.cache\`)
} catch {
  // no cache: compile as usual
}
const wrapped = \`(function (exports, require, module, __filename, __dirname) {\${readFileSync(file, "utf8")}\\n})\`
const script = new Script(wrapped, { filename: file, cachedData })
cachedData = undefined // compiled: the 2 MB buffer would otherwise stay for the life of the process
if (training) process.once("exit", () => writeFileSync(\`\${file}.cache\`, script.createCachedData()))
const module = { exports: {} }
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file))
`

for (const name of cached) {
  rmSync(`dist/${name}.cjs.cache`, { force: true })
  writeFileSync(`dist/${name}.js`, launcher(name))
  rmSync(`dist/${name}.js.map`, { force: true })
}
for (const name of [...cached, ...plain]) chmodSync(`dist/${name}.js`, 0o755)

/** Run the daemon with one server and `mcpctl status` against it, each writing its code cache. */
const train = async () => {
  const dir = mkdtempSync(Path.join(tmpdir(), "mcp-manager-build-"))
  const socket = Path.join(dir, "mcp.sock")
  const env = { ...process.env, [trainingVar]: "1" }
  writeFileSync(Path.join(dir, "mcp_server.conf"), "[build] sleep 600\n")
  const daemon = CP.spawn(process.execPath, ["dist/daemon.js", "--config", Path.join(dir, "mcp_server.conf"), "--socket", socket, "--runtime-dir", Path.join(dir, "run"), "--quiet"], {
    env,
    stdio: ["ignore", "ignore", "pipe"]
  })
  const exited = new Promise((resolve) => daemon.once("exit", resolve))
  try {
    let log = ""
    daemon.stderr.setEncoding("utf8").on("data", (chunk) => (log += chunk))
    const deadline = Date.now() + 30_000
    while (!log.includes("message=ready")) {
      if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`the daemon did not start:\n${log}`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const status = CP.spawnSync(process.execPath, ["dist/mcpctl.js", "--socket", socket, "status"], { env, encoding: "utf8", timeout: 30_000 })
    if (status.status !== 0) throw new Error(`mcpctl status failed: ${status.stderr}`)
  } finally {
    daemon.kill("SIGTERM")
    const stopped = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 15_000).unref())])
    if (!stopped) daemon.kill("SIGKILL")
    rmSync(dir, { recursive: true, force: true })
  }
}

try {
  await train()
  for (const name of cached) if (!existsSync(`dist/${name}.cjs.cache`)) throw new Error(`no cache was written for ${name}`)
} catch (error) {
  for (const name of cached) rmSync(`dist/${name}.cjs.cache`, { force: true })
  console.warn(`bundle: no code caches (the programs work, but start slower): ${error instanceof Error ? error.message : String(error)}`)
}
