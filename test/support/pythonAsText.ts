// Vite plugin for both vitest configs: `import source from "./x.py"` gives the file's text, as
// esbuild's "text" loader does in the bundle (scripts/bundle.mjs).
import * as Fs from "node:fs"
import type { Plugin } from "vitest/config"

export const pythonAsText: Plugin = {
  name: "python-as-text",
  load: (id) => id.endsWith(".py") ? `export default ${JSON.stringify(Fs.readFileSync(id, "utf8"))}` : null
}
