import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFakeLlm, type FakeLlm } from '@fleetgate/fake-llm';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AdapterConfigError } from '../adapter-context.js';
import { readGoogleCredentials } from './credentials.js';
import { serviceAccountFile, testServiceAccount } from './service-account.test-support.js';
import { GoogleTokenCache, TokenExchangeError } from './token-cache.js';

let fake: FakeLlm;
let url: string;
const agent = new Agent();
const readFile = (path: string) => readFileSync(path, 'utf8');

beforeAll(async () => {
  fake = createFakeLlm({ oauthPublicKeys: [testServiceAccount('x').publicKey] });
  url = (await fake.listen()).url;
});
afterAll(async () => {
  await fake.close();
  await agent.close();
});
beforeEach(() => fake.reset());

const sourceFor = (tokenUri: string, cache = new GoogleTokenCache()) =>
  cache.source(readGoogleCredentials(serviceAccountFile(tokenUri), {}, readFile));

describe('Google access tokens', () => {
  it('exchange a signed JWT grant once however many requests wait for it, then answer synchronously', async () => {
    const source = sourceFor(`${url}/token`);
    const now = Date.now();
    const waits = Array.from({ length: 500 }, () => source.token(agent, now));
    expect(waits.every((w) => w instanceof Promise)).toBe(true);
    const tokens = await Promise.all(waits);
    expect(new Set(tokens).size).toBe(1);
    expect(fake.stats().oauth).toEqual({ exchanges: 1, issued: 1, refused: 0 });
    expect(source.exchanges).toBe(1);
    expect(source.token(agent, now + 1000)).toBe(tokens[0]);
  });

  it('renew shortly before expiry in the background, and wait only once a token is too old to use', async () => {
    // Tokens of 200 s are within five minutes of expiry from the start: each is renewed in the background.
    fake.configure({ tokenTtlS: 200 });
    const source = sourceFor(`${url}/token`);
    const first = await source.token(agent, Date.now());
    expect(source.token(agent, Date.now())).toBe(first);
    await expect.poll(() => source.exchanges).toBe(2);
    const second = source.token(agent, Date.now());
    expect(typeof second).toBe('string');
    expect(second).not.toBe(first);
    // Tokens of 5 s are too close to expiry to use: every caller waits for a fresh one.
    fake.configure({ tokenTtlS: 5 });
    const short = sourceFor(`${url}/token`);
    await short.token(agent, Date.now());
    const late = short.token(agent, Date.now());
    expect(late).toBeInstanceOf(Promise);
    await late;
    expect(short.exchanges).toBe(2);
    fake.configure({ tokenTtlS: 3600 });
  });

  it('drop a token the upstream refused, so the next caller fetches another; later tokens stay', async () => {
    const source = sourceFor(`${url}/token`);
    const now = Date.now();
    const first = await source.token(agent, now);
    source.invalidate('not-the-current-token');
    expect(source.token(agent, now)).toBe(first);
    source.invalidate(first);
    const next = source.token(agent, now);
    expect(next).toBeInstanceOf(Promise);
    expect(await next).not.toBe(first);
  });

  it('share one source between deployments with the same credentials', () => {
    const cache = new GoogleTokenCache();
    const file = serviceAccountFile(`${url}/token`);
    const a = cache.source(readGoogleCredentials(file, {}, readFile));
    const b = cache.source(readGoogleCredentials(file, {}, readFile));
    expect(a).toBe(b);
  });

  it('say whether the token endpoint refused the grant or could not be asked', async () => {
    const stranger = cacheWithStranger(`${url}/token`);
    const refused = await Promise.resolve(stranger.token(agent, Date.now())).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TokenExchangeError);
    expect((refused as TokenExchangeError).refused).toBe(true);
    expect((refused as Error).message).toContain('invalid_grant: Invalid JWT Signature.');
    const down = sourceFor('http://127.0.0.1:1/token');
    const unreachable = await Promise.resolve(down.token(agent, Date.now())).catch((e: unknown) => e);
    expect((unreachable as TokenExchangeError).refused).toBe(false);
  });

  it("come from the metadata server when no credentials are given (GCE_METADATA_HOST as Google's libraries read it)", async () => {
    const host = new URL(url).host;
    const credentials = readGoogleCredentials(undefined, { GCE_METADATA_HOST: host }, readFile);
    expect(credentials.kind).toBe('metadata');
    const token = await new GoogleTokenCache().source(credentials).token(agent, Date.now());
    expect(token).toMatch(/^ya29\./);
  });
});

/** A service account the fake does not know (another key pair). */
function cacheWithStranger(tokenUri: string) {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return new GoogleTokenCache().source(
    readGoogleCredentials(
      { ...testServiceAccount(tokenUri).json, private_key: privateKey, private_key_id: 'other' },
      {},
      readFile,
    ),
  );
}

describe('vertex_credentials', () => {
  const problem = (value: unknown, env: Record<string, string> = {}) => {
    try {
      readGoogleCredentials(value, env, readFile);
    } catch (error) {
      if (error instanceof AdapterConfigError) return `${error.param}: ${error.message}`;
      throw error;
    }
    return 'loaded';
  };

  it('take a path, the JSON itself, a mapping, or GOOGLE_APPLICATION_CREDENTIALS', () => {
    const file = serviceAccountFile('https://oauth2.googleapis.com/token');
    const json = testServiceAccount('https://oauth2.googleapis.com/token').json;
    expect(problem(file)).toBe('loaded');
    expect(problem(JSON.stringify(json))).toBe('loaded');
    expect(problem(json)).toBe('loaded');
    expect(problem(undefined, { GOOGLE_APPLICATION_CREDENTIALS: file })).toBe('loaded');
    expect(readGoogleCredentials(file, {}, readFile).projectId).toBe('test-project');
  });

  it('name what is wrong with a file, never what is in it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetgate-creds-'));
    const write = (name: string, text: string) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    expect(problem('/nonexistent/sa.json')).toBe(
      'vertex_credentials: cannot read the credentials file /nonexistent/sa.json (ENOENT)',
    );
    expect(problem(dir)).toBe(`vertex_credentials: cannot read the credentials file ${dir} (EISDIR)`);
    expect(problem(write('text.json', 'not json at all'))).toBe(
      `vertex_credentials: the credentials file ${join(dir, 'text.json')} is not JSON`,
    );
    const noKey = write('nokey.json', JSON.stringify({ type: 'service_account', client_email: 'a@b' }));
    expect(problem(noKey)).toBe(`vertex_credentials: the credentials file ${noKey} has no private_key`);
    const badKey = write(
      'badkey.json',
      JSON.stringify({ type: 'service_account', client_email: 'a@b', private_key: 'SECRET-NOT-A-KEY' }),
    );
    const message = problem(badKey);
    expect(message).toBe(
      `vertex_credentials: the private_key in the credentials file ${badKey} is not a PEM private key`,
    );
    expect(message).not.toContain('SECRET-NOT-A-KEY');
    expect(problem('{"type":"external_account"}')).toMatch(
      /external_account.*service_account and authorized_user/,
    );
    expect(problem(undefined, { GOOGLE_APPLICATION_CREDENTIALS: '/nope.json' })).toBe(
      'vertex_credentials: cannot read the credentials file /nope.json (ENOENT)',
    );
  });
});
