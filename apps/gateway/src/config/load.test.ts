import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { serviceAccountFile } from '../providers/google/service-account.test-support.js';
import { input, requestOf } from '../providers/translator.test-support.js';
import { ConfigError, loadConfig, parseConfig } from './load.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../../test/fixtures/${name}`, import.meta.url));

/** The lines startup would print for `text`, or [] when it loads. */
function problems(text: string, env: Record<string, string> = {}): string[] {
  try {
    parseConfig('config.yaml', text, env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.lines];
    throw error;
  }
}

const minimal = (params: string) => `model_list:
  - model_name: m
    litellm_params:
${params
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;

describe('the seed configs', () => {
  it('loads the aiohttp_openai configs unchanged', () => {
    for (const name of ['seed-aiohttp.yaml', 'seed-fake-endpoint.yaml']) {
      const config = loadConfig(fixture(name), {});
      expect(config.deployments).toHaveLength(1);
      expect(config.groups.get('fake-openai-endpoint')?.[0]?.provider).toBe('aiohttp_openai');
    }
    const aiohttp = loadConfig(fixture('seed-aiohttp.yaml'), {}).deployments[0]!;
    // api_base is already the full endpoint URL: chat goes there, embeddings beside it.
    const target = (endpoint: 'chat' | 'embeddings') =>
      requestOf(aiohttp.adapter.openai, input(endpoint, { model: 'x', messages: [], input: 'x' })).target;
    expect(target('chat')).toEqual({
      origin: 'https://your-fake-openai-endpoint.com',
      path: '/chat/completions',
    });
    expect(target('embeddings').path).toBe('/embeddings');
  });

  it('parses the Vertex AI config and names the credentials file it cannot read, per deployment', () => {
    let error: unknown;
    try {
      loadConfig(fixture('seed-gemini-vision.yaml'), {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error as ConfigError).lines;
    expect(lines).toEqual([
      expect.stringMatching(
        /seed-gemini-vision\.yaml:8 model_list\[0\]\.litellm_params\.vertex_credentials: cannot read the credentials file \/etc\/secrets\/adroit_crow\.json \(ENOENT\) \(deployment of gemini-vision\)$/,
      ),
      expect.stringMatching(/:15 model_list\[1\]\.litellm_params\.vertex_credentials: cannot read/),
    ]);
  });

  it('loads the Vertex AI config once its credentials file exists: two deployments, one token source', () => {
    const file = serviceAccountFile('https://oauth2.example/token');
    const text = readFileSync(fixture('seed-gemini-vision.yaml'), 'utf8').replaceAll(
      '/etc/secrets/adroit_crow.json',
      file,
    );
    const config = parseConfig('seed.yaml', text, {});
    expect(config.deployments.map((d) => d.provider)).toEqual(['vertex_ai', 'vertex_ai']);
    const d = config.deployments[0]!;
    expect(d.apiBaseLabel).toBe(
      'https://exampleopenaiendpoint-production.up.railway.app/v1/projects/bad-adroit-crow-413218/locations/us-central1/publishers/google/models/gemini-1.0-pro-vision-001',
    );
    expect(d.publicParams['vertex_credentials']).toBeUndefined();
  });
});

describe('config errors name file:line path', () => {
  it('a missing file', () => {
    expect(() => loadConfig('/nonexistent/config.yaml', {})).toThrow(
      '/nonexistent/config.yaml: cannot read the config file (ENOENT)',
    );
  });

  it('invalid YAML', () => {
    expect(problems('model_list:\n  - model_name: [unclosed\n')).toEqual([
      expect.stringMatching(/^config\.yaml:\d+: not valid YAML/),
    ]);
  });

  it('a missing os.environ variable names itself', () => {
    expect(problems(minimal('model: openai/gpt-4o\napi_key: os.environ/OPENAI_KEY_THAT_IS_NOT_SET'))).toEqual(
      [
        'config.yaml:5 model_list[0].litellm_params.api_key: environment variable OPENAI_KEY_THAT_IS_NOT_SET is not set',
      ],
    );
  });

  it('every unset os.environ variable Fleetgate reads is named at once, typed keys included', () => {
    expect(
      problems(
        `${minimal('model: openai/gpt-4o\nrpm: os.environ/RPM_NOT_SET\napi_key: os.environ/KEY_NOT_SET')}router_settings:\n  redis_port: os.environ/PORT_NOT_SET\n`,
      ),
    ).toEqual([
      'config.yaml:5 model_list[0].litellm_params.rpm: environment variable RPM_NOT_SET is not set',
      'config.yaml:6 model_list[0].litellm_params.api_key: environment variable KEY_NOT_SET is not set',
      'config.yaml:8 router_settings.redis_port: environment variable PORT_NOT_SET is not set',
    ]);
  });

  it('a variable set to the empty string is a value, as in LiteLLM (a Redis without a password)', () => {
    const config = parseConfig(
      'c.yaml',
      `${minimal('model: openai/gpt-4o')}router_settings:\n  redis_host: localhost\n  redis_password: os.environ/REDIS_PASSWORD\n`,
      { REDIS_PASSWORD: '' },
    );
    expect(config.redis).toEqual({ kind: 'host', host: 'localhost', port: 6379, password: undefined });
  });

  it("an unset os.environ variable in a key Fleetgate ignores is a warning, not an error (LiteLLM's CI config)", () => {
    const text = `${minimal('model: openai/gpt-4o')}litellm_settings:
  default_team_settings:
    - team_id: team-1
      langfuse_secret: os.environ/LANGFUSE_PROJECT1_SECRET
