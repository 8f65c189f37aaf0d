import { type ChildProcessByStdio, execFileSync, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));

type Child = ChildProcessByStdio<null, Readable, Readable>;
const children: Child[] = [];

// Self-sufficient: the CLI under test is the built one, so build it first.
beforeAll(() => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'apps/fake-llm'], { cwd: root, stdio: 'inherit' });
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** Starts the CLI and resolves with the first stdout line. */
async function startCli(args: string[]): Promise<{ child: Child; line: string }> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  for await (const chunk of child.stdout) {
    out += chunk;
    if (out.includes('\n')) break;
  }
  return { child, line: out.split('\n')[0] ?? '' };
}

describe('fake-llm CLI', () => {
  it('prints its address, serves with the flags it was given, and exits 0 on SIGTERM', async () => {
    const { child, line } = await startCli(['--port', '0', '--completion-tokens', '3', '--rpm', '/v1=1']);
    const match = /^fake-llm listening on http:\/\/127\.0\.0\.1:(\d+)$/.exec(line);
    expect(match, line).not.toBeNull();
    const base = `http://127.0.0.1:${match![1]}`;

    const ok = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(JSON.parse(await ok.text()).choices[0].message.content).toBe('lorem ipsum dolor');
    const limited = await fetch(`${base}/v1/chat/completions`, { method: 'POST', body: '{"messages":[]}' });
    expect(limited.status).toBe(429);
    const stats = JSON.parse(await (await fetch(`${base}/__stats`)).text());
    expect(stats.byPrefix).toEqual({ '/v1': { accepted: 1, rejected429: 1 } });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  });

  it.each([
    [['--bogus'], /--bogus/],
    [['--fail-rate', '2'], /--fail-rate/],
    [['--rpm', 'nope'], /--rpm/],
    [['--latency-ms', '-5'], /--latency-ms/],
  ])('exits 2 with one line on stderr for %j', (args, message) => {
    const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('prints the usage on --help', () => {
    const result = spawnSync(process.execPath, [main, '--help'], { encoding: 'utf8', timeout: 10_000 });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('--rpm PREFIX=N');
  });
});
