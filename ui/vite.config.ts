import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The app runs offline inside a Tauri webview: no CDNs, no web fonts,
// relative asset URLs so `dist/` can be served from any origin.
export default defineConfig({
  base: './',
  plugins: [svelte(), svelteTesting()],
  clearScreen: false,
  server: {
    // Tauri's `devUrl` should point here.
    port: 1420,
    strictPort: true,
    watch: { ignored: ['**/src-tauri/**'] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rollupOptions: {
      // Two pages: the main window and the approval window the Rust side
      // opens while a tool call waits for an answer. Relative to the root
      // (this folder), whatever the working directory.
      input: {
        main: 'index.html',
        approval: 'approval.html',
      },
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
    restoreMocks: true,
  },
});
