import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: files run in parallel forks, each opens its own databases.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
