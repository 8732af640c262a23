import { defineConfig } from "vitest/config"
import { pythonAsText } from "./test/support/pythonAsText.js"

// The fault and abuse suite (`npm run test:faults`): long, and it stops the Docker engine, so its
// files run one at a time and never beside the main suite.
export default defineConfig({
  plugins: [pythonAsText],
  test: {
    include: ["test/faults/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    globalSetup: ["test/faults/support/reportSetup.ts"]
  }
})
