import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/build.setup.ts'],
    // The suite never reads the wall clock for behaviour; a fixed zone keeps
    // any accidental local-time formatting reproducible across machines.
    env: { TZ: 'UTC' },
  },
});
