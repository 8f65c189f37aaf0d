import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { type GatewayProc, killAll, startFakeLlm, startGateway } from '../support/processes.js';

afterAll(async () => {
  await killAll();
});

/**
 * Clients that give up on streams must not cost the fleet anything it cannot see: 1,000 streams
 * aborted at random points — before the response headers, or after some events — against a
 * deployment allowed 4 requests in flight. Every one of them gives its slot back at once, none is
 * taken for a deployment failure, and each is charged for what it streamed.
 */
const IN = 0.001;
const OUT = 0.01;
const STREAMS = 1_000;
const WORKERS = 4;
const MASTER = 'sk-fleet';

interface Outcome {
  /** 200, 429 … or undefined when the client left before the response headers. */
  readonly status: number | undefined;
  /** Events the client read before it left. */
  readonly events: number;
}

const body = JSON.stringify({
  model: 'm',
  messages: [{ role: 'user', content: 'tell me a story' }],
  stream: true,
});
/** The prompt as the gateway estimates it (request bytes ÷ 4). */
const PROMPT = Math.ceil(Buffer.byteLength(body) / 4);

async function abortedStream(url: string, key: string): Promise<Outcome> {
  const controller = new AbortController();
  const early = Math.random() < 0.3;
  if (early) setTimeout(() => controller.abort(), Math.random() * 20);
  let res: Response;
  try {
    res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body,
      signal: controller.signal,
    });
  } catch {
    return { status: undefined, events: 0 };
  }
  if (res.status !== 200) {
    await res.text();
    return { status: res.status, events: 0 };
  }
  // Mid-stream: leave after a random number of events (possibly none, possibly all but the end).
  const leaveAfter = Math.floor(Math.random() * 16);
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let events = 0;
  let text = '';
  try {
    while (events < leaveAfter) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      const parts = text.split('\n\n');
      text = parts.pop() ?? '';
      events += parts.filter((p) => p.startsWith('data:') && !p.includes('[DONE]')).length;
    }
  } catch {
    // Aborted under the read.
  }
  controller.abort();
  return { status: 200, events };
}

describe('streams aborted by their clients', () => {
  it('1,000 at random points: slots back within 1 s of the last, no cooldown, charged for what streamed', async () => {
    // Headers 30 ms after the request; then an event every 5 ms.
    const fake = await startFakeLlm(['--latency-ms', '30', '--chunk-delay-ms', '5']);
    const config = `
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_base: "${fake.url}/v1"
      max_parallel_requests: 4
      input_cost_per_token: ${IN}
      output_cost_per_token: ${OUT}
general_settings:
  master_key: ${MASTER}
fleetgate_settings:
  redis_namespace: aborts-${randomUUID()}
  redis_command_timeout_ms: 1000
`;
    const env = { REDIS_URL: inject('redisUrl') };
    const replicas: GatewayProc[] = await Promise.all([
      startGateway({ config, env }),
      startGateway({ config, env }),
    ]);
    const issued = (await (
      await fetch(`${replicas[0]!.url}/key/generate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: '{}',
      })
    ).json()) as { key: string; token: string };

    const outcomes: Outcome[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < STREAMS) {
          const i = next++;
          outcomes.push(await abortedStream(replicas[i % 2]!.url, issued.key));
        }
      }),
    );
    const lastAbort = performance.now();

    // Four requests at once are all admitted: every slot is free again.
    const fourAtOnce = async () =>
      (
        await Promise.all(
          replicas.flatMap((g) =>
            [0, 1].map(() =>
              fetch(`${g.url}/v1/chat/completions`, {
                method: 'POST',
                headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
                body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
              }).then(async (r) => {
                await r.text();
                return r.status;
              }),
            ),
          ),
        )
      ).every((s) => s === 200);
    await expect.poll(fourAtOnce, { timeout: 1_000, interval: 50 }).toBe(true);
    expect(performance.now() - lastAbort).toBeLessThanOrEqual(1_000);

    // Nobody's fault but the clients': no failure counted, no cooldown.
    for (const g of replicas) {
      const metrics = await (await fetch(`${g.url}/metrics`)).text();
      expect(metrics).not.toMatch(/^litellm_deployment_failure_responses_total\{.*\} [1-9]/m);
      expect(metrics).not.toMatch(/^litellm_deployment_cooled_down_total\{.*\} [1-9]/m);
    }

    // Charged for what streamed: the prompt (when it reached the upstream) and a token per event.
    // The gateway may have passed on an event or two the client never read before it left.
    const read = outcomes.filter((o) => o.status === 200);
    const early = outcomes.filter((o) => o.status === undefined);
    const floor = read.reduce((sum, o) => sum + PROMPT * IN + o.events * OUT, 0);
    const ceiling = floor + read.length * 2 * OUT + early.length * (PROMPT * IN + 2 * OUT);
    const spend = async () =>
      (
        (await (
          await fetch(`${replicas[0]!.url}/key/info?key=${issued.token}`, {
            headers: { authorization: `Bearer ${MASTER}` },
          })
        ).json()) as { info: { spend: number } }
      ).info.spend;
    await expect.poll(spend, { timeout: 3_000 }).toBeGreaterThanOrEqual(floor - 1e-9);
    const charged = await spend();
    console.info(
      JSON.stringify({
        streams: outcomes.length,
        readThenLeft: read.length,
        leftBeforeHeaders: early.length,
        refused: outcomes.filter((o) => o.status === 429).length,
        floor,
        charged,
        ceiling,
      }),
    );
    expect(outcomes).toHaveLength(STREAMS);
    // Both ways of leaving happened often (a client that comes straight back may find its own slot
    // not yet given back by the replica it left, and get a 429: that is the race, not a leak).
    expect(read.length).toBeGreaterThan(STREAMS / 4);
    expect(early.length).toBeGreaterThan(STREAMS / 10);
    expect(charged).toBeLessThanOrEqual(ceiling + 1e-9);
    // Charging each stream's reservation instead (prompt + 256 completion tokens) would be far above.
    expect(ceiling).toBeLessThan(read.length * (PROMPT * IN + 256 * OUT));
    await Promise.all([...replicas.map((g) => g.stop()), fake.stop()]);
  }, 120_000);
});
