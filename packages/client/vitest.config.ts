import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // A real edge under `wrangler dev` starts once per file (about 20 s on CI's 2 shared cores).
    hookTimeout: 180_000,
    testTimeout: 30_000,
  },
});
