/**
 * What translation costs: gateway CPU per request for the same load (the seed locustfile's 16 KB
 * chat payload, non-stream) sent to three deployments of one gateway, all on one fake upstream:
 *   openai    → `openai/…`     the pass-through (the model is spliced into the client's bytes)
 *   vertex    → `vertex_ai/…`  OpenAI → Gemini generateContent and back, with a service-account token
 *   anthropic → `anthropic/…`  OpenAI → Anthropic Messages and back
 * Closed loop, rounds interleaved (each round measures every target in turn), CPU of the gateway
 * process from /proc over each measured interval ÷ requests answered; the ratios are the medians of
 * the per-round ratios. Target: translated ≤ 1.3× the pass-through.
 *
 * Then the token refresh: a fresh gateway, 500 requests to the Vertex deployment at once — every
 * one waits for the same token exchange — counted at the fake's token endpoint (target: exactly 1).
 *
 *   node bench/dist/providers-bench.js [--connections 32] [--duration 5] [--warmup 1] [--rounds 5]
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { treeCpuMicros } from './cpu.js';
import { runLoadInChild } from './load.js';
import { locustBody } from './payload.js';
import {
  FAKE_LLM_MAIN,
  freePort,
  isMain,
  type Started,
  smoke,
  spawnAnnounced,
  startGateway,
} from './procs.js';
import { fmt, mdTable } from './stats.js';

const API_KEY = 'sk-bench-providers';
const TARGETS = [
  { key: 'openai', label: 'openai/ (pass-through)' },
  { key: 'vertex', label: 'vertex_ai/ (translated)' },
  { key: 'anthropic', label: 'anthropic/ (translated)' },
] as const;
type TargetKey = (typeof TARGETS)[number]['key'];

export interface ProvidersBenchOptions {
  readonly connections: number;
  readonly durationS: number;
  readonly warmupS: number;
  readonly rounds: number;
  readonly burst: number;
  readonly log: (line: string) => void;
}

interface Round {
  readonly rps: number;
  /** Gateway CPU over the interval ÷ requests answered. */
  readonly cpuUs: number;
  /** The same, less what the gateway spends idle over as long (timers, heartbeats). */
  readonly idleFreeCpuUs: number;
  readonly errors: number;
}

/** The gateway's CPU while idle, µs per second, after the warm-up round has settled. */
async function idleCpu(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 2_000));
  const c0 = treeCpuMicros(pid);
  await new Promise((r) => setTimeout(r, 4_000));
  return (treeCpuMicros(pid) - c0) / 4;
}

export interface ProvidersBenchResult {
  readonly options: Omit<ProvidersBenchOptions, 'log'>;
  /** The gateway's CPU while idle, µs per second. */
  readonly idlePerS: number;
  readonly rounds: Record<TargetKey, Round[]>;
  readonly burst: {
    readonly requests: number;
    readonly ok: number;
    readonly exchanges: number;
    readonly ms: number;
  };
}

/** A service account whose token endpoint is the fake's; the fake checks grants with its public half. */
function serviceAccount(dir: string, tokenUri: string): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = join(dir, 'service-account.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'bench',
      private_key_id: 'bench',
      private_key: privateKey,
      client_email: 'bench@bench.iam.gserviceaccount.com',
      token_uri: tokenUri,
    }),
  );
  return file;
}

function configYaml(fake: string, credentials: string): string {
  // Limits that admission checks on every request but that never bind, as in the gateway benchmark.
  const limits = 'rpm: 100000000, tpm: 10000000000';
  return `model_list:
  - model_name: openai
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${fake}/openai/v1", api_key: sk-up, ${limits} }
  - model_name: vertex
    litellm_params:
      model: vertex_ai/gemini-2.0-flash
      vertex_project: bench
      vertex_location: us-central1
      vertex_credentials: ${credentials}
      api_base: "${fake}/vertex/v1/projects/bench/locations/us-central1/publishers/google/models/gemini-2.0-flash"
      rpm: 100000000
      tpm: 10000000000
  - model_name: anthropic
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "${fake}/anthropic", api_key: sk-ant-up, ${limits} }
general_settings:
  master_key: ${API_KEY}
`;
}

