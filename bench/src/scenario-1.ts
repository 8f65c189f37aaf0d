/**
 * The seed's first scenario (LiteLLM's "1K RPS load test", fake OpenAI endpoint), reproducible here:
 * the seed's locust user with 1,000 users (spawn rate 1,000/s) through 4 Fleetgate replicas sharing
 * Redis behind one loopback ingress (bench/src/ingress.ts), and the same load straight at the fake
 * upstream, in one run. Prints progress while it runs and writes an HTML report with SVG charts
 * (requests per second, latency percentiles, the deployment's window fill, gateway overhead) and a
 * markdown summary beside it.
 *
 *   npm run build && node bench/dist/scenario-1.js [--users 1000] [--spawn-rate 1000] [--run-time 60s]
 *     [--replicas 4] [--latency-ms 50] [--warmup 10s] [--ingress haproxy|node] [--tool auto|locust|node]
 *     [--out bench/results/scenario-1]
 *
 * Redis: REDIS_URL, else redis://127.0.0.1:6379. Load: `locust` (bench/locustfile.py) when it is on
 * PATH and --tool is not node, else the Node port of the same user (bench/src/locust-user.ts).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { treeCpuMicros } from './cpu.js';
import { type Ingress, startIngress } from './ingress.js';
import { parseRunTime, runLocust } from './locust-user.js';
import { ROOT, type Started, startFakeLlm, startGateway } from './procs.js';
import { htmlReport, type ScenarioRun, summaryTable } from './scenario-report.js';
import { parseLocustHistory, Timeline } from './scenario-timeline.js';

const { values: args } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    'spawn-rate': { type: 'string', default: '1000' },
    'run-time': { type: 'string', default: '60s' },
    replicas: { type: 'string', default: '4' },
    'latency-ms': { type: 'string', default: '50' },
    warmup: { type: 'string', default: '10s' },
    ingress: { type: 'string' },
    tool: { type: 'string', default: 'auto' },
    out: { type: 'string', default: join(ROOT, 'bench/results/scenario-1') },
  },
});
const USERS = Number(args.users);
const SPAWN = Number(args['spawn-rate']);
const RUN_S = parseRunTime(args['run-time']);
const REPLICAS = Number(args.replicas);
const WARMUP_S = parseRunTime(args.warmup);
const MASTER = 'sk-1234';
/** High enough never to bind at this machine's rates, so admission does its real work and the page counts. */
const RPM = 120_000;
const locust = args.tool !== 'node' && spawnSync('locust', ['--version']).status === 0;
if (args.tool === 'locust' && !locust) throw new Error('--tool locust: locust is not on PATH');

function config(fakeUrl: string): string {
  // The seed's scenario-1 config (aiohttp_openai/any at the fake endpoint's /chat/completions),
  // plus an rpm that never binds and a master key.
  return `model_list:
  - model_name: fake-openai-endpoint
    litellm_params:
      model: aiohttp_openai/any
      api_base: ${fakeUrl}/chat/completions
      api_key: fake-key
      rpm: ${RPM}
    model_info: { id: fake-openai-endpoint-1 }
litellm_settings:
  callbacks: ["prometheus"]
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  redis_namespace: scenario1-${process.pid}-${Date.now()}
`;
}

