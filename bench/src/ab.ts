/**
 * A/B of gateway variants on CPU per request, interleaved so machine noise hits both alike:
 *   node bench/dist/ab.js [--rounds 4] [--duration 4] [--baseline DIR]
 * Variants: the bare proxy (the floor), Fleetgate, Fleetgate with rpm/tpm limits that never bind, and
 * with --baseline the same two from another checkout's build (DIR/apps/gateway/dist/main.js, e.g. main
 * built in a temporary directory). A development aid, not part of `npm run bench`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { treeCpuMicros } from './cpu.js';
import { runLoadInChild } from './load.js';
import { isMain, type Started, startBareProxy, startFakeLlm, startGateway } from './procs.js';

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '4' },
      baseline: { type: 'string' },
    },
  });
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-ab-'));
  const started: Started[] = [];
  try {
    const fake = await startFakeLlm(0);
    started.push(fake);
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `model_list:\n  - model_name: fake-openai-endpoint\n    litellm_params: { model: aiohttp_openai/any, api_base: "${fake.url}/chat/completions", api_key: test }\n    model_info: { id: ab-${randomUUID().slice(0, 6)} }\ngeneral_settings:\n  master_key: sk-1234\n`,
    );
    const limited = join(dir, 'limited.yaml');
    writeFileSync(
      limited,
      `model_list:\n  - model_name: fake-openai-endpoint\n    litellm_params: { model: aiohttp_openai/any, api_base: "${fake.url}/chat/completions", api_key: test, rpm: 100000000, tpm: 10000000000 }\n    model_info: { id: ab-l-${randomUUID().slice(0, 6)} }\ngeneral_settings:\n  master_key: sk-1234\n`,
    );
    const bare = await startBareProxy(`${fake.url}/chat/completions`);
    const info = await startGateway({ config, logLevel: 'info' });
    const withLimits = await startGateway({ config: limited, logLevel: 'info' });
    started.push(bare, info, withLimits);
    const variants: Array<readonly [string, Started]> = [
      ['bare', bare],
      ['fleetgate', info],
      ['fleetgate rpm+tpm', withLimits],
    ];
    if (values.baseline) {
      const main = join(values.baseline, 'apps/gateway/dist/main.js');
      const baseInfo = await startGateway({ config, logLevel: 'info', main });
      const baseLimits = await startGateway({ config: limited, logLevel: 'info', main });
      started.push(baseInfo, baseLimits);
      variants.push(['baseline fleetgate', baseInfo], ['baseline fleetgate rpm+tpm', baseLimits]);
    }
    const cpu: Record<string, number[]> = {};
    for (let r = 0; r < Number(values.rounds); r++) {
      for (const [name, p] of variants) {
        let c0 = 0;
        let c1 = 0;
        const res = await runLoadInChild(
          {
            url: `${p.url}/chat/completions`,
            mode: 'closed',
            connections: 64,
            rate: 500,
            durationS: Number(values.duration),
            warmupS: 1,
            apiKey: 'sk-1234',
          },
          { onStart: () => (c0 = treeCpuMicros(p.pid)), onEnd: () => (c1 = treeCpuMicros(p.pid)) },
        );
        const samples = cpu[name] ?? [];
        samples.push((c1 - c0) / res.ok);
        cpu[name] = samples;
        console.log(
          `round ${r + 1} ${name}: ${Math.round(res.rps)} req/s, ${Math.round((c1 - c0) / res.ok)} CPU-µs/req`,
        );
      }
    }
    for (const [name, xs] of Object.entries(cpu)) {
      const sorted = [...xs].sort((a, b) => a - b);
      console.log(`${name}: median ${Math.round(sorted[Math.floor(sorted.length / 2)]!)} CPU-µs/req`);
    }
  } finally {
    for (const p of started.reverse()) await p.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
