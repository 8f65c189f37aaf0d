// `npm start`: the fake upstream and one gateway replica on the embedded in-memory store, so the
// README's curl and openai-SDK examples work offline. Ctrl-C stops both.
//
//   PORT           the gateway's port (default 4000)
//   FAKE_LLM_PORT  the fake upstream's port (default 4001)
//   LOG_LEVEL      the gateway's log level (default info; JSON lines on stdout)
//
// The banner is printed once the gateway listens. If either process cannot start (a port is
// taken, say), the demo says which and exits with that process's non-zero code.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = process.env.PORT ?? '4000';
const fakePort = process.env.FAKE_LLM_PORT ?? '4001';
const children = new Set();
let stopping = false;

/** Stops both processes, then exits with `code`. */
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  const exit = () => process.exit(code);
  if (children.size === 0) return exit();
  let left = children.size;
  for (const child of children)
    child.once('exit', () => {
      if (--left === 0) exit();
    });
  // A child that ignores SIGTERM must not keep the demo alive.
  setTimeout(exit, 30_000).unref();
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/** Starts `node script args`, echoes its stdout, and resolves with the first group of `ready`. */
function start(name, args, ready, env) {
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env });
  children.add(child);
  return new Promise((resolve) => {
    let started = false;
    createInterface({ input: child.stdout }).on('line', (line) => {
      process.stdout.write(`${line}\n`);
      const m = started ? null : line.match(ready);
      if (m) {
        started = true;
        resolve(m[1]);
      }
    });
    child.once('exit', (code, signal) => {
      children.delete(child);
      if (stopping) return;
      const how = code === null ? `was killed (${signal})` : `exited with code ${code}`;
      console.error(
        started
          ? `demo: ${name} ${how}; stopping`
          : `demo: ${name} could not start (${how}); is its port free? ${name === 'fake-llm' ? `set FAKE_LLM_PORT (now ${fakePort})` : `set PORT (now ${port})`}`,
      );
      stop(code || 1);
    });
  });
}

const fakeUrl = await start(
  'fake-llm',
  [
    'apps/fake-llm/dist/main.js',
    '--port',
    fakePort,
    '--latency-ms',
    '40',
    '--jitter-ms',
    '20',
    '--chunk-delay-ms',
    '15',
  ],
  /listening on (http:\/\/\S+)/,
  process.env,
);
await start(
  'gateway',
  ['apps/gateway/dist/main.js', '--config', 'demo/config.yaml', '--port', port],
  /"msg":"fleetgate listening on (http:\/\/[^"]+)"/,
  { ...process.env, FAKE_LLM_URL: fakeUrl },
);

console.error(`
demo: Fleetgate listens on http://localhost:${port} (master key sk-1234), in front of the fake upstream on ${fakeUrl}
demo: try  curl -s localhost:${port}/v1/chat/completions -H 'Authorization: Bearer sk-1234' \\
             -H 'content-type: application/json' \\
             -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
demo: the live fleet page: http://localhost:${port}/fleet (sign in with sk-1234); metrics: http://localhost:${port}/metrics
`);
