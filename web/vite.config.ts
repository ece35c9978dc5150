/**
 * The dashboard's build: Preact through Vite's own JSX transform (the tsconfig's
 * jsxImportSource), into dist/web, which the npm package ships and `lightsout
 * serve` answers at /. Hashed file names under assets/ are cached for good.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The browsers of today; no legacy bundle.
    target: 'es2022',
    reportCompressedSize: true,
  },
});
