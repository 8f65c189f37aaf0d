import { createPublicKey, type KeyObject, randomBytes, verify } from 'node:crypto';
import { RequestError } from './errors.js';

/** The grant type a service account's JWT is exchanged with (RFC 7523). */
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Token exchange counts, for `/__stats`. */
export interface OAuthStats {
  /** Token requests that reached the endpoint (granted or refused). */
  exchanges: number;
  /** Tokens issued. */
  issued: number;
  /** Grants refused (bad signature, audience, times, grant type). */
  refused: number;
}

/**
 * Google's OAuth token endpoint, as far as a gateway sees it: a service account's RS256 JWT grant
 * is checked against the public keys it was given (signature, audience = this endpoint, issued and
 * expiring within the hour, cloud-platform scope) and answered with a bearer token that the
 * Vertex-shaped routes then require. Refusals answer as Google does (`invalid_grant`, 400).
 */
export class OAuthIssuer {
  private keys: KeyObject[] = [];
  private tokens = new Map<string, number>();
  ttlMs: number;
  stats: OAuthStats = { exchanges: 0, issued: 0, refused: 0 };

  constructor(publicKeys: readonly string[], ttlMs: number) {
    this.setKeys(publicKeys);
    this.ttlMs = ttlMs;
  }

  /** Whether Vertex-shaped routes require a token (some key was given). */
  get enabled(): boolean {
    return this.keys.length > 0;
  }

  setKeys(pems: readonly string[]): void {
    this.keys = pems.map((pem) => createPublicKey(pem));
  }

  /** Forgets every token issued: the next call with one is a 401. */
  revoke(): void {
    this.tokens.clear();
  }

  resetStats(): void {
    this.stats = { exchanges: 0, issued: 0, refused: 0 };
  }

  /** Answers a token request (form fields parsed); throws an OAuth-shaped RequestError when refused. */
  grant(form: Record<string, string>, path: string, now: number): string {
    this.stats.exchanges++;
    try {
      this.verify(form, path, now);
    } catch (error) {
      this.stats.refused++;
      throw error;
    }
    const token = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, now + this.ttlMs);
    this.stats.issued++;
    return JSON.stringify({
      access_token: token,
      expires_in: Math.round(this.ttlMs / 1000),
      token_type: 'Bearer',
    });
  }

  /** Issues a token without a grant (the metadata server's answer). */
  metadataToken(now: number): string {
    this.stats.exchanges++;
    const token = `ya29.fake-md-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, now + this.ttlMs);
    this.stats.issued++;
    return JSON.stringify({
      access_token: token,
      expires_in: Math.round(this.ttlMs / 1000),
      token_type: 'Bearer',
    });
  }

  /** True when `authorization` carries a token this issuer gave out and that has not expired. */
  accepts(authorization: string | undefined, now: number): boolean {
    if (!authorization?.startsWith('Bearer ')) return false;
    const expiresAt = this.tokens.get(authorization.slice(7));
    return expiresAt !== undefined && expiresAt > now;
  }

  private verify(form: Record<string, string>, path: string, now: number): void {
    if (form['grant_type'] !== JWT_BEARER) {
      throw refusal('unsupported_grant_type', `Invalid grant_type: ${form['grant_type'] ?? ''}`);
    }
    const parts = (form['assertion'] ?? '').split('.');
    if (parts.length !== 3) throw refusal('invalid_grant', 'Invalid JWT: not a JWT.');
    const [head, body, signature] = parts as [string, string, string];
    let header: { alg?: string };
    let claims: { iss?: string; aud?: string; scope?: string; iat?: number; exp?: number };
    try {
      header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8'));
      claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw refusal('invalid_grant', 'Invalid JWT: not JSON.');
    }
    if (header.alg !== 'RS256') throw refusal('invalid_grant', 'Invalid JWT: alg must be RS256.');
    const signed = Buffer.from(`${head}.${body}`);
    const sig = Buffer.from(signature, 'base64url');
    if (!this.keys.some((key) => verify('sha256', signed, key, sig))) {
      throw refusal('invalid_grant', 'Invalid JWT Signature.');
    }
    if (
      typeof claims.aud !== 'string' ||
      !URL.canParse(claims.aud) ||
      new URL(claims.aud).pathname !== path
    ) {
      throw refusal('invalid_grant', 'Invalid JWT: Failed audience check.');
    }
    const seconds = now / 1000;
    const { iat, exp } = claims;
    if (
      typeof iat !== 'number' ||
      typeof exp !== 'number' ||
      iat > seconds + 60 ||
      exp <= seconds ||
      exp - iat > 3600
    ) {
      throw refusal(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    if (!claims.iss || !claims.scope?.split(' ').includes(SCOPE)) {
      throw refusal('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
  }
}

function refusal(error: string, description: string): RequestError {
  return new RequestError(400, description, error);
}
