import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The built module, as the gateway runs it (npm test builds first).
const LOG_JS = fileURLToPath(new URL('../dist/log.js', import.meta.url));

/** Runs `body` in a fresh node process with `createLogger`, `lineWriter` and `flushLogs` in scope. */
function run(body: string) {
  const script = `import { createLogger, lineWriter, flushLogs } from ${JSON.stringify(LOG_JS)};\n${body}`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  expect(out.status, out.stderr).toBe(0);
  return out.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('log lines on stdout', () => {
  it('are all written, in order, when the process exits at once', () => {
    const lines = run(`
      const log = createLogger('info');
      const line = lineWriter(log);
      log.warn({ msg: 'first' });
      for (let i = 0; i < 500; i++) line('info', '"msg":"request","n":' + i);
      log.info({ msg: 'last' });
      process.exit(0);
    `);
    expect(lines).toHaveLength(502);
    expect(lines[0]).toMatchObject({ msg: 'first', level: 'warn' });
    expect(lines.slice(1, 501).map((l) => l['n'])).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(lines[501]).toMatchObject({ msg: 'last' });
  });

  it('are written out by flushLogs, in order', () => {
    const lines = run(`
      const log = createLogger('info');
      lineWriter(log)('info', '"msg":"request","n":1');
      setTimeout(async () => {
        log.info({ msg: 'after the interval' });
        await flushLogs(log);
        process.exit(0);
      }, 300);
      setTimeout(() => {}, 250);
    `);
    expect(lines.map((l) => l['msg'])).toEqual(['request', 'after the interval']);
  });

  it('are written by the flush interval alone: no flush, no exit hook', () => {
    // The exit hook would write the batch too: without it, only the interval can have.
    const lines = run(`
      const log = createLogger('info');
      lineWriter(log)('info', '"msg":"first batch"');
      setTimeout(() => {
        lineWriter(log)('info', '"msg":"second batch"');
        setTimeout(() => {
          process.removeAllListeners('exit');
          process.exit(0);
        }, 400);
      }, 400);
    `);
    expect(lines.map((l) => l['msg'])).toEqual(['first batch', 'second batch']);
  });

  it('a fatal line is written before the process goes on', () => {
    const lines = run(`
      const log = createLogger('info');
      lineWriter(log)('info', '"msg":"request"');
      log.fatal({ msg: 'cannot start' });
      process.stdout.write('{"msg":"after fatal"}\\n');
      process.exit(0);
    `);
    expect(lines.map((l) => l['msg'])).toEqual(['request', 'cannot start', 'after fatal']);
  });
});
