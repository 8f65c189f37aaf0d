import { type KeyObject, sign } from 'node:crypto';

/** The scope LiteLLM asks Vertex AI tokens for. */
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const base64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

/**
 * The RS256-signed JWT a service account presents to its token endpoint (Google's "OAuth 2.0 for
 * server to server applications"): issued by the account's email, for the cloud-platform scope,
 * addressed to the token endpoint, valid for an hour from `nowMs`.
 */
export function serviceAccountAssertion(
  account: { clientEmail: string; privateKey: KeyObject; privateKeyId: string | undefined; tokenUri: string },
  nowMs: number,
): string {
  const iat = Math.floor(nowMs / 1000);
  const header: Record<string, string> = { alg: 'RS256', typ: 'JWT' };
  if (account.privateKeyId) header['kid'] = account.privateKeyId;
  const claims = {
    iss: account.clientEmail,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: account.tokenUri,
    iat,
    exp: iat + 3600,
  };
  const unsigned = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = sign('sha256', Buffer.from(unsigned), account.privateKey);
  return `${unsigned}.${base64url(signature)}`;
}
