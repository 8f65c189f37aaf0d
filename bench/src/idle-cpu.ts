/**
 * What a replica costs while nobody calls it: CPU per second of its main thread and of all its
 * threads, and how often its main thread wakes up, over a quiet interval after startup. A fleet
 * sized for its peak spends most hours here, and on a shared core every wake-up is a context switch
 * taken from whatever else runs there.
 *
 *   node bench/dist/idle-cpu.js [--seconds 20] [--settle 4] [--baseline DIR] [--no-redis]
 *
 * Starts Fleetgate with the in-memory store and, when a Redis answers, with Redis (and the same for
 * the build at `--baseline DIR`, side by side), waits `--settle` seconds, then reads
 * /proc/<pid>/task/<tid>/stat and /proc/<pid>/status at the start and end of the interval. Linux only.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clockTicks, threadTicks } from './cpu.js';
import { configYaml, findRedis } from './gateway-bench.js';
import { isMain, type Started, startFakeLlm, startGateway } from './procs.js';
import { mdTable } from './stats.js';

interface Reading {
  readonly mainTicks: number;
  readonly allTicks: number;
  readonly mainWakeups: number;
}

function read(pid: number): Reading {
  let allTicks = 0;
  // A thread that ended between the listing and the read counts 0.
  for (const tid of readdirSync(`/proc/${pid}/task`)) allTicks += threadTicks(pid, tid);
  const status = readFileSync(`/proc/${pid}/task/${pid}/status`, 'utf8');
  const voluntary = Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? Number.NaN);
  return { mainTicks: threadTicks(pid, pid), allTicks, mainWakeups: voluntary };
}

export interface IdleRow {
  readonly label: string;
  /** ms of CPU per second of wall time. */
  readonly mainMsPerS: number;
  readonly allMsPerS: number;
  readonly mainWakeupsPerS: number;
}

export async function runIdleBench(options: {
  readonly seconds: number;
  readonly settleS: number;
  readonly baseline?: string | undefined;
  readonly redisUrl: string | undefined;
}): Promise<IdleRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-idle-'));
  const started: Started[] = [];
  try {
    const fake = await startFakeLlm(0);
    started.push(fake);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, configYaml(fake.url, `idle-${process.pid}`));
    const builds: Array<{ name: string; main: string | undefined }> = [
      { name: 'this build', main: undefined },
    ];
    if (options.baseline)
      builds.push({ name: 'baseline', main: join(options.baseline, 'apps/gateway/dist/main.js') });
    const stores: Array<{ name: string; redisUrl: string | undefined }> = [
      { name: 'Redis off', redisUrl: undefined },
    ];
    if (options.redisUrl) stores.push({ name: 'Redis on', redisUrl: options.redisUrl });
    const targets: Array<{ label: string; proc: Started }> = [];
    for (const store of stores) {
      for (const build of builds) {
        const proc = await startGateway({ config, redisUrl: store.redisUrl, main: build.main });
        started.push(proc);
        targets.push({ label: `${build.name}, ${store.name}`, proc });
      }
    }
    // All measured over the same interval: a noisy neighbour hits every row alike.
    await new Promise((r) => setTimeout(r, options.settleS * 1000));
    const before = targets.map((t) => read(t.proc.pid));
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    const after = targets.map((t) => read(t.proc.pid));
    const s = (performance.now() - t0) / 1000;
    const msPerTick = 1000 / clockTicks();
    return targets.map((t, i) => ({
      label: t.label,
      mainMsPerS: ((after[i]!.mainTicks - before[i]!.mainTicks) * msPerTick) / s,
      allMsPerS: ((after[i]!.allTicks - before[i]!.allTicks) * msPerTick) / s,
      mainWakeupsPerS: (after[i]!.mainWakeups - before[i]!.mainWakeups) / s,
    }));
  } finally {
    await Promise.all(started.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

export function idleReport(rows: readonly IdleRow[], seconds: number): string {
  return (
    `### An idle replica: ${seconds} s with no requests (CPU in ms per second; clock ticks of ${1000 / clockTicks()} ms, so ±${Math.ceil(1000 / clockTicks() / seconds)} ms/s)\n\n` +
    mdTable(
      ['target', 'main thread ms/s', 'all threads ms/s', 'main-thread wake-ups/s'],
      rows.map((r) => [
        r.label,
        r.mainMsPerS.toFixed(1),
        r.allMsPerS.toFixed(1),
        r.mainWakeupsPerS.toFixed(0),
      ]),
    )
  );
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      settle: { type: 'string', default: '4' },
      baseline: { type: 'string' },
      'no-redis': { type: 'boolean', default: false },
    },
  });
  const redisUrl = values['no-redis'] ? undefined : (await findRedis()).url;
  const seconds = Number(values.seconds);
  const rows = await runIdleBench({
    seconds,
    settleS: Number(values.settle),
    baseline: values.baseline,
    redisUrl,
  });
  console.log(idleReport(rows, seconds));
}
