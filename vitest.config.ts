import { defineConfig } from 'vitest/config';

// Integration tests start real daemons, Postfix tools and TLS sessions on
// loopback; they run one file at a time per worker and get generous timeouts
// (these are limits, never assertions about speed). Three workers on CI's two cores: most files wait on
// daemons, sockets and child processes rather than compute, and a third worker fills the time one of two would
// spend waiting (a full run: about 15 minutes with two, under 14 with three, on a loaded 2-core machine).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 3,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
