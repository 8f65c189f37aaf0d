import type { Dispatcher } from 'undici';
import type { GoogleCredentials } from './credentials.js';
import { serviceAccountAssertion } from './jwt.js';

/** A token this close to expiry is renewed in the background while it is still handed out. */
const EAGER_REFRESH_MS = 5 * 60_000;
/** A token this close to expiry is not used: requests wait for the new one. */
const EXPIRY_MARGIN_MS = 10_000;
/** After a background refresh failed, the next one waits this long (the token still works). */
const BACKGROUND_RETRY_MS = 5_000;
const EXCHANGE_TIMEOUT_MS = 10_000;

/** Why no token could be had: the endpoint refused (`refused`, an HTTP 4xx) or could not be asked. */
export class TokenExchangeError extends Error {
  constructor(
    readonly refused: boolean,
    message: string,
  ) {
    super(message);
    this.name = 'TokenExchangeError';
  }
}

interface AccessToken {
  readonly token: string;
  readonly expiresAt: number;
}

/**
 * Access tokens for one set of Google credentials. `token()` answers synchronously while the cached
 * token is good (no await on the request path); otherwise every caller waits on the same exchange —
 * one exchange however many requests arrive at once. A token within five minutes of expiry is
 * renewed in the background while it is still handed out; `invalidate` drops a token the upstream
 * refused (a 401), so the next caller fetches a new one.
 */
export class GoogleTokenSource {
  private current: AccessToken | undefined;
  private previous: string | undefined;
  private inflight: Promise<string> | undefined;
  private backgroundFailedAt = Number.NEGATIVE_INFINITY;
  /** Exchanges made, for tests and benchmarks. */
  exchanges = 0;

  constructor(private readonly credentials: GoogleCredentials) {}

  token(dispatcher: Dispatcher, now: number): string | Promise<string> {
    const t = this.current;
    if (t && now < t.expiresAt - EXPIRY_MARGIN_MS) {
      if (
        now >= t.expiresAt - EAGER_REFRESH_MS &&
        !this.inflight &&
        now - this.backgroundFailedAt > BACKGROUND_RETRY_MS
      ) {
        this.refresh(dispatcher, now).catch(() => {
          this.backgroundFailedAt = now;
        });
      }
      return t.token;
    }
    return this.inflight ?? this.refresh(dispatcher, now);
  }

  /** Drops `token` if it is still the cached one (a later token stays). */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  /** Tokens that may appear in upstream text, for scrubbing. */
  recent(): string[] {
    const out: string[] = [];
    if (this.current) out.push(this.current.token);
    if (this.previous) out.push(this.previous);
    return out;
  }

  private refresh(dispatcher: Dispatcher, now: number): Promise<string> {
    const flight = exchange(this.credentials, dispatcher, now).then(
      (t) => {
        this.exchanges++;
        if (this.current) this.previous = this.current.token;
        this.current = t;
        this.inflight = undefined;
        return t.token;
      },
      (error: unknown) => {
        this.exchanges++;
        this.inflight = undefined;
        throw error;
      },
    );
    this.inflight = flight;
    return flight;
  }
}

/** The token sources of one config, shared by every deployment with the same credentials. */
export class GoogleTokenCache {
  private readonly sources = new Map<string, GoogleTokenSource>();

  source(credentials: GoogleCredentials): GoogleTokenSource {
    let s = this.sources.get(credentials.cacheKey);
    if (!s) {
      s = new GoogleTokenSource(credentials);
      this.sources.set(credentials.cacheKey, s);
    }
    return s;
  }

  /** Exchanges made by every source so far. */
  exchanges(): number {
    let n = 0;
    for (const s of this.sources.values()) n += s.exchanges;
    return n;
  }
}

async function exchange(c: GoogleCredentials, dispatcher: Dispatcher, now: number): Promise<AccessToken> {
  let url: URL;
  let init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string };
  if (c.kind === 'metadata') {
    url = new URL(`http://${c.host}/computeMetadata/v1/instance/service-accounts/default/token`);
    init = { method: 'GET', headers: { 'metadata-flavor': 'Google' } };
  } else {
    url = new URL(c.tokenUri);
    const form: Record<string, string> =
      c.kind === 'service_account'
        ? {
            grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
            assertion: serviceAccountAssertion(c, now),
          }
        : {
            grant_type: 'refresh_token',
            client_id: c.clientId,
            client_secret: c.clientSecret,
            refresh_token: c.refreshToken,
          };
    init = {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    };
  }
  let status: number;
  let text: string;
  try {
    const res = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      ...init,
      headersTimeout: EXCHANGE_TIMEOUT_MS,
      bodyTimeout: EXCHANGE_TIMEOUT_MS,
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new TokenExchangeError(
      false,
      `the token endpoint ${url.origin} is unreachable${code ? ` (${code})` : ''}`,
    );
  }
  let json: { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } =
    {};
  try {
    json = JSON.parse(text);
  } catch {
    // Described below by status.
  }
  if (status !== 200 || typeof json.access_token !== 'string') {
    const reason = [json.error, json.error_description].filter((v) => typeof v === 'string').join(': ');
    throw new TokenExchangeError(
      status >= 400 && status < 500,
      `the token endpoint ${url.origin} answered ${status}${reason ? ` (${reason.slice(0, 200)})` : ''}`,
    );
  }
  const seconds = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : 3600;
  return { token: json.access_token, expiresAt: now + seconds * 1000 };
}
