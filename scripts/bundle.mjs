// Bundle each entry program into one file: a CLI that loads one file starts several times faster
// than one that resolves hundreds of modules (see the benchmark).
import * as esbuild from "esbuild"
import { chmodSync } from "node:fs"

const entries = ["daemon", "mcpctl"]

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
  // bundled CommonJS dependencies call require(); give ESM output one
  banner: {
    js: "#!/usr/bin/env node\nimport{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);"
  }
})
for (const name of entries) chmodSync(`dist/${name}.js`, 0o755)
