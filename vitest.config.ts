import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run the libraries from source; the built `dist/` is only for the processes tests spawn.
const alias = {
  '@fleetgate/ratelimit': src('./libs/ratelimit/src/index.ts'),
  '@fleetgate/routing': src('./libs/routing/src/index.ts'),
  '@fleetgate/fake-llm': src('./apps/fake-llm/src/index.ts'),
};

export default defineConfig({
  resolve: { alias },
  test: {
    globalSetup: ['./test/setup/redis.ts'],
    reporters: ['default', ['json', { outputFile: '.vitest/results.json' }]],
    pool: 'forks',
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias },
        test: {
          // Real processes on loopback ports: one file at a time, so timing-sensitive fleet tests do
          // not fight each other for the two cores of a CI machine.
          name: 'processes',
          include: ['test/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
