import { defaultClientConditions, defineConfig } from 'vite'
import { sotuPlugin } from './sotu'

// Cross-origin isolation lets the cpu backend keep tensors in shared
// WebAssembly memory and split work across Web Workers; without these headers
// (any static host) it runs single-threaded, and everything else is unchanged.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }

export default defineConfig({
  // relative asset URLs: dist/ works from any folder or file server
  base: './',
  plugins: [sotuPlugin({ speeches: 16, charsPerSpeech: 20_000 })],
  // the workspace packages are used from their TypeScript sources (their `source` export condition)
  resolve: { conditions: ['source', ...defaultClientConditions], dedupe: ['@tensorflow/tfjs-core'] },
  optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgl', 'gpu.js'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { host: '127.0.0.1', headers: isolation },
  preview: { host: '127.0.0.1', headers: isolation },
})
