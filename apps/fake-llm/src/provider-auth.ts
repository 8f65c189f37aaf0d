import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { OAuthIssuer } from './oauth.js';

/** A request refused for its credentials, before quotas count it (providers check auth first). */
export interface AuthRefusal {
  status: number;
  message: string;
  code: string | null;
  headers?: OutgoingHttpHeaders;
}

/** What a credential check sees. */
export interface AuthInput {
  path: string;
  query: string;
  headers: IncomingHttpHeaders;
  oauth: OAuthIssuer;
  now: number;
}

export type AuthCheck = (input: AuthInput) => AuthRefusal | undefined;

/**
 * Vertex AI: once the fake has service-account keys (`oauthPublicKeys`), a bearer token it issued
 * and that has not expired. Google AI Studio calls (an `x-goog-api-key`) pass.
 */
export const vertexAuth: AuthCheck = ({ headers, oauth, now }) => {
  if (!oauth.enabled || headers['x-goog-api-key']) return undefined;
  if (oauth.accepts(headers.authorization, now)) return undefined;
  return {
    status: 401,
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
    code: null,
  };
};

/** Azure OpenAI paths (`/openai/deployments/<name>/…`): an `api-version` query and an `api-key` (or bearer) header. */
export const azureAuth: AuthCheck = ({ path, query, headers }) => {
  if (!path.includes('/openai/deployments/')) return undefined;
  if (!new URLSearchParams(query).has('api-version'))
    return { status: 404, message: 'Resource not found', code: '404' };
  if (headers['api-key'] || headers.authorization) return undefined;
  return {
    status: 401,
    message:
      'Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.',
    code: '401',
  };
};

/** Anthropic: an `x-api-key` (or bearer) header. */
export const anthropicAuth: AuthCheck = ({ headers }) =>
  headers['x-api-key'] || headers.authorization
    ? undefined
    : { status: 401, message: 'x-api-key header is required', code: null };

const SIGV4 =
  /^AWS4-HMAC-SHA256 Credential=[^/\s]+\/\d{8}\/[a-z0-9-]+\/bedrock\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=[0-9a-f]{64}$/;

/**
 * Bedrock: a SigV4 `authorization` for the bedrock service whose signed headers include host and
 * x-amz-date, with an `x-amz-date` header — present and well formed (the signature itself is not
 * checked) — or a Bedrock API key as a bearer.
 */
export const bedrockAuth: AuthCheck = ({ headers }) => {
  const auth = headers.authorization ?? '';
  if (auth.startsWith('Bearer ') && auth.length > 7) return undefined;
  const signed = SIGV4.exec(auth)?.[1]?.split(';') ?? [];
  const date = headers['x-amz-date'];
  if (
    signed.includes('host') &&
    signed.includes('x-amz-date') &&
    typeof date === 'string' &&
    /^\d{8}T\d{6}Z$/.test(date)
  ) {
    return undefined;
  }
  return {
    status: 403,
    message: 'Missing Authentication Token',
    code: null,
    headers: {
      'x-amzn-errortype':
        'MissingAuthenticationTokenException:http://internal.amazon.com/coral/com.amazon.coral.service/',
    },
  };
};

/** The metadata server answers only requests that carry `Metadata-Flavor: Google`. */
export const metadataAuth: AuthCheck = ({ headers }) =>
  headers['metadata-flavor'] === 'Google'
    ? undefined
    : { status: 403, message: 'Missing Metadata-Flavor:Google header.', code: null };
