#!/usr/bin/env node
// First: it changes how V8 collects garbage, before anything is allocated per request.
import './gc-tuning.js';
import cluster from 'node:cluster';
import { type AdminCall, runAdminCall } from './cli/admin-call.js';
import { parseCli, USAGE, UsageError } from './cli/args.js';
import { keysUsage, parseKeysCli } from './cli/keys.js';
import { parseTeamsCli, teamsUsage } from './cli/teams.js';
import type { GatewayConfig } from './config/gateway-config.js';
import { ConfigError, loadConfig } from './config/load.js';
import { createLogger, flushLogs, LOG_LEVELS, type Logger, type LogLevel } from './log.js';
import { serveClusterMetrics } from './metrics/cluster-metrics.js';
import { startGateway } from './server.js';
import { VERSION } from './version.js';

/**
 * The `fleetgate` command. Exit codes: 0 after a clean shutdown, 2 for a bad command line or config
 * (one clear message per problem on stderr), 1 when the server cannot start (e.g. port in use).
 */
async function main(): Promise<void> {
  const env = process.env;
  if (process.argv[2] === 'keys')
    return adminCommand('keys', keysUsage, parseKeysCli, process.argv.slice(3), env);
  if (process.argv[2] === 'teams')
    return adminCommand('teams', teamsUsage, parseTeamsCli, process.argv.slice(3), env);
  if (process.argv[2] === 'help') return void console.log(USAGE);
  let args: ReturnType<typeof parseCli>;
  let config: GatewayConfig;
  try {
    args = parseCli(process.argv.slice(2), env);
    if (args.command === 'help') return void console.log(USAGE);
    if (args.command === 'version') return void console.log(`fleetgate ${VERSION}`);
    config = loadConfig(args.config, env);
    if (args.workers > 1 && !config.redis) {
      throw new UsageError(
        `--workers ${args.workers} needs Redis so the workers share limits: set REDIS_URL or router_settings.redis_host`,
      );
    }
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      process.stderr.write(`fleetgate: ${error.message.replaceAll('\n', '\nfleetgate: ')}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(logLevel(env['LOG_LEVEL']));
  if (cluster.isPrimary) announce(config, logger);
  if (args.workers > 1 && cluster.isPrimary) return runPrimary(args.workers, logger);
  let server: Awaited<ReturnType<typeof startGateway>>;
  try {
    server = await startGateway({
      config,
      logger,
      port: args.port,
      host: args.host,
      keepAliveSeconds: args.keepAliveSeconds,
    });
  } catch (error) {
    logger.fatal({ msg: 'cannot start', err: String(error) });
    await flushLogs(logger);
    process.stderr.write(`fleetgate: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  logger.info({
    msg: `fleetgate listening on http://${args.host}:${server.port}`,
    port: server.port,
    version: VERSION,
  });
  const stop = async (signal: string) => {
    // Whatever hangs (a Redis that never answers, a log reader that went away), the process ends:
    // a little after the drain and the shutdown delay, exit 1 says it did not stop cleanly.
    setTimeout(() => process.exit(1), config.shutdownDelayMs + config.shutdownGraceMs + STOP_MARGIN_MS);
    logger.info({ msg: 'shutting down', signal });
    await server.close();
    logger.info({ msg: 'stopped' });
    await flushLogs(logger);
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

/** How long after the drain a stop may take (closing pools, flushing logs) before the process is ended. */
const STOP_MARGIN_MS = 5_000;

/** Startup warnings, once per fleet member: ignored config keys, an open gateway, per-replica limits. */
function announce(config: GatewayConfig, logger: Logger): void {
  for (const warning of config.warnings) logger.warn({ msg: warning });
  if (config.masterKey === undefined) {
    logger.warn({
      msg: 'NO MASTER KEY: anyone who can reach this port can use every model. Set general_settings.master_key or LITELLM_MASTER_KEY.',
    });
  }
  if (!config.redis && config.masterKey !== undefined) {
    logger.warn({
      msg: 'no Redis configured: virtual keys issued through /key/generate live in memory and vanish when this process stops',
    });
  }
  if (!config.redis) {
    logger.warn({
      msg: 'no Redis configured: rpm/tpm limits, cooldowns and in-flight counts are kept per replica. Set REDIS_URL to share them across replicas.',
    });
  }
}

/** `--workers N`: N processes on one port (node:cluster); each is a replica sharing Redis. */
function runPrimary(workers: number, logger: Logger): void {
  logger.info({ msg: `starting ${workers} workers`, pid: process.pid });
  serveClusterMetrics();
  let stopping = false;
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    logger.error({ msg: 'worker died; starting another', worker_pid: worker.process.pid, code, signal });
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** `fleetgate keys …` and `fleetgate teams …`: small clients of the admin API. */
async function adminCommand(
  name: string,
  usage: (command: string | undefined) => string,
  parse: (argv: readonly string[], env: NodeJS.ProcessEnv) => AdminCall,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<void> {
  // `fleetgate keys`, `fleetgate keys --help`, `fleetgate keys help generate`, `fleetgate keys generate --help`.
  if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help')
    return void console.log(usage(argv[0] === 'help' ? argv[1] : argv[0]));
  try {
    process.exitCode = await runAdminCall(
      parse(argv, env),
      name,
      (l) => console.log(l),
      (l) => console.error(l),
    );
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`fleetgate ${name}: ${error.message}\n`);
    process.exitCode = 2;
  }
}

function logLevel(v: string | undefined): LogLevel {
  const level = (v ?? 'info').toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : 'info';
}

await main();
