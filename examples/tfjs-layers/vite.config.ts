import { defaultClientConditions, defineConfig } from 'vite'

export default defineConfig({
  // relative asset URLs: dist/ works from any folder or file server
  base: './',
  // the workspace packages are used from their TypeScript sources (their `source` export condition)
  resolve: { conditions: ['source', ...defaultClientConditions], dedupe: ['@tensorflow/tfjs-core'] },
  optimizeDeps: { include: ['@tensorflow/tfjs-core', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-backend-webgl'] },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
})
