import { defineConfig } from 'vitest/config'

// Tests run against the TypeScript sources: the `source` export condition of
// each workspace package points at its src/index.ts, so no build is needed.
const conditions = ['source', 'import', 'module', 'node', 'default']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'bench/test/**/*.test.ts', 'test-pack/test/**/*.test.ts'],
    testTimeout: 60_000,
    // hooks that remove large temporary trees (the pack test's installed project) outlast the 10 s default on a loaded machine
    hookTimeout: 120_000,
    pool: 'forks',
  },
})
