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
  entry: ['src/index.ts', 'src/node.ts'],
  splitting: true,
  format: ['esm', 'cjs'],
  dts: { compilerOptions: { composite: false, emitDeclarationOnly: false } },
  sourcemap: true,
  clean: true,
  target: 'es2022',
  noExternal: [fpTsModules],
  esbuildPlugins: [fpTsModuleFiles],
})
