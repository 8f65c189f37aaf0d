import { createHash, createPrivateKey, type KeyObject } from 'node:crypto';
import { AdapterConfigError } from '../adapter-context.js';

/** Google's default token endpoint, used when credentials name none. */
export const GOOGLE_TOKEN_URI = 'https://oauth2.googleapis.com/token';

/** How a deployment gets Google access tokens. */
export type GoogleCredentials =
  | {
      readonly kind: 'service_account';
      readonly clientEmail: string;
      readonly privateKey: KeyObject;
      readonly privateKeyId: string | undefined;
      readonly tokenUri: string;
      readonly projectId: string | undefined;
      /** Identifies the credentials for the token cache (never the key itself). */
      readonly cacheKey: string;
    }
  | {
      readonly kind: 'authorized_user';
      readonly clientId: string;
      readonly clientSecret: string;
      readonly refreshToken: string;
      readonly tokenUri: string;
      readonly projectId: string | undefined;
      readonly cacheKey: string;
    }
  | {
      /** No credentials given: the metadata server of the machine (GKE workload identity, GCE). */
      readonly kind: 'metadata';
      readonly host: string;
      readonly projectId: undefined;
      readonly cacheKey: string;
    };

/**
 * Reads `vertex_credentials` the three ways LiteLLM takes it — a path to a JSON key file, the JSON
 * itself as a string (often through `os.environ/…`), or a mapping in the YAML — else the file that
 * GOOGLE_APPLICATION_CREDENTIALS names, else the metadata server. A file that is missing, unreadable,
 * not JSON or without a private key is an AdapterConfigError on `vertex_credentials`; the message
 * names the file, never its contents.
 */
export function readGoogleCredentials(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): GoogleCredentials {
  const fromEnv = value === undefined || value === null || value === '';
  const given = fromEnv ? env['GOOGLE_APPLICATION_CREDENTIALS'] : value;
  if (given === undefined || given === '') {
    const host = env['GCE_METADATA_HOST'] || env['GCE_METADATA_IP'] || 'metadata.google.internal';
    return { kind: 'metadata', host, projectId: undefined, cacheKey: `metadata:${host}` };
  }
  const where = fromEnv ? `GOOGLE_APPLICATION_CREDENTIALS file ${given}` : undefined;
  let json: unknown;
  if (typeof given === 'object') json = given;
  else if (typeof given === 'string' && given.trim().startsWith('{'))
    json = parseJson(given, 'the JSON given');
  else if (typeof given === 'string') {
    let text: string;
    try {
      text = readFile(given);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new AdapterConfigError(
        'vertex_credentials',
        `cannot read the credentials file ${given} (${code})`,
      );
    }
    json = parseJson(text, where ?? `the credentials file ${given}`);
  } else
    throw new AdapterConfigError('vertex_credentials', 'must be a file path, a JSON string or a mapping');
  return fromJson(
    json,
    where ??
      (typeof given === 'string' && !given.trim().startsWith('{')
        ? `the credentials file ${given}`
        : 'the credentials'),
  );
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new AdapterConfigError('vertex_credentials', `${what} is not JSON`);
  }
}

function fromJson(json: unknown, what: string): GoogleCredentials {
  const o = (json ?? {}) as Record<string, unknown>;
  const str = (k: string) => (typeof o[k] === 'string' && o[k] !== '' ? (o[k] as string) : undefined);
  const projectId = str('project_id') ?? str('quota_project_id');
  if (o['type'] === 'authorized_user') {
    const clientId = str('client_id');
    const clientSecret = str('client_secret');
    const refreshToken = str('refresh_token');
    if (!clientId || !clientSecret || !refreshToken) {
      throw new AdapterConfigError(
        'vertex_credentials',
        `${what} (authorized_user) needs client_id, client_secret and refresh_token`,
      );
    }
    const digest = createHash('sha256').update(refreshToken).digest('hex').slice(0, 16);
    return {
      kind: 'authorized_user',
      clientId,
      clientSecret,
      refreshToken,
      tokenUri: str('token_uri') ?? GOOGLE_TOKEN_URI,
      projectId,
      cacheKey: `user:${clientId}:${digest}`,
    };
  }
  if (o['type'] !== undefined && o['type'] !== 'service_account') {
    throw new AdapterConfigError(
      'vertex_credentials',
      `${what} is of type ${JSON.stringify(o['type'])}; Fleetgate takes service_account and authorized_user credentials`,
    );
  }
  const pem = str('private_key');
  const clientEmail = str('client_email');
  if (!pem) throw new AdapterConfigError('vertex_credentials', `${what} has no private_key`);
  if (!clientEmail) throw new AdapterConfigError('vertex_credentials', `${what} has no client_email`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new AdapterConfigError('vertex_credentials', `the private_key in ${what} is not a PEM private key`);
  }
  const tokenUri = str('token_uri') ?? GOOGLE_TOKEN_URI;
  if (!URL.canParse(tokenUri) || !/^https?:/.test(tokenUri)) {
    throw new AdapterConfigError('vertex_credentials', `the token_uri in ${what} is not an http(s) URL`);
  }
  const privateKeyId = str('private_key_id');
  return {
    kind: 'service_account',
    clientEmail,
    privateKey,
    privateKeyId,
    tokenUri,
    projectId,
    cacheKey: `sa:${clientEmail}:${privateKeyId ?? ''}:${tokenUri}`,
  };
}
