import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import { killAll, runGatewayCli, startFakeLlm, startGateway, writeConfig } from '../support/processes.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

afterAll(async () => {
  await killAll();
});

describe('fleetgate command line', () => {
  it('exits 2 with one clear line for a bad flag, a missing --config, a missing file', async () => {
    const bad = await runGatewayCli(['--config', 'x.yaml', '--prot', '4000']);
    expect(bad.code).toBe(2);
    expect(bad.lines).toEqual([expect.stringMatching(/^fleetgate: Unknown option '--prot'/)]);
    const none = await runGatewayCli([]);
    expect(none).toEqual({ code: 2, lines: ['fleetgate: --config FILE is required (see fleetgate --help)'] });
    const port = await runGatewayCli(['--config', 'x.yaml', '--port', 'http']);
    expect(port).toEqual({ code: 2, lines: ['fleetgate: --port must be a whole number, got "http"'] });
    const missing = await runGatewayCli(['--config', '/nonexistent/config.yaml']);
    expect(missing).toEqual({
      code: 2,
      lines: ['fleetgate: /nonexistent/config.yaml: cannot read the config file (ENOENT)'],
    });
  });

  it('exits 2 naming file:line path for a bad config value, and names a provider it cannot serve yet', async () => {
    const file = writeConfig(
      'model_list:\n  - model_name: m\n    litellm_params:\n      model: openai/x\n      tpm: -1\n',
    );
    expect(await runGatewayCli(['--config', file])).toEqual({
      code: 2,
      lines: [`fleetgate: ${file}:5 model_list[0].litellm_params.tpm: must be 1 or more`],
    });
    const vertex = await runGatewayCli(['--config', fixture('seed-gemini-vision.yaml')]);
    expect(vertex.code).toBe(2);
    expect(vertex.lines[0]).toMatch(
      /seed-gemini-vision\.yaml:4 model_list\[0\]\.litellm_params\.model: provider "vertex_ai" is not supported by Fleetgate yet/,
    );
  });

  it('takes the config path from CONFIG_FILE_PATH as LiteLLM does', async () => {
    const file = writeConfig('model_list: nope\n');
    const result = await runGatewayCli([], { CONFIG_FILE_PATH: file });
    expect(result).toEqual({
      code: 2,
      lines: [`fleetgate: ${file}:1 model_list: must be a list of deployments`],
    });
  });

  it('refuses --workers without Redis, saying why', async () => {
    const file = writeConfig('model_list:\n  - model_name: m\n    litellm_params: { model: openai/x }\n');
    const result = await runGatewayCli(['--config', file, '--num_workers', '2'], { REDIS_URL: '' });
    expect(result.code).toBe(2);
    expect(result.lines.join('\n')).toMatch(/--workers 2 needs Redis so the workers share limits/);
  });

  it('exits 1 when the port is taken', async () => {
    const port = await freePort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await new Promise((r) => blocker.once('listening', r));
    const file = writeConfig('model_list:\n  - model_name: m\n    litellm_params: { model: openai/x }\n');
    const result = await runGatewayCli(['--config', file, '--host', '127.0.0.1', '--port', String(port)]);
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.lines.join('\n')).toMatch(/EADDRINUSE/);
  });

  it('prints startup warnings: an open gateway, per-replica limits, ignored keys', async () => {
    const fake = await startFakeLlm();
    const gateway = await startGateway({
      config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_base: "${fake.url}", vertex_project: p }\nlitellm_settings:\n  drop_params: true\n`,
      env: { REDIS_URL: '', LITELLM_MASTER_KEY: '' },
    });
    const logs = gateway.lines.join('\n');
    expect(logs).toMatch(/NO MASTER KEY/);
    expect(logs).toMatch(/no Redis configured/);
    expect(logs).toMatch(
      /does not act on.*model_list\[\*\]\.litellm_params\.vertex_project.*litellm_settings\.drop_params/,
    );
    // Open means open: no key needed.
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(200);
    await gateway.stop();
    await fake.stop();
  });

  it('on SIGTERM stops accepting, finishes the request in flight, exits 0', async () => {
    const fake = await startFakeLlm(['--latency-ms', '1500']);
    const gateway = await startGateway({
      config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_base: "${fake.url}" }\ngeneral_settings:\n  master_key: sk-1\n`,
    });
    const inFlight = fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-1' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    await new Promise((r) => setTimeout(r, 300));
    gateway.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    await expect(fetch(`${gateway.url}/health/liveliness`)).rejects.toThrow();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
    expect(await gateway.exited).toBe(0);
    await fake.stop();
  });
});
