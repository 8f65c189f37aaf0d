import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';
import {
  type FakeLlmProc,
  type GatewayProc,
  killAll,
  startFakeLlm,
  startGateway,
} from '../support/processes.js';
import { writeServiceAccount } from '../support/service-account.js';

/**
 * One gateway process with a deployment of each translated provider, all pointed at one fake
 * upstream that speaks each provider's API, driven by the `openai` SDK: the client sees OpenAI's
 * shapes, the fake sees each provider's.
 */
let fake: FakeLlmProc;
let gateway: GatewayProc;
let client: OpenAI;

beforeAll(async () => {
  const port = await freePort();
  const credentials = writeServiceAccount(`http://127.0.0.1:${port}/token`);
  fake = await startFakeLlm(['--port', String(port), '--oauth-key', credentials, '--completion-tokens', '4']);
  const f = fake.url;
  gateway = await startGateway({
    config: `
model_list:
  - model_name: azure-gpt
    litellm_params: { model: azure/gpt-4o-prod, api_base: "${f}/azure", api_key: azure-e2e-key, api_version: "2024-10-21" }
  - model_name: azure-embed
    litellm_params: { model: azure/embed-prod, api_base: "${f}/azure", api_key: azure-e2e-key, api_version: "2024-10-21" }
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "${f}/anthropic", api_key: sk-ant-e2e-key }
  - model_name: bedrock-claude
    litellm_params:
      model: bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0
      aws_bedrock_runtime_endpoint: "${f}/bedrock"
      aws_access_key_id: AKIDE2E
      aws_secret_access_key: e2e-secret-access-key
      aws_region_name: us-east-1
  - model_name: gemini-flash
    litellm_params: { model: gemini/gemini-2.0-flash, api_base: "${f}/studio/v1beta", api_key: AIza-e2e-key }
  - model_name: vertex-embed
    litellm_params:
      model: vertex_ai/text-embedding-005
      vertex_project: p
      vertex_location: us-central1
      vertex_credentials: ${credentials}
      api_base: "${f}/embed/v1/projects/p/locations/us-central1/publishers/google/models/text-embedding-005"
  - model_name: vertex-claude
    litellm_params:
      model: vertex_ai/claude-3-5-sonnet-v2@20241022
      vertex_project: p
      vertex_location: us-east5
      vertex_credentials: ${credentials}
      api_base: "${f}/vc/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022"
  - model_name: instruct
    litellm_params: { model: text-completion-openai/gpt-3.5-turbo-instruct, api_base: "${f}/instruct/v1", api_key: sk-instruct-key }
general_settings:
  master_key: sk-e2e
`,
  });
  client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-e2e', maxRetries: 0 });
});

afterAll(async () => {
  await killAll();
});

beforeEach(async () => {
  await fake.reset();
});

const ask = (model: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({
    model,
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello there' },
    ],
    ...extra,
  });

async function streamText(
  model: string,
): Promise<{ text: string; usage: OpenAI.CompletionUsage | null | undefined }> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'Count' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage };
}

