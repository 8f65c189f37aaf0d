import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import {
  killAll,
  ROOT,
  runGatewayCli,
  startFakeLlm,
  startGateway,
  writeConfig,
} from '../support/processes.js';

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
    const cohere = writeConfig(
      'model_list:\n  - model_name: m\n    litellm_params:\n      model: cohere/command-r\n',
    );
    const notYet = await runGatewayCli(['--config', cohere]);
    expect(notYet.code).toBe(2);
    expect(notYet.lines[0]).toMatch(
      /:4 model_list\[0\]\.litellm_params\.model: provider "cohere" is not supported by Fleetgate yet/,
    );
    // The seed's Vertex AI config loads once its credentials file exists; without it, startup names the file.
    const vertex = await runGatewayCli(['--config', fixture('seed-gemini-vision.yaml')]);
    expect(vertex.code).toBe(2);
    expect(vertex.lines[0]).toMatch(
      /seed-gemini-vision\.yaml:8 model_list\[0\]\.litellm_params\.vertex_credentials: cannot read the credentials file \/etc\/secrets\/adroit_crow\.json \(ENOENT\)/,
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
    // The request has reached the upstream (where it waits 1.5 s) when the signal comes.
    await expect.poll(async () => (await fake.stats()).inFlight, { timeout: 3_000, interval: 20 }).toBe(1);
    gateway.child.kill('SIGTERM');
    await expect
      .poll(
        () =>
          fetch(`${gateway.url}/health/liveliness`).then(
            () => 'accepting',
            () => 'closed',
          ),
        { timeout: 1_000, interval: 20 },
      )
      .toBe('closed');
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
    expect(await gateway.exited).toBe(0);
    await fake.stop();
  });

  it('prints usage for every command with --help, and through the fleetgate bin npm links', async () => {
    const top = await runGatewayCli(['--help']);
    expect(top.code).toBe(0);
    expect(top.lines[0]).toMatch(/^usage: fleetgate --config FILE/);
    const commands = [
      ...['generate', 'list', 'info', 'delete'].map((c) => ['keys', c]),
      ...['new', 'update', 'list', 'info', 'block', 'unblock', 'delete', 'add-member', 'remove-member'].map(
        (c) => ['teams', c],
      ),
    ];
    for (const [group, command] of commands) {
      const help = await runGatewayCli([group!, command!, '--help']);
      expect(help.code).toBe(0);
      expect(help.lines[0]).toMatch(new RegExp(`^usage: fleetgate ${group} ${command}`));
      expect(help.lines.join('\n')).toMatch(/--master-key KEY/);
    }
    const bin = await run(process.execPath, [join(ROOT, 'apps/gateway/bin/fleetgate.js'), 'keys', '--help']);
    expect(bin.code).toBe(0);
    expect(bin.out).toMatch(/^usage: fleetgate keys <command>/);
  });

  it('says "did you mean" at startup for a key one typo from a known one', async () => {
    const fake = await startFakeLlm();
    const gateway = await startGateway({
      config: `model_list:\n  - model_name: m\n    litellm_params: { model: openai/x, api_base: "${fake.url}", rmp: 30 }\n`,
      env: { REDIS_URL: '' },
    });
    expect(gateway.lines.join('\n')).toMatch(
      /litellm_params\.rmp: unknown key, ignored: did you mean \\"rpm\\"\?/,
    );
    await gateway.stop();
    await fake.stop();
  });

  it('exits on SIGTERM even when its stdout is a pipe nobody reads any more', async () => {
    // A short drain: on a busy test machine another test's client may find this port (it was free
    // when that test picked it) and hold a connection, which a 25 s drain would wait out. What is
    // tested is that a closed stdout cannot keep the process alive; the drain is tested elsewhere.
    const file = writeConfig(
      'model_list:\n  - model_name: m\n    litellm_params: { model: openai/x }\nfleetgate_settings:\n  shutdown_grace_seconds: 1\n',
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, 'apps/gateway/dist/main.js'), '--config', file, '--host', '127.0.0.1', '--port', '0'],
      {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL: '', LOG_LEVEL: 'info' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Read until it listens, then close our end of the pipe: its next log lines hit EPIPE.
    await new Promise<void>((resolve) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('fleetgate listening')) resolve();
      });
    });
    child.stdout!.destroy();
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    // null: still alive after 10 s (killed); 1: its own stop timer fired (something hung past the drain).
    expect(code, `exit code ${code}; stderr: ${stderr.slice(0, 2000)}`).toBe(0);
  });

  it('npm start prints its banner only once the gateway listens, and exits non-zero when it cannot start', async () => {
    const port = await freePort();
    const fakePort = await freePort();
    const blocker = createServer().listen(port, '0.0.0.0');
    await new Promise((r) => blocker.once('listening', r));
    const blocked = await run(process.execPath, ['demo/start.mjs'], {
      PORT: String(port),
      FAKE_LLM_PORT: String(fakePort),
    });
    blocker.close();
    expect(blocked.code).not.toBe(0);
    expect(blocked.out).not.toMatch(/Fleetgate listens on/);
    expect(blocked.out).toMatch(
      new RegExp(
        `demo: gateway could not start \\(exited with code 1\\); is its port free\\? set PORT \\(now ${port}\\)`,
      ),
    );

    const demo = spawn(process.execPath, ['demo/start.mjs'], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), FAKE_LLM_PORT: String(fakePort), REDIS_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    for (const s of [demo.stdout!, demo.stderr!]) s.on('data', (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    while (!out.includes('demo: Fleetgate listens on') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(out.indexOf('fleetgate listening on')).toBeGreaterThan(-1);
    expect(out.indexOf('fleetgate listening on')).toBeLessThan(out.indexOf('demo: Fleetgate listens on'));
    const res = await fetch(`http://127.0.0.1:${port}/health/readiness`);
    expect(res.status).toBe(200);
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});

/** Runs a command to completion (10 s at most) with the repository as its directory. */
function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    for (const s of [child.stdout!, child.stderr!]) s.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