finetune_settings:
  - custom_llm_provider: azure
    api_key: os.environ/AZURE_API_KEY
files_settings:
  - api_key: os.environ/AZURE_API_KEY
`;
    const config = parseConfig('config.yaml', text, {});
    expect(config.deployments).toHaveLength(1);
    const warning = config.warnings.find((w) => w.includes('unset variables'));
    expect(warning).toContain(
      'LANGFUSE_PROJECT1_SECRET (litellm_settings.default_team_settings[0].langfuse_secret)',
    );
    expect(warning).toContain('AZURE_API_KEY (finetune_settings[0].api_key)');
    expect(warning).toContain('AZURE_API_KEY (files_settings[0].api_key)');
  });

  it('a bad rpm', () => {
    expect(problems(minimal('model: openai/gpt-4o\nrpm: lots'))).toEqual([
      'config.yaml:5 model_list[0].litellm_params.rpm: must be a number',
    ]);
    expect(problems(minimal('model: openai/gpt-4o\nrpm: -3'))).toEqual([
      'config.yaml:5 model_list[0].litellm_params.rpm: must be 1 or more',
    ]);
    expect(problems(minimal('model: openai/gpt-4o\nrpm: 2.5'))).toEqual([
      'config.yaml:5 model_list[0].litellm_params.rpm: must be a whole number',
    ]);
  });

  it('a bad api_base', () => {
    expect(problems(minimal('model: openai/gpt-4o\napi_base: localhost:8000'))).toEqual([
      'config.yaml:5 model_list[0].litellm_params.api_base: must be an http:// or https:// URL',
    ]);
  });

  it('a missing model', () => {
    expect(problems(minimal('api_key: x'))).toEqual([
      expect.stringMatching(/^config\.yaml:4 model_list\[0\]\.litellm_params\.model: /),
    ]);
  });

  it('an unknown provider, and one that needs an api_base', () => {
    expect(problems(minimal('model: nosuch/model'))).toEqual([
      expect.stringMatching(/litellm_params\.model: unknown provider "nosuch"/),
    ]);
    expect(problems(minimal('model: hosted_vllm/llama'))).toEqual([
      'config.yaml:4 model_list[0].litellm_params.api_base: provider "hosted_vllm" needs an api_base',
    ]);
  });

  it('an unknown routing strategy', () => {
    expect(
      problems(`${minimal('model: openai/gpt-4o')}router_settings:\n  routing_strategy: fastest\n`),
    ).toEqual([
      expect.stringMatching(
        /^config\.yaml:6 router_settings\.routing_strategy: must be one of simple-shuffle/,
      ),
    ]);
  });

  it('an alias or fallback to a group that does not exist', () => {
    const text = `${minimal('model: openai/gpt-4o')}router_settings:\n  model_group_alias:\n    gpt4: gpt-4\n  fallbacks:\n    - m: [nope]\n`;
    expect(problems(text)).toEqual([
      'config.yaml:7 router_settings.model_group_alias.gpt4: unknown model group "gpt-4"',
      'config.yaml:9 router_settings.fallbacks[0].m: unknown model group "nope"',
    ]);
  });

  it('two deployments with the same id', () => {
    const text = `model_list:
  - model_name: a
    litellm_params: { model: openai/x }
    model_info: { id: same }
  - model_name: b
    litellm_params: { model: openai/y }
    model_info: { id: same }
