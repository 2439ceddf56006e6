import { defineConfig } from 'tsup'
import type { Options } from 'tsup'

type Plugin = NonNullable<Options['esbuildPlugins']>[number]

// fp-ts 2 has no `exports` map: `fp-ts/Either` is a folder with a package.json, which
// bundlers and require() follow but Node's ESM loader refuses (ERR_UNSUPPORTED_DIR_IMPORT).
// The built files import the module files themselves (`fp-ts/lib/Either.js`), which both
// load. (`noExternal` below only keeps tsup's own external rule from answering first.)
const fpTsModules = /^fp-ts\/\w+$/
const fpTsModuleFiles: Plugin = {
  name: 'fp-ts-module-files',
  setup(build) {
    build.onResolve({ filter: fpTsModules }, (args) => ({ path: `fp-ts/lib/${args.path.slice('fp-ts/'.length)}.js`, external: true }))
  },
}

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
  noExternal: [fpTsModules],
  esbuildPlugins: [fpTsModuleFiles],
})
