import { defineConfig } from "vitest/config"

// The fault and abuse suite (`npm run test:faults`): long, and it stops the Docker engine, so its
// files run one at a time and never beside the main suite.
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 120_000,
    globalSetup: ["test/faults/support/reportSetup.ts"]
  }
})
