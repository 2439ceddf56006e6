import { defineConfig } from 'tsup'

export default defineConfig({
  // `testing` is the `@frugal-ts/core/testing` entry (fast-check and vitest stay external: peer dependencies)
  entry: { index: 'src/index.ts', testing: 'src/testing/index.ts' },
  format: ['esm', 'cjs'],
  // both entries share one copy of the core modules (one Tensor class, one backend registry), in cjs too
  splitting: true,
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
})