describe('each provider through the openai SDK', () => {
  for (const model of ['azure-gpt', 'claude', 'bedrock-claude', 'gemini-flash', 'vertex-claude']) {
    it(`${model}: a chat and a stream in OpenAI's shapes, with the provider's usage`, async () => {
      const r = await ask(model);
      expect(r.object).toBe('chat.completion');
      expect(r.choices[0]?.message.content).toBe('lorem ipsum dolor sit');
      expect(r.usage?.completion_tokens).toBe(4);
      // The fake counts ceil(chars / 4) of system + messages: "Be brief." + "Hello there" = 20 chars.
      expect(r.usage?.prompt_tokens).toBe(5);
      const s = await streamText(model);
      expect(s.text).toBe('lorem ipsum dolor sit');
      expect(s.usage?.completion_tokens).toBe(4);
    });
  }

  it('Claude on Vertex AI: Messages at :rawPredict with a Google token, the model in the path, anthropic_version in the body', async () => {
    await ask('vertex-claude');
    const sent = (await fake.stats()).last.at(-1)!;
    expect(sent.path).toBe(
      '/vc/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-sonnet-v2@20241022:rawPredict',
    );
    expect(sent.headers['authorization']).toMatch(/^Bearer /);
    expect(sent.headers['x-api-key']).toBeUndefined();
    expect(sent.body).toMatchObject({
      anthropic_version: 'vertex-2023-10-16',
      system: [{ type: 'text', text: 'Be brief.' }],
    });
    expect(sent.body).not.toHaveProperty('model');
    await streamText('vertex-claude');
    expect((await fake.stats()).last.at(-1)!.path).toMatch(/:streamRawPredict$/);
  });

  it('text-completion-openai: chat goes to /completions as LiteLLM sends it, and comes back as chat', async () => {
    const r = await ask('instruct', { max_completion_tokens: 20 });
    expect(r.object).toBe('chat.completion');
    expect(r.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'lorem ipsum dolor sit' });
    expect(r.usage?.completion_tokens).toBe(4);
    const sent = (await fake.stats()).last.at(-1)!;
    expect(sent.path).toBe('/instruct/v1/completions');
    expect(sent.headers['authorization']).toBe('Bearer sk-instruct-key');
    // Several messages: one prompt each, as LiteLLM's _transform_prompt builds them.
    expect(sent.body).toEqual({
      model: 'gpt-3.5-turbo-instruct',
      prompt: ['Be brief.', 'Hello there'],
      max_tokens: 20,
    });
    const s = await streamText('instruct');
    expect(s.text).toBe('lorem ipsum dolor sit');
    expect(s.usage?.completion_tokens).toBe(4);
    expect((await fake.stats()).last.at(-1)!.body).toMatchObject({ prompt: 'Count', stream: true });
    // /completions itself passes through.
    const c = await client.completions.create({ model: 'instruct', prompt: 'Say hi' });
    expect(c.choices[0]?.text).toBe('lorem ipsum dolor sit');
    // An image cannot be a prompt: a 400 naming the content, nothing sent.
    const before = (await fake.stats()).requests;
    await expect(
      client.chat.completions.create({
        model: 'instruct',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://x/y.png' } }] }],
      }),
    ).rejects.toMatchObject({ status: 400 });
    expect((await fake.stats()).requests).toBe(before);
  });

  it('Azure: the deployment path, the api-version and the api-key, as Azure wants them', async () => {
    await ask('azure-gpt');
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.path).toBe('/azure/openai/deployments/gpt-4o-prod/chat/completions');
    expect(seen.query).toBe('api-version=2024-10-21');
    expect(seen.headers['api-key']).toBe('azure-e2e-key');
    expect(seen.headers['authorization']).toBeUndefined();
  });

  it('Anthropic: Messages with system blocks, x-api-key and anthropic-version', async () => {
    await ask('claude', { max_tokens: 50 });
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.path).toBe('/anthropic/v1/messages');
    expect(seen.headers['x-api-key']).toBe('sk-ant-e2e-key');
    expect(seen.headers['anthropic-version']).toBe('2023-06-01');
    expect(seen.body).toEqual({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }],
    });
  });

  it('Bedrock: Converse signed with SigV4, the model id encoded in the path', async () => {
    await ask('bedrock-claude');
    const seen = (await fake.stats()).last.at(-1)!;
    expect(seen.path).toBe('/bedrock/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse');
    expect(seen.headers['authorization']).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDE2E\/\d{8}\/us-east-1\/bedrock\/aws4_request, /,
    );
    expect(seen.body).toMatchObject({
      system: [{ text: 'Be brief.' }],
      messages: [{ role: 'user', content: [{ text: 'Hello there' }] }],
    });
  });

  it('Vertex AI and Azure embeddings, base64 as the SDK asks for by default', async () => {
    const vertex = await client.embeddings.create({
      model: 'vertex-embed',
      input: ['abcdefgh', 'x'],
      dimensions: 4,
    });
    expect(vertex.data.map((d) => d.embedding.length)).toEqual([4, 4]);
    expect(vertex.usage.prompt_tokens).toBe(3);
    const azure = await client.embeddings.create({ model: 'azure-embed', input: 'hello' });
    expect(azure.data[0]?.embedding.length).toBe(8);
    const seen = (await fake.stats()).last;
    expect(seen.some((r) => r.path.endsWith('text-embedding-005:predict'))).toBe(true);
  });

  for (const model of ['claude', 'gemini-flash', 'bedrock-claude']) {
    it(`${model}: /completions through chat, as LiteLLM's text_completion serves it`, async () => {
      const c = await client.completions.create({ model, prompt: 'Say hi', max_tokens: 10 });
      expect(c.object).toBe('text_completion');
      expect(c.choices[0]?.text).toBe('lorem ipsum dolor sit');
      expect(c.usage?.completion_tokens).toBe(4);
      const stream = await client.completions.create({
        model,
        prompt: ['Say hi'],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('text_completion');
        text += chunk.choices[0]?.text ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('lorem ipsum dolor sit');
      expect(usage?.completion_tokens).toBe(4);
    });
  }

  it('/completions through chat takes one prompt: several are a 400 naming prompt, nothing sent', async () => {
    const before = (await fake.stats()).requests;
    await expect(client.completions.create({ model: 'claude', prompt: ['a', 'b'] })).rejects.toMatchObject({
      status: 400,
      param: 'prompt',
    });
    expect((await fake.stats()).requests).toBe(before);
  });

  it('a provider that cannot serve the endpoint is a 400, not a 500', async () => {
    const error = await client.embeddings.create({ model: 'claude', input: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as Error).message).toMatch(/anthropic, which does not serve this endpoint/);
  });

  it('an image Gemini refuses is a 400 naming the field; nothing reaches the provider', async () => {
    const error = await ask('gemini-flash', {
      messages: [
        { role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,Qk0=' } }] },
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const e = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(e.param).toBe('messages[0].content[0].image_url');
    expect((await fake.stats()).requests).toBe(0);
  });

  it("provider errors reach the client mapped as LiteLLM maps them: Bedrock's ThrottlingException is a 429", async () => {
    await fake.control({ prefix: '/bedrock', failRate: 1, failStatus: 429 });
    try {
      const error = await ask('bedrock-claude').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      expect((error as Error).message).toMatch(/BedrockException/);
    } finally {
      await fake.control({ prefix: '/bedrock', clear: true });
    }
  });
});
