import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // import.meta.url (used to locate gpu.js's optional 'gl' module for error messages) in the CJS build
  shims: true,
})
