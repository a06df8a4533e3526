import { defineConfig } from "vitest/config";

// The real-browser tests: Node drives headless Chromium against `wrangler dev` (see test-browser/).
// Separate from vitest.config.ts, whose tests run inside workerd.
export default defineConfig({
  test: {
    include: ["test-browser/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