async function redisCpuSeconds(redis: Redis): Promise<number> {
  const info = await redis.info('cpu');
  const v = (k: string) => Number(new RegExp(`${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return v('used_cpu_sys') + v('used_cpu_user');
}

/**
 * Reads the deployment's rolling window, and how many replicas limit locally (Redis not answering
 * within their command timeout), from one replica's /fleet/state every second.
 */
function sampleWindow(
  url: string,
  started: number,
  into: Array<[number, number, number]>,
  local: Array<[number, number]>,
): () => void {
  const timer = setInterval(async () => {
    try {
      const res = await request(`${url}/fleet/state`, { headers: { authorization: `Bearer ${MASTER}` } });
      const state = (await res.body.json()) as {
        deployments: Array<{ requests_in_window: number | null; rpm_limit: number | null }>;
        fleet: { replicas: Array<{ mode: string | null }> };
      };
      const t = (performance.now() - started) / 1000;
      local.push([t, state.fleet.replicas.filter((r) => r.mode === 'local').length]);
      const d = state.deployments[0];
      // An unread window (null) is a gap in the chart, never a 0.
      if (d?.requests_in_window != null && d.rpm_limit) into.push([t, d.requests_in_window, d.rpm_limit]);
    } catch {
      // A missed sample is a gap in the chart.
    }
  }, 1_000);
  return () => clearInterval(timer);
}

async function run(
  name: string,
  host: string,
  cpuOf: Record<string, () => number | Promise<number>>,
  window?: string,
): Promise<ScenarioRun> {
  if (WARMUP_S > 0) {
    // JIT, connection pools and Redis scripts warm up before anything is measured, for both runs.
    const users = Math.min(USERS, 200);
    console.log(`\n== ${name}: warm-up, ${users} users for ${WARMUP_S} s (not measured)`);
    await runLocust({
      host: `${host}/`,
      users,
      spawnRate: users,
      runTimeS: WARMUP_S,
      apiKey: MASTER,
      errorFile: join(tmpdir(), `scenario1-${process.pid}-warmup.txt`),
    });
  }
  console.log(`\n== ${name}: ${USERS} users at ${SPAWN}/s for ${RUN_S} s against ${host}`);
  const timeline = new Timeline();
  const windowSamples: Array<[number, number, number]> = [];
  const localSamples: Array<[number, number]> = [];
  const before: Record<string, number> = {};
  for (const [k, f] of Object.entries(cpuOf)) before[k] = await f();
  const started = performance.now();
  let users = 0;
  const progress = setInterval(() => {
    const t = (performance.now() - started) / 1000;
    const r = timeline.recent(t);
    const w = windowSamples[windowSamples.length - 1];
    const l = localSamples[localSamples.length - 1];
    console.log(
      `  t=${t.toFixed(0).padStart(3)} s  users=${users}  rps=${r.rps.toFixed(0)}  p50=${r.p50.toFixed(0)} ms  p99=${r.p99.toFixed(0)} ms  failures(5 s)=${r.failures}${w ? `  window=${w[1]}/${w[2]}` : ''}${l?.[1] ? `  replicas on local shares=${l[1]}` : ''}`,
    );
  }, 5_000);
  const stopWindow = window ? sampleWindow(window, started, windowSamples, localSamples) : () => {};
  let durationS = RUN_S;
  try {
    if (locust) {
      const dir = mkdtempSync(join(tmpdir(), 'scenario1-'));
      const prefix = join(dir, 'run');
      const r = spawnSync(
        'locust',
        [
          '-f',
          join(ROOT, 'bench/locustfile.py'),
          '--headless',
          '-u',
          String(USERS),
          '-r',
          String(SPAWN),
          '-t',
          `${RUN_S}s`,
          '--host',
          `${host}/`,
          '--csv',
          prefix,
          '--csv-full-history',
          '--only-summary',
        ],
        { cwd: dir, env: { ...process.env, API_KEY: MASTER }, stdio: 'inherit' },
      );
      if (r.status !== 0) throw new Error(`locust exited with ${r.status}`);
      for (const s of parseLocustHistory(readFileSync(`${prefix}_stats_history.csv`, 'utf8')))
        timeline.addSecond(s);
    } else {
      const totals = await runLocust({
        host: `${host}/`,
        users: USERS,
        spawnRate: SPAWN,
        runTimeS: RUN_S,
        apiKey: MASTER,
        errorFile: join(tmpdir(), `scenario1-${process.pid}-error.txt`),
        onSample: (s) => timeline.add(s),
        onUser: (n) => {
          users = n;
        },
      });
      durationS = totals.seconds;
    }
  } finally {
    clearInterval(progress);
    stopWindow();
  }
  const cpu: Record<string, number> = {};
  for (const [k, f] of Object.entries(cpuOf)) cpu[k] = ((await f()) - before[k]!) / 1e6;
  const result = {
    name,
    target: host,
    seconds: timeline.seconds(),
    totals: timeline.totals(),
    durationS,
    cpu,
    window: windowSamples,
    local: localSamples,
  };
  console.log(summaryTable({ title: '', command: '', machine: [], setup: [], tool: '', runs: [result] }));
  return result;
}

function machine(): string[] {
  const sh = (c: string, a: string[]) => {
    try {
      return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return undefined;
    }
  };
  return [
    `${cpus().length} CPUs: ${cpus()[0]?.model ?? '?'}, shared with other work (load average at start ${loadavg()
      .map((v) => v.toFixed(2))
      .join(' ')})`,
    `node ${process.version}; ${sh('redis-server', ['--version'])?.split(' ').slice(0, 3).join(' ') ?? 'redis ?'}; ${sh('haproxy', ['-v'])?.split('\n')[0] ?? 'no haproxy'}`,
    `commit ${sh('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']) ?? '?'}, ${new Date().toISOString()}`,
  ];
}

async function main(): Promise<void> {
  const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect().catch(() => {
    throw new Error(`no Redis at ${redisUrl}: set REDIS_URL or start redis-server`);
  });
  const started: Array<Started | Ingress> = [];
  try {
    const fake = await startFakeLlm(Number(args['latency-ms']));
    started.push(fake);
    const file = join(mkdtempSync(join(tmpdir(), 'scenario1-')), 'config.yaml');
    writeFileSync(file, config(fake.url));
    const gateways = await Promise.all(
      Array.from({ length: REPLICAS }, () => startGateway({ config: file, redisUrl })),
    );
    started.push(...gateways);
    const ingress = await startIngress(
      gateways.map((g) => g.url),
      args.ingress ? { kind: args.ingress as 'haproxy' | 'node' } : {},
    );
    started.push(ingress);
    console.log(
      `fake upstream ${fake.url} (${args['latency-ms']} ms), ${REPLICAS} replicas behind ${ingress.kind} at ${ingress.url}`,
    );
    const loadgen = () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    };
    const fakeCpu = () => treeCpuMicros(fake.pid);
    const redisCpu = async () => (await redisCpuSeconds(redis)) * 1e6;
    const direct = await run('direct', fake.url, {
      upstream: fakeCpu,
      'load generator': loadgen,
    });
    const fleet = await run(
      `Fleetgate ×${REPLICAS} (${ingress.kind})`,
      ingress.url,
      {
        ...(ingress.kind === 'haproxy' ? { ingress: () => ingress.cpuMicros() } : {}),
        gateways: () => gateways.reduce((n, g) => n + treeCpuMicros(g.pid), 0),
        redis: redisCpu,
        upstream: fakeCpu,
        // With the Node balancer the ingress runs in this process: its CPU is in this figure.
        [ingress.kind === 'haproxy' ? 'load generator' : 'load generator + Node ingress']: loadgen,
      },
      gateways[0]!.url,
    );
    const command = `node bench/dist/scenario-1.js ${process.argv.slice(2).join(' ')}`.trim();
    const report = {
      title: `Seed scenario 1: ${USERS} users, the fake OpenAI endpoint, direct vs ${REPLICAS} Fleetgate replicas`,
      command,
      machine: machine(),
      tool: locust
        ? 'locust with bench/locustfile.py'
        : 'the Node port of bench/locustfile.py (bench/src/locust-user.ts): locust is not installed',
      setup: [
        `fake upstream (apps/fake-llm) with ${args['latency-ms']} ms latency; the seed's config (aiohttp_openai/any) plus rpm ${RPM} (never binds; makes admission count the window)`,
        `${REPLICAS} gateway processes sharing Redis (${redisUrl}), LOG_LEVEL=info, behind ${ingress.kind === 'haproxy' ? "Debian's HAProxy (1 thread, round robin)" : 'the Node TCP balancer of bench/src/ingress.ts'} on loopback`,
        `each user: one keep-alive connection, POST chat/completions with the seed's 16 KB payload, then wait 0.5–1 s (between(0.5, 1))`,
        'window fill: requests_in_window / rpm_limit from /fleet/state of replica 1, every second',
        'everything (load generator, ingress, gateways, Redis, upstream) shares the same cores: compare the two runs, not absolute numbers',
      ],
      runs: [direct, fleet],
    };
    mkdirSync(dirname(args.out), { recursive: true });
    writeFileSync(`${args.out}.html`, htmlReport(report));
    writeFileSync(
      `${args.out}.md`,
      `# ${report.title}\n\n${report.setup.map((s) => `- ${s}`).join('\n')}\n\nLoad: ${report.tool}.\n\n${summaryTable(report)}\n\nCharts: [${relative(dirname(args.out), `${args.out}.html`)}](${relative(dirname(args.out), `${args.out}.html`)})\n\n${report.machine.map((m) => `- ${m}`).join('\n')}\n\n\`\`\`sh\n${command}\n\`\`\`\n`,
    );
    console.log(
      `\nreport: ${relative(process.cwd(), `${args.out}.html`)} and ${relative(process.cwd(), `${args.out}.md`)}`,
    );
  } finally {
    for (const s of started.reverse()) await s.stop().catch(() => {});
    redis.disconnect();
  }
}

await main();
process.exit(0);
