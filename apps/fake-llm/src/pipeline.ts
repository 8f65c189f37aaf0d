import type { IncomingMessage, ServerResponse } from 'node:http';
import { bedrockModelOf } from './bedrock-shapes.js';
import { INVALID_JSON, isObject, parseJson, readBody, recordedBody } from './body.js';
import type { FakeCore } from './core.js';
import { errorJson, RequestError } from './errors.js';
import { Exchange } from './exchange.js';
import { geminiModelOf } from './gemini-shapes.js';
import type { Behaviour } from './options.js';
import type { Reply } from './reply.js';
import { isModelList, matchGet, matchPost, type Route } from './routes.js';
import { sendStream } from './stream.js';

/** True with probability `rate`, without drawing a random number for the usual 0 and 1. */
const roll = (rate: number) => rate > 0 && (rate >= 1 || Math.random() < rate);

/** Everything about one admitted request that answering it needs. */
interface Admitted {
  core: FakeCore;
  ex: Exchange;
  route: Route;
  body: Record<string, unknown>;
  behaviour: Behaviour;
  path: string;
  query: string;
}

/**
 * Answers one API request: read the body, record it, route it, check its credentials, apply the
 * quotas, then the fault knobs in order hang, latency, fail, cut.
 */
export function handleApiRequest(
  core: FakeCore,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string,
): void {
  core.stats.received(path);
  const ex = new Exchange(res, core.stats);
  readBody(req, (raw) => dispatch(core, req, ex, path, query, raw));
}

/** Records the request once its body is in, then answers 404 / 400 or goes on to admission. */
function dispatch(
  core: FakeCore,
  req: IncomingMessage,
  ex: Exchange,
  path: string,
  query: string,
  raw: Buffer,
): void {
  const parsed = parseJson(raw);
  const method = req.method ?? 'GET';
  core.stats.record({
    method,
    path,
    query,
    headers: req.headers,
    body: recordedBody(raw, parsed),
    receivedAt: Date.now(),
  });
  const route = routeOf(core, method, path);
  if (!route) {
    ex.error(404, `Invalid URL (${method} ${path})`, 'unknown_url');
    return;
  }
  let body: Record<string, unknown> = {};
  if (route.body === 'form') body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
  else if (route.body === 'json') {
    if (!isObject(parsed)) {
      rejectBody(ex, parsed, route);
      return;
    }
    body = parsed;
  }
  const now = Date.now();
  const refusal = route.auth?.({ path, query, headers: req.headers, oauth: core.oauth, now });
  if (refusal) {
    ex.error(refusal.status, refusal.message, refusal.code, refusal.headers, route.dialect);
    return;
  }
  if (route.body === 'json') countModel(core, route, body, path);
  admit({ core, ex, route, body, behaviour: core.table.resolve(path), path, query });
}

/** `GET …/models` goes through the same quota and fault knobs as the inference endpoints. */
function routeOf(core: FakeCore, method: string, path: string): Route | undefined {
  if (method === 'POST') return matchPost(path);
  if (method === 'GET') return matchGet(path) ?? (isModelList(path) ? core.modelList : undefined);
  return undefined;
}

function rejectBody(ex: Exchange, parsed: unknown, route: Route): void {
  const what =
    parsed === INVALID_JSON ? 'could not parse the JSON body of your request' : 'expected a JSON object body';
  ex.error(400, `We ${what}.`, 'invalid_json', undefined, route.dialect);
}

function countModel(core: FakeCore, route: Route, body: Record<string, unknown>, path: string): void {
  if (route.dialect === 'google') core.stats.model(geminiModelOf(path));
  else if (route.dialect === 'bedrock') core.stats.model(bedrockModelOf(path));
  else if (typeof body['model'] === 'string') core.stats.model(body['model']);
}

function admit(request: Admitted): void {
  const { core, ex, behaviour } = request;
  const waitMs = core.quota.admit(request.path, Date.now());
  if (waitMs > 0) rejectOverQuota(ex, waitMs, request.route);
  else if (roll(behaviour.hangRate)) ex.hang();
  else {
    const delay = behaviour.latencyMs + (behaviour.jitterMs > 0 ? Math.random() * behaviour.jitterMs : 0);
    if (delay > 0) ex.timer = setTimeout(respond, delay, request);
    else respond(request);
  }
}

/**
 * 429 with `retry-after` in whole seconds (rounded up) and, as OpenAI and Azure send it,
 * `retry-after-ms`, in the provider's error shape (Google's RESOURCE_EXHAUSTED, Bedrock's
 * ThrottlingException, Anthropic's rate_limit_error).
 */
function rejectOverQuota(ex: Exchange, waitMs: number, route: Route): void {
  const seconds = Math.ceil(waitMs / 1000);
  const message =
    route.dialect === 'google'
      ? `Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute. Please try again in ${seconds}s.`
      : route.dialect === 'bedrock'
        ? 'Too many requests, please wait before trying again.'
        : `Rate limit reached for requests. Please try again in ${seconds}s.`;
  ex.error(
    429,
    message,
    'rate_limit_exceeded',
    { 'retry-after': String(seconds), 'retry-after-ms': String(Math.ceil(waitMs)) },
    route.dialect,
  );
}

function respond(request: Admitted): void {
  const { ex, behaviour } = request;
  ex.timer = undefined;
  if (ex.res.destroyed) return;
  if (roll(behaviour.failRate)) {
    fail(ex, behaviour.failStatus, request.route);
    return;
  }
  const reply = build(request);
  if (reply === undefined) return;
  const cut = roll(behaviour.cutRate);
  if (reply.kind === 'stream') sendStream(ex, reply, behaviour.chunkDelayMs, cut);
  else if (cut) ex.cut();
  else ex.json(200, reply.json);
}

/** The endpoint's reply, or undefined once a RequestError has been answered. */
function build(request: Admitted): Reply | undefined {
  const { core, ex } = request;
  try {
    const now = Date.now();
    return request.route.build(request.body, {
      behaviour: request.behaviour,
      path: request.path,
      query: request.query,
      id: core.nextId(),
      created: Math.floor(now / 1000),
      oauth: core.oauth,
      now,
    });
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    if (request.route.dialect === 'openai') {
      ex.json(error.status, errorJson(error.status, error.message, error.code, error.param));
    } else ex.error(error.status, error.message, error.code, undefined, request.route.dialect);
    return undefined;
  }
}

function fail(ex: Exchange, status: number, route: Route): void {
  const rateLimited = status === 429;
  ex.error(
    status,
    `The fake upstream failed this request on purpose (failRate), with status ${status}.`,
    rateLimited ? 'rate_limit_exceeded' : 'injected_failure',
    rateLimited ? { 'retry-after': '1' } : undefined,
    route.dialect,
  );
}
