import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.js';

const models = `model_list:
  - model_name: gpt-4
    litellm_params: { model: openai/gpt-4 }
  - model_name: gpt-4-128k
    litellm_params: { model: openai/gpt-4-128k }
  - model_name: claude
    litellm_params: { model: openai/claude }
`;

function problems(text: string): string[] {
  try {
    parseConfig('config.yaml', text, {});
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.lines];
    throw error;
  }
}

describe('routing config', () => {
  it("reads LiteLLM's fallbacks of every kind from either section, router_settings first", () => {
    const config = parseConfig(
      'c.yaml',
      `${models}router_settings:
  fallbacks: [{ gpt-4: [claude] }, { "*": [gpt-4] }]
  default_fallbacks: [claude]
  max_fallbacks: 3
litellm_settings:
  fallbacks: [{ claude: [gpt-4] }]
  context_window_fallbacks: [{ gpt-4: [gpt-4-128k] }]
  content_policy_fallbacks: [{ gpt-4: [claude] }]
`,
      {},
    );
    const f = config.routing.fallbacks;
    expect([...f.general]).toEqual([['gpt-4', ['claude']]]);
    expect(f.defaults).toEqual(['claude', 'gpt-4']);
    expect([...f.contextWindow]).toEqual([['gpt-4', ['gpt-4-128k']]]);
    expect([...f.contentPolicy]).toEqual([['gpt-4', ['claude']]]);
    expect(f.maxFallbacks).toBe(3);
  });

  it('accepts fallbacks that name each other: a chain is one list, it cannot loop', () => {
    const config = parseConfig(
      'c.yaml',
      `${models}router_settings:\n  fallbacks: [{ gpt-4: [claude] }, { claude: [gpt-4] }]\n`,
      {},
    );
    expect(config.routing.fallbacks.general.get('claude')).toEqual(['gpt-4']);
  });

  it('reads retry_policy and allowed_fails_policy by error class', () => {
    const config = parseConfig(
      'c.yaml',
      `${models}router_settings:
  retry_policy: { RateLimitErrorRetries: 5, BadRequestErrorRetries: 0 }
  allowed_fails_policy: { TimeoutErrorAllowedFails: 10 }
`,
      {},
    );
    expect(config.routing.retryPolicy).toEqual({ RateLimitError: 5, BadRequestError: 0 });
    expect(config.routing.allowedFailsPolicy).toEqual({ TimeoutError: 10 });
  });

  it("reads latency-based-routing's arguments", () => {
    const config = parseConfig(
      'c.yaml',
      `${models}router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: { ttl: 60, lowest_latency_buffer: 0.5, max_latency_list_size: 4 }
`,
      {},
    );
    expect(config.routing.strategy).toEqual({
      name: 'latency-based-routing',
      latencyTtlMs: 60_000,
      latencyBuffer: 0.5,
      latencyAlpha: 0.4,
    });
  });

  it('stops startup at every bad value, naming it', () => {
    expect(
      problems(`${models}router_settings:
  routing_strategy: fastest-routing
`),
    ).toEqual([
      expect.stringMatching(
        /^config\.yaml:9 router_settings\.routing_strategy: must be one of simple-shuffle, /,
      ),
    ]);
    expect(
      problems(`${models}router_settings:
  routing_strategy: least-busy
  routing_strategy_args: { ttl: 60 }
  fallbacks: [{ gpt-4: [gpt-5] }]
  default_fallbacks: [nowhere]
  retry_policy: { RateLimitRetries: 3 }
  allowed_fails_policy: { TimeoutErrorAllowedFails: -1 }
litellm_settings:
  context_window_fallbacks: [{ gpt-4: [gpt-4-1m] }]
`),
    ).toEqual([
      'config.yaml:14 router_settings.allowed_fails_policy.TimeoutErrorAllowedFails: must be 0 or more',
    ]);
    expect(
      problems(`${models}router_settings:
  routing_strategy: least-busy
  routing_strategy_args: { ttl: 60 }
  fallbacks: [{ gpt-4: [gpt-5] }]
  default_fallbacks: [nowhere]
  retry_policy: { RateLimitRetries: 3 }
litellm_settings:
  context_window_fallbacks: [{ gpt-4: [gpt-4-1m] }]
`),
    ).toEqual([
      'config.yaml:11 router_settings.fallbacks[0].gpt-4: unknown model group "gpt-5"',
      'config.yaml:12 router_settings.default_fallbacks[0]: unknown model group "nowhere"',
      'config.yaml:15 litellm_settings.context_window_fallbacks[0].gpt-4: unknown model group "gpt-4-1m"',
      expect.stringMatching(
        /^config\.yaml:13 router_settings\.retry_policy\.RateLimitRetries: unknown key; expected one of BadRequestErrorRetries, /,
      ),
      'config.yaml:10 router_settings.routing_strategy_args.ttl: least-busy takes no arguments',
    ]);
    expect(
      problems(`${models}router_settings:
  routing_strategy: latency-based-routing
  routing_strategy_args: { lowest_latency_buffer: -1, decay: 2 }
`),
    ).toEqual([
      'config.yaml:10 router_settings.routing_strategy_args.decay: not an argument of latency-based-routing (it takes ttl, lowest_latency_buffer, max_latency_list_size)',
      'config.yaml:10 router_settings.routing_strategy_args.lowest_latency_buffer: must be a number, 0 or more',
    ]);
  });

  it('reads model_info.smoothing as a slice limit, and stops at every bad value', () => {
    const config = parseConfig(
      'c.yaml',
      `model_list:
  - model_name: gpt-4
    litellm_params: { model: openai/gpt-4, rpm: 600 }
    model_info: { smoothing: { slice_seconds: 10, burst: 5 } }
  - model_name: gpt-4
    litellm_params: { model: openai/gpt-4o, rpm: 30 }
    model_info: { smoothing: { slice_seconds: 1 } }
`,
      {},
    );
    // 600 per minute is 100 per 10 s, plus the burst; 30 per minute rounds down to 0 per second: 1.
    expect(config.deployments.map((d) => d.slice)).toEqual([
      { ms: 10_000, max: 105 },
      { ms: 1_000, max: 1 },
    ]);
    expect(
      problems(`model_list:
  - model_name: a
    litellm_params: { model: openai/a }
    model_info: { smoothing: { slice_seconds: 1 } }
  - model_name: b
    litellm_params: { model: openai/b, rpm: 60 }
    model_info: { smoothing: { slice_seconds: 0 } }
  - model_name: c
    litellm_params: { model: openai/c, rpm: 60 }
    model_info: { smoothing: { slice_seconds: 120, burst: -1 } }
  - model_name: d
    litellm_params: { model: openai/d, rpm: 60 }
    model_info: { smoothing: { slices: 1 } }
  - model_name: e
    litellm_params: { model: openai/e, rpm: 60 }
    model_info: { smoothing: 10 }
`),
    ).toEqual([
      'config.yaml:7 model_list[1].model_info.smoothing.slice_seconds: must be 0.1 or more',
      'config.yaml:10 model_list[2].model_info.smoothing.slice_seconds: must be 60 or less (the rpm window itself)',
      'config.yaml:10 model_list[2].model_info.smoothing.burst: must be 0 or more',
      expect.stringMatching(/^config\.yaml:13 model_list\[3\]\.model_info\.smoothing/),
      expect.stringMatching(/^config\.yaml:13 model_list\[3\]\.model_info\.smoothing/),
      'config.yaml:16 model_list[4].model_info.smoothing: must be a mapping with slice_seconds (and burst)',
    ]);
    expect(
      problems(`model_list:
  - model_name: a
    litellm_params: { model: openai/a }
    model_info: { smoothing: { slice_seconds: 1 } }
`),
    ).toEqual([
      'config.yaml:4 model_list[0].model_info.smoothing: smoothing shares out litellm_params.rpm per slice: set rpm',
    ]);
  });
});
