import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node resolves `graphql` to its CommonJS build for us and for @apollo/*; Vite would pick the .mjs
    // build for our files, and two graphql instances reject each other's schemas ("another realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Two cores: files run in parallel forks, each opens its own databases.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
