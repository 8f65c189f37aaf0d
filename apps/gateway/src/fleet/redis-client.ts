import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { RedisSettings } from '../config/gateway-config.js';

/**
 * ioredis tuned so no request waits on Redis longer than `commandTimeoutMs`: no offline queue (a
 * command to a disconnected Redis fails at once instead of queueing for seconds), one retry at most,
 * a short command timeout, and auto-pipelining so settlements after responses share round trips.
 * Never a blind resend: ioredis would send again, after a reconnect, the commands whose replies the
 * old connection lost (`autoResendUnfulfilledCommands`), and a script that ran once would run twice.
 * The fleet store resolves such calls itself, through their records.
 */
export function createRedisClient(settings: RedisSettings, commandTimeoutMs: number): Redis | Cluster {
  const common: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 1,
    enableAutoPipelining: true,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    lazyConnect: false,
  };
  switch (settings.kind) {
    case 'url':
      return new Redis(settings.url, settings.password ? { ...common, password: settings.password } : common);
    case 'host':
      return new Redis({ ...common, host: settings.host, port: settings.port, password: settings.password });
    case 'sentinel':
      return new Redis({
        ...common,
        sentinels: [...settings.sentinels],
        name: settings.name,
        password: settings.password,
        sentinelPassword: settings.sentinelPassword,
      });
    case 'cluster':
      return new Cluster([...settings.nodes], {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: (times) => Math.min(100 * times, 1_000),
        redisOptions: { ...common, password: settings.password },
      });
  }
}

/** Resolves when the client is ready, or after `timeoutMs` (the gateway then starts on local shares). */
export function waitUntilReady(client: Redis | Cluster, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ok);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    client.on('ready', onReady);
  });
}
