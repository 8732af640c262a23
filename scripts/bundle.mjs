// Bundle each entry program into one file: a CLI that loads one file starts several times faster
// than one that resolves hundreds of modules (see the benchmark).
import * as esbuild from "esbuild"
import { chmodSync } from "node:fs"

const entries = ["daemon", "mcpctl", "server"]

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

await esbuild.build({
  entryPoints: Object.fromEntries(entries.map((name) => [name, `src/${name}.ts`])),
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  sourcemap: "linked",
  legalComments: "none",
  logLevel: "warning",
  plugins: [withoutSsh2],
  // bundled CommonJS dependencies call require(); give ESM output one
  banner: {
    js: "#!/usr/bin/env node\nimport{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"
  }
})
for (const name of entries) chmodSync(`dist/${name}.js`, 0o755)
