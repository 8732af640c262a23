// Build the benchmark (TypeScript, bundled like the programs) and run it with this script's arguments.
import * as esbuild from "esbuild"
import { spawnSync } from "node:child_process"
import * as Path from "node:path"

const root = Path.resolve(import.meta.dirname, "..")
const outfile = Path.join(root, ".bench/build/bench.mjs")
await esbuild.build({
  entryPoints: [Path.join(root, "bench/main.ts")],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "inline",
  logLevel: "warning",
  // dependencies load from node_modules (and PM2 from .bench/pm2) at run time
  packages: "external",
  define: { "import.meta.dirname": JSON.stringify(Path.join(root, "bench")) },
  banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" }
})
const result = spawnSync(process.execPath, ["--enable-source-maps", outfile, ...process.argv.slice(2)], { stdio: "inherit" })
process.exit(result.status ?? 1)
