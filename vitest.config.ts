import { defineConfig } from "vitest/config"
import { pythonAsText } from "./test/support/pythonAsText.js"

export default defineConfig({
  plugins: [pythonAsText],
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/faults/**", "node_modules/**"],
    // Integration tests start real daemons and processes; a slow CI box must not fail them on time.
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
