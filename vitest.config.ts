import { defineConfig } from 'vitest/config';

// Integration tests start real daemons, Postfix tools and TLS sessions on
// loopback; they run one file at a time per worker and get generous timeouts
// (these are limits, never assertions about speed).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', ['json', { outputFile: 'reports/vitest.json' }]],
  },
});