export async function runProvidersBench(options: ProvidersBenchOptions): Promise<ProvidersBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-providers-bench-'));
  const started: Started[] = [];
  try {
    const port = await freePort();
    const credentials = serviceAccount(dir, `http://127.0.0.1:${port}/token`);
    const fake = await spawnAnnounced(
      'fake-llm',
      FAKE_LLM_MAIN,
      ['--port', String(port), '--oauth-key', credentials],
      /fake-llm listening on (http:\/\/\S+)/,
    );
    started.push(fake);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, configYaml(fake.url, credentials));
    const gateway = await startGateway({ config, logLevel: 'info' });
    started.push(gateway);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
    for (const t of TARGETS)
      await smoke(`${gateway.url}/v1/chat/completions`, locustBody(undefined, t.key), headers);
    options.log(`fake-llm ${fake.url} (pid ${fake.pid}), Fleetgate ${gateway.url} (pid ${gateway.pid})`);
    let idlePerS = 0;
    const rounds = { openai: [], vertex: [], anthropic: [] } as Record<TargetKey, Round[]>;
    // Round 0 warms the JIT on every path and is not recorded: the first target measured would pay for it.
    for (let r = 0; r <= options.rounds; r++) {
      if (r === 1) idlePerS = await idleCpu(gateway.pid);
      for (const t of TARGETS) {
        let cpu0 = 0;
        let cpu = 0;
        let t0 = 0;
        let seconds = 0;
        const load = await runLoadInChild(
          {
            url: `${gateway.url}/v1/chat/completions`,
            mode: 'closed',
            connections: options.connections,
            rate: 1,
            durationS: options.durationS,
            warmupS: options.warmupS,
            apiKey: API_KEY,
            model: t.key,
          },
          {
            onStart: () => {
              cpu0 = treeCpuMicros(gateway.pid);
              t0 = performance.now();
            },
            onEnd: () => {
              seconds = (performance.now() - t0) / 1000;
              cpu = treeCpuMicros(gateway.pid) - cpu0;
            },
          },
        );
        const errors = Object.values(load.errors).reduce((a, b) => a + b, 0);
        if (r === 0) continue;
        rounds[t.key].push({
          rps: load.rps,
          cpuUs: load.ok ? cpu / load.ok : Number.NaN,
          idleFreeCpuUs: load.ok ? (cpu - idlePerS * seconds) / load.ok : Number.NaN,
          errors,
        });
        options.log(
          `  round ${r}/${options.rounds} ${t.label}: ${fmt(load.rps)} req/s, ${fmt(cpu / load.ok)} gateway CPU-µs/req, ${errors} errors`,
        );
      }
    }
    const burst = await tokenBurst(fake, config, options.burst, started);
    options.log(
      `  token refresh: ${burst.requests} requests at once → ${burst.exchanges} exchange(s), ${burst.ok} answered 200`,
    );
    const { log: _log, ...rest } = options;
    return { options: rest, idlePerS, rounds, burst };
  } finally {
    for (const p of started.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh gateway (no token yet), `n` Vertex requests sent at once; exchanges counted by the fake. */
async function tokenBurst(fake: Started, config: string, n: number, started: Started[]) {
  await request(`${fake.url}/__reset`, { method: 'POST', body: '{}' }).then((r) => r.body.dump());
  const gateway = await startGateway({ config, logLevel: 'warn' });
  started.push(gateway);
  const t0 = performance.now();
  const statuses = await Promise.all(
    Array.from({ length: n }, () =>
      request(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ model: 'vertex', messages: [{ role: 'user', content: 'hello' }] }),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      }).then(async (r) => {
        await r.body.dump();
        return r.statusCode;
      }),
    ),
  );
  const ms = performance.now() - t0;
  const stats = (await (await request(`${fake.url}/__stats`)).body.json()) as {
    oauth: { exchanges: number };
  };
  return { requests: n, ok: statuses.filter((s) => s === 200).length, exchanges: stats.oauth.exchanges, ms };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export function providersReport(result: ProvidersBenchResult): string {
  const { rounds, options } = result;
  const rows = TARGETS.map((t) => {
    const rs = rounds[t.key];
    const ratio = median(rs.map((r, i) => r.cpuUs / rounds.openai[i]!.cpuUs));
    const idleFree = median(rs.map((r, i) => r.idleFreeCpuUs / rounds.openai[i]!.idleFreeCpuUs));
    return [
      t.label,
      fmt(median(rs.map((r) => r.rps))),
      fmt(median(rs.map((r) => r.cpuUs))),
      t.key === 'openai' ? '1.00' : fmt(ratio, 2),
      t.key === 'openai' ? '1.00' : fmt(idleFree, 2),
      rs.map((r) => fmt(r.cpuUs)).join(' / '),
      String(rs.reduce((a, r) => a + r.errors, 0)),
      t.key === 'openai' ? '—' : ratio <= 1.3 ? 'PASS' : 'FAIL',
    ];
  });
  const b = result.burst;
  return [
    `### Gateway CPU per request by provider (closed loop, ${options.connections} connections, ${options.durationS} s × ${options.rounds} rounds)`,
    '',
    `CPU of the gateway process over each measured interval ÷ requests answered; "idle-free" first takes away what the gateway spends idle over as long (${fmt(result.idlePerS / 1000, 1)} ms/s, measured after the warm-up round).`,
    '',
    mdTable(
      [
        'deployment',
        'req/s (median)',
        'gateway CPU-µs/req (median)',
        '× pass-through (median of rounds)',
        '× pass-through, idle-free',
        'CPU-µs/req per round',
        'errors',
        '≤ 1.3×',
      ],
      rows,
    ),
    '',
    `### Token refresh under ${b.requests} concurrent requests`,
    '',
    mdTable(
      ['requests at once', 'answered 200', 'token exchanges', 'all answered in', 'exactly one exchange'],
      [
        [
          String(b.requests),
          String(b.ok),
          String(b.exchanges),
          `${fmt(b.ms)} ms`,
          b.exchanges === 1 ? 'PASS' : 'FAIL',
        ],
      ],
    ),
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '32' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      rounds: { type: 'string', default: '5' },
      burst: { type: 'string', default: '500' },
    },
  });
  const result = await runProvidersBench({
    connections: Number(values.connections),
    durationS: Number(values.duration),
    warmupS: Number(values.warmup),
    rounds: Number(values.rounds),
    burst: Number(values.burst),
    log: (line) => console.log(line),
  });
  console.log(`\n${providersReport(result)}`);
}
