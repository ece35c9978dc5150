import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/build.setup.ts', 'test/postgres.setup.ts'],
    // Each store test migrates a fresh PostgreSQL schema; on a loaded 2-core CI
    // machine that alone can pass 5 s. Timeouts guard hangs, not speed.
    testTimeout: 20_000,
    // The suite never reads the wall clock for behaviour; a fixed zone keeps
    // any accidental local-time formatting reproducible across machines.
    env: { TZ: 'UTC' },
  },
});
