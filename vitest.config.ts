import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the libraries from source; the built `dist/` is only for the processes tests spawn.
    alias: {
      '@fleetgate/ratelimit': src('./libs/ratelimit/src/index.ts'),
      '@fleetgate/routing': src('./libs/routing/src/index.ts'),
      '@fleetgate/fake-llm': src('./apps/fake-llm/src/index.ts'),
    },
  },
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/setup/redis.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
    pool: 'forks',
  },
});
