import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Creates the per-run Postgres database (or reports why the Postgres suites are skipped).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Native drivers (better-sqlite3, pg) are happiest in child processes; two forks match the
    // two cores of the build machine.
    pool: 'forks',
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    env: { FLUXOPS_LOG_LEVEL: process.env.FLUXOPS_LOG_LEVEL ?? 'silent' },
  },
});
