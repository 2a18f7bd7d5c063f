import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Root is this folder; `vite build dashboard` writes dashboard/dist, which the API server serves at `/`.
// `vite dashboard` serves it for development, proxying the API of a server running on :8000.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: { proxy: { '/graphql': { target: 'http://127.0.0.1:8000', ws: true } } },
});
