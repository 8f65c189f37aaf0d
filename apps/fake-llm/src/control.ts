import type { IncomingMessage, ServerResponse } from 'node:http';
import { INVALID_JSON, parseJson, readBody } from './body.js';
import type { FakeCore } from './core.js';
import { errorJson } from './errors.js';
import { ConfigError, type ConfigurePatch } from './options.js';

/** Paths of the run-time control API start with this; they are never counted in the stats. */
export const CONTROL_PREFIX = '/__';

function send(res: ServerResponse, status: number, value: unknown): void {
  const json = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * The control API, for tests that drive a fake in another process:
 * `GET /__stats`, `POST /__reset`, `GET /__control` (current configuration) and
 * `POST /__control` with a ConfigurePatch body (answers with the new configuration).
 */
export function handleControl(core: FakeCore, req: IncomingMessage, res: ServerResponse, path: string): void {
  readBody(req, (raw) => {
    const route = `${req.method} ${path}`;
    if (route === 'GET /__stats') return send(res, 200, core.snapshot());
    if (route === 'POST /__reset') {
      core.reset();
      return send(res, 200, { ok: true });
    }
    if (route === 'GET /__control') return send(res, 200, core.describe());
    if (route === 'POST /__control') return configure(core, res, parseJson(raw));
    send(res, 404, errorJson(404, `Invalid URL (${route})`, 'unknown_url'));
  });
}

function configure(core: FakeCore, res: ServerResponse, patch: unknown): void {
  if (patch === INVALID_JSON) {
    send(res, 400, errorJson(400, 'The patch is not valid JSON.', 'invalid_json'));
    return;
  }
  try {
    core.configure(patch as ConfigurePatch);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    send(res, 400, errorJson(400, error.message, 'invalid_config'));
    return;
  }
  send(res, 200, core.describe());
}
