import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AttemptFailure } from '@fleetgate/routing';
import { GatewayError } from '../errors.js';
import { waitUnlessGone } from '../http/client-gone.js';
import type { Mock } from '../http/request-controls.js';
import type { Endpoint, Usage } from '../providers/types.js';
import { relaySse } from '../upstream/sse-relay.js';
import type { AttemptEnd, AttemptInput, AttemptResult } from './attempt.js';

/** The usage LiteLLM's mock completions report. */
const MOCK_USAGE: Usage = { promptTokens: 10, completionTokens: 20 };

const closed = () => new GatewayError(499, 'client_closed', 'client closed the request');

/**
 * Answers an admitted attempt from the request's mock instead of calling the deployment (LiteLLM's
 * `mock_response` / `mock_timeout`), so it is admitted, limited, charged and logged like a real one.
 * A mocked failure or timeout is not the deployment's fault: it is settled without counting toward
 * cooldowns (`end(…, counted: false)`).
 */
export async function mockAttempt(
  input: AttemptInput,
  mock: Mock,
  model: string,
  timeoutMs: number,
  end: AttemptEnd,
): Promise<AttemptResult> {
  if (mock.kind === 'reply') {
    if (!input.stream) {
      end(MOCK_USAGE, undefined, true);
      const body = Buffer.from(JSON.stringify(mockCompletion(input.endpoint, model, mock.text)));
      return { kind: 'answer', answer: { status: 200, contentType: 'application/json', body } };
    }
    const events = mockStream(input.endpoint, model, mock.text, input.clientWantsUsage);
    const body = eventStream(events, end, timeoutMs, input);
    return { kind: 'answer', answer: { status: 200, contentType: 'text/event-stream', body } };
  }
  if (mock.kind === 'timeout') {
    if (!(await waitUnlessGone(timeoutMs, input.signal))) {
      end(undefined, undefined, false, 0);
      throw closed();
    }
    const failure: AttemptFailure = { kind: 'timeout', status: 504 };
    end(undefined, failure, false);
    const error = new GatewayError(
      504,
      'upstream_timeout',
      `litellm.Timeout: mock timeout after ${timeoutMs / 1000} s`,
    );
    return { kind: 'retryable', failure, error };
  }
  const failure: AttemptFailure = { kind: 'http', status: mock.status };
  end(undefined, failure, false);
  const error = new GatewayError(mock.status, 'upstream_error', mock.message);
  const answer = {
    status: mock.status,
    contentType: 'application/json',
    body: Buffer.from(JSON.stringify(error.toJSON())),
  };
  return mock.status === 400 ? { kind: 'answer', answer, failure } : { kind: 'retryable', failure, answer };
}

function usageJson() {
  const { promptTokens, completionTokens } = MOCK_USAGE;
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

function mockCompletion(endpoint: Endpoint, model: string, text: string): Record<string, unknown> {
  const created = Math.floor(Date.now() / 1000);
  if (endpoint === 'completions') {
    return {
      id: `cmpl-${randomUUID()}`,
      object: 'text_completion',
      created,
      model,
      choices: [{ index: 0, text, logprobs: null, finish_reason: 'stop' }],
      usage: usageJson(),
    };
  }
  return {
    id: `chatcmpl-${randomUUID()}`,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage: usageJson(),
  };
}

function mockStream(endpoint: Endpoint, model: string, text: string, withUsage: boolean): string[] {
  const base = {
    id: `${endpoint === 'completions' ? 'cmpl' : 'chatcmpl'}-${randomUUID()}`,
    object: endpoint === 'completions' ? 'text_completion' : 'chat.completion.chunk',
    created: Math.floor(Date.now() / 1000),
    model,
  };
  const choice = (content: string | undefined, finish: string | null) =>
    endpoint === 'completions'
      ? { index: 0, text: content ?? '', finish_reason: finish }
      : {
          index: 0,
          delta: content === undefined ? {} : { role: 'assistant', content },
          finish_reason: finish,
        };
  const chunks: unknown[] = [
    { ...base, choices: [choice(text, null)] },
    { ...base, choices: [choice(undefined, 'stop')] },
  ];
  if (withUsage) chunks.push({ ...base, choices: [], usage: usageJson() });
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'];
}

/**
 * The events as a stream the client reads, through the same relay as an upstream's: the attempt ends
 * when the client has read them all, cancels, leaves, or stops reading for a whole timeout.
 */
function eventStream(
  events: string[],
  end: AttemptEnd,
  timeoutMs: number,
  input: AttemptInput,
): ReadableStream<Uint8Array> {
  const source = Readable.from(events.map((e) => Buffer.from(e)));
  return relaySse(
    source,
    {
      onEnd: (how) => {
        if (how.kind === 'done') end(MOCK_USAGE, undefined, true);
        else end(undefined, undefined, false, how.events);
      },
    },
    timeoutMs,
    input.signal,
  );
}
