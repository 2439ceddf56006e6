import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Runs the pack test alone: `npx vitest run -c test-pack/vitest.config.ts` (from the
// repository root). `pnpm test` runs it through the root config's include.
export default defineConfig({
  test: {
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test-pack/test/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_200_000,
  },
})
