// `npm start`: the fake upstream and one gateway replica on the embedded in-memory store, so the
// README's curl and openai-SDK examples work offline. Ctrl-C stops both.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const port = process.env.PORT ?? '4000';
const fakePort = process.env.FAKE_LLM_PORT ?? '4001';

const fake = spawn(
  process.execPath,
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
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
const fakeUrl = await new Promise((resolve, reject) => {
  fake.once('exit', (code) =>
    reject(new Error(`fake-llm exited with ${code} (is port ${fakePort} free? set FAKE_LLM_PORT)`)),
  );
  createInterface({ input: fake.stdout }).on('line', (line) => {
    const m = line.match(/listening on (http:\/\/\S+)/);
    if (m) resolve(m[1]);
  });
}).catch((error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});

const gateway = spawn(
  process.execPath,
  ['apps/gateway/dist/main.js', '--config', 'demo/config.yaml', '--port', port],
  {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, FAKE_LLM_URL: fakeUrl },
  },
);

console.error(`
demo: fake upstream on ${fakeUrl}, Fleetgate starting on http://localhost:${port}
demo: try  curl -s localhost:${port}/v1/chat/completions -H 'Authorization: Bearer sk-1234' \\
             -H 'content-type: application/json' \\
             -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
`);

let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  gateway.kill('SIGTERM');
  fake.kill('SIGTERM');
  setTimeout(() => process.exit(code), 100).unref();
};
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
gateway.on('exit', (code) => stop(code ?? 0));
fake.on('exit', (code) => stop(code ?? 1));