`;
    expect(problems(text)).toEqual([
      expect.stringMatching(/^config\.yaml:5 model_list\[1\]: deployment id "same" is used twice/),
    ]);
  });

  it('a bad REDIS_URL', () => {
    expect(problems(minimal('model: openai/gpt-4o'), { REDIS_URL: 'http://user:secret@redis:6379' })).toEqual(
      [expect.stringContaining('REDIS_URL must start with redis:// or rediss://, got "redis:6379"')],
    );
  });
});

describe('config values', () => {
  it('resolves os.environ anywhere, including environment_variables of the file itself', () => {
    const text = `environment_variables:\n  BASE: http://upstream:8000/v1\n${minimal('model: openai/gpt-4o\napi_base: os.environ/BASE\napi_key: os.environ/KEY\nrpm: os.environ/RPM')}`;
    const config = parseConfig('c.yaml', text, { KEY: 'sk-up', RPM: '600' });
    const d = config.deployments[0]!;
    const call = requestOf(d.adapter.openai, input('chat', { model: 'm', messages: [] }));
    expect(call.target).toEqual({
      origin: 'http://upstream:8000',
      path: '/v1/chat/completions',
    });
    expect(call.headers['authorization']).toBe('Bearer sk-up');
    expect(d.rpm).toBe(600);
  });

  it('names the deployments nobody is charged for', () => {
    const config = parseConfig('c.yaml', minimal('model: openai/gpt-4o'), {});
    expect(config.warnings).toEqual([expect.stringMatching(/^deployments without prices .*: m$/)]);
  });

  it('names the keys it does not act on in one warning', () => {
    const config = parseConfig(
      'c.yaml',
      `${minimal('model: openai/gpt-4o\nvertex_project: p\nmax_retries: 3\ninput_cost_per_token: 0')}litellm_settings:\n  drop_params: true\n  callbacks: ["prometheus", "langfuse"]\nsurprise: 1\n`,
      {},
    );
    expect(config.warnings).toHaveLength(1);
    expect(config.warnings[0]).toMatch(/^config keys Fleetgate does not act on \(accepted, ignored\): /);
    for (const key of [
      'model_list[*].litellm_params.vertex_project',
      'model_list[*].litellm_params.max_retries',
      'litellm_settings.drop_params',
      'surprise',
      'litellm_settings.callbacks: langfuse',
    ]) {
      expect(config.warnings[0]).toContain(key);
    }
    expect(config.warnings[0]).not.toContain('prometheus');
  });

  it('applies LiteLLM defaults', () => {
    const config = parseConfig('c.yaml', minimal('model: gpt-4o'), {});
    expect(config).toMatchObject({
      numRetries: 2,
      cooldownTimeMs: 5_000,
      allowedFails: undefined,
      disableCooldowns: false,
      maxRequestBytes: 10 * 1024 * 1024,
      masterKey: undefined,
      redis: undefined,
      routing: expect.objectContaining({ strategy: expect.objectContaining({ name: 'simple-shuffle' }) }),
    });
    expect(config.deployments[0]).toMatchObject({
      provider: 'openai',
      upstreamModel: 'gpt-4o',
      timeoutMs: 600_000,
    });
  });

  it("takes the master key and Redis from LiteLLM's settings or environment", () => {
    const text = `${minimal('model: openai/x')}general_settings:\n  master_key: sk-file\nrouter_settings:\n  redis_host: cache\n  redis_port: 6380\n  redis_password: pw\n`;
    const config = parseConfig('c.yaml', text, { LITELLM_MASTER_KEY: 'sk-env' });
    expect(config.masterKey).toBe('sk-file');
    expect(config.redis).toEqual({ kind: 'host', host: 'cache', port: 6380, password: 'pw' });
    const fromEnv = parseConfig('c.yaml', minimal('model: openai/x'), {
      LITELLM_MASTER_KEY: 'sk-env',
      REDIS_URL: 'redis://r:6379',
    });
    expect(fromEnv.masterKey).toBe('sk-env');
    expect(fromEnv.redis).toEqual({ kind: 'url', url: 'redis://r:6379', password: undefined });
    const withPassword = parseConfig('c.yaml', minimal('model: openai/x'), {
      REDIS_URL: 'redis://r:6379',
      REDIS_PASSWORD: 'pw',
    });
    expect(withPassword.redis).toEqual({ kind: 'url', url: 'redis://r:6379', password: 'pw' });
    const inUrl = parseConfig('c.yaml', minimal('model: openai/x'), {
      REDIS_URL: 'redis://:url-pw@r:6379',
      REDIS_PASSWORD: 'pw',
    });
    expect(inUrl.redis).toEqual({ kind: 'url', url: 'redis://:url-pw@r:6379', password: undefined });
    const sentinel = parseConfig('c.yaml', minimal('model: openai/x'), {
      REDIS_SENTINEL_NODES: 's1:26379,s2:26379',
      REDIS_SERVICE_NAME: 'main',
    });
    expect(sentinel.redis).toMatchObject({
      kind: 'sentinel',
      name: 'main',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
      ],
    });
  });

  it('keeps secrets out of /model/info data and metrics labels', () => {
    const d = parseConfig(
      'c.yaml',
      minimal('model: openai/x\napi_key: sk-secret\napi_base: https://user:pw@h.example/v1?key=q'),
      {},
    ).deployments[0]!;
    expect(JSON.stringify(d.publicParams)).not.toContain('sk-secret');
    expect(JSON.stringify(d.publicParams)).not.toContain('pw@');
    expect(d.apiBaseLabel).toBe('https://h.example/v1');
  });

  it('gives deployments ids every replica computes alike, or the configured one', () => {
    const text = minimal('model: openai/x\napi_key: k');
    expect(parseConfig('a.yaml', text, {}).deployments[0]!.id).toBe(
      parseConfig('b.yaml', text, {}).deployments[0]!.id,
    );
    expect(parseConfig('c.yaml', minimal('model: openai/x\napi_key: other'), {}).deployments[0]!.id).not.toBe(
      parseConfig('c.yaml', text, {}).deployments[0]!.id,
    );
    expect(parseConfig('c.yaml', `${text}    model_info:\n      id: 7\n`, {}).deployments[0]!.id).toBe('7');
  });

  it("reads the README's demo config", () => {
    const demo = fileURLToPath(new URL('../../../../demo/config.yaml', import.meta.url));
    const text = readFileSync(demo, 'utf8');
    expect(
      parseConfig(demo, text, { FAKE_LLM_URL: 'http://127.0.0.1:4001' }).deployments.length,
    ).toBeGreaterThan(0);
  });
});
