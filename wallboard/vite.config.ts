// The wallboard is a static SPA: `vite build` writes wallboard/dist, which the API serves at `/`.
// In development `vite` proxies /graphql to a running API (CALLBOARD_API, default :4000).
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: './',
  plugins: [svelte(), svelteTesting()],
  // Component tests must load Svelte's browser build, not its server build.
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', sourcemap: true },
  server: {
    proxy: { '/graphql': { target: process.env.CALLBOARD_API ?? 'http://127.0.0.1:4000', changeOrigin: true } },
  },
});
