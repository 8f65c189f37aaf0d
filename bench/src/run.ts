/**
 * `npm run bench`: the admission benchmark, then the gateway benchmark; prints everything and writes
 * bench/results/latest.md. Options (all optional):
 *   --duration S (4, per closed-loop round and per open loop)  --rounds N (5)  --connections C (64)
 *   --rate R (500)  --warmup S (2)
 *   --admission-duration S (5)  --no-redis (skip every Redis part)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { admissionReport, runAdmissionBench } from './admission-bench.js';
import { findRedis, gatewayReport, runGatewayBench } from './gateway-bench.js';
import { selfCheck } from './payload.js';
import { ROOT } from './procs.js';

const RESULTS = fileURLToPath(new URL('../results/', import.meta.url));

function sh(cmd: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(cmd, args, {
      encoding: 'utf8',
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return undefined;
  }
}

function machine(): string[] {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const redis = sh('redis-cli', ['--version']);
  return [
    `nproc: ${sh('nproc', []) ?? '?'}`,
    `CPU: ${model}`,
    `node: ${process.version}`,
    `load average at start: ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')}`,
    ...(redis ? [`redis: ${redis}`] : []),
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '5' },
      connections: { type: 'string', default: '64' },
      rate: { type: 'string', default: '500' },
      warmup: { type: 'string', default: '2' },
      'admission-duration': { type: 'string', default: '5' },
      'no-redis': { type: 'boolean', default: false },
    },
  });
  selfCheck();
  const started = new Date();
  const t0 = performance.now();
  const argv = process.argv.slice(2).join(' ');
  const command =
    process.env['npm_lifecycle_event'] === 'bench'
      ? `npm run bench${argv ? ` -- ${argv}` : ''}   (= npm run build && node bench/dist/run.js${argv ? ` ${argv}` : ''})`
      : `node bench/dist/run.js${argv ? ` ${argv}` : ''}`;
  const commit = sh('git', ['rev-parse', '--short', 'HEAD']);
  const dirty = sh('git', ['status', '--porcelain']) ? ' (working tree has uncommitted changes)' : '';
  const host = machine();
  const log = (line: string) => console.log(line);
  log(`Fleetgate benchmarks — ${started.toISOString()}`);
  for (const line of host) log(`  ${line}`);

  const redis = values['no-redis'] ? { url: undefined, reason: '--no-redis' } : await findRedis();
  const sections: string[] = [];
  let failed = false;

  log('\n== admission bench ==');
  if (redis.url) {
    try {
      const result = await runAdmissionBench({
        redisUrl: redis.url,
        callers: 64,
        durationS: Number(values['admission-duration']),
        warmupS: 1,
        log,
      });
      sections.push(`## Admission script (Redis ${redis.url})\n\n${admissionReport(result)}`);
    } catch (error) {
      failed = true;
      log(`admission bench FAILED: ${(error as Error).stack ?? String(error)}`);
      sections.push(`## Admission script\n\nFAILED: ${(error as Error).message}`);
    }
  } else {
    log(`admission bench: SKIPPED — ${redis.reason}`);
    sections.push(`## Admission script\n\nSKIPPED — ${redis.reason}`);
  }

  log('\n== gateway bench ==');
  try {
    const result = await runGatewayBench({
      connections: Number(values.connections),
      durationS: Number(values.duration),
      rounds: Number(values.rounds),
      rate: Number(values.rate),
      warmupS: Number(values.warmup),
      redisUrl: redis.url,
      redisSkipReason: redis.reason,
      log,
    });
    sections.push(`## Gateway: direct vs bare proxy vs Fleetgate\n\n${gatewayReport(result)}`);
  } catch (error) {
    failed = true;
    log(`gateway bench FAILED: ${(error as Error).stack ?? String(error)}`);
    sections.push(`## Gateway\n\nFAILED: ${(error as Error).message}`);
  }

  const elapsed = (performance.now() - t0) / 1000;
  const markdown = [
    '# Fleetgate benchmark results',
    '',
    `- date: ${started.toISOString()}`,
    `- command: \`${command}\` (from the repository root)`,
    `- commit: ${commit ?? 'unknown'}${dirty}`,
    ...host.map((l) => `- ${l}`),
    `- wall time: ${elapsed.toFixed(0)} s`,
    '',
    'The machine is shared and noisy: compare the ratios within one run, not absolute numbers across runs.',
    '',
    ...sections.flatMap((s) => [s, '']),
  ].join('\n');
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}latest.md`, markdown);
  log(`\n${markdown}`);
  log(`wrote bench/results/latest.md (${elapsed.toFixed(0)} s)`);
  return failed ? 1 : 0;
}

process.exitCode = await main();
