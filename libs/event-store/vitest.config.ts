import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    name: "event-store",
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000
  }
})
