import { execFileSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { type RedisServer, startRedisServer } from '../support/redis-server.js';

/**
 * Finds the real Redis every Redis test talks to (DESIGN.md, "How we know it works"):
 * `REDIS_URL` if set, else a testcontainers Redis when a Docker engine answers, else a
 * `redis-server` binary started on a free loopback port. Tests read it with `inject('redisUrl')`
 * and give every test its own key prefix, so they can share one server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = process.env['REDIS_URL'];
  if (fromEnv) {
    project.provide('redisUrl', fromEnv);
    return async () => {};
  }
  if (dockerEngineAnswers()) {
    const { GenericContainer } = await import('testcontainers');
    const container = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    project.provide('redisUrl', `redis://${container.getHost()}:${container.getMappedPort(6379)}`);
    return async () => {
      await container.stop();
    };
  }
  let server: RedisServer;
  try {
    server = await startRedisServer();
  } catch (error) {
    throw new Error(
      'no Redis for the tests: set REDIS_URL, start a Docker engine, or install redis-server ' +
        `(apt-get install redis-server): ${String(error)}`,
    );
  }
  project.provide('redisUrl', server.url);
  return () => server.close();
}

function dockerEngineAnswers(): boolean {
  try {
    execFileSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 3_000 });
    return true;
  } catch {
    return false;
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
