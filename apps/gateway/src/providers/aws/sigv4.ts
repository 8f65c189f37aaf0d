import { createHash, createHmac } from 'node:crypto';

/** AWS credentials: a key pair, and the session token of temporary credentials. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** What is signed: the request exactly as it will be sent. */
export interface SignableRequest {
  readonly method: string;
  /** The Host header as sent: `host` or `host:port` for a non-default port. */
  readonly host: string;
  /** The path as sent (already percent-encoded), without the query. */
  readonly path: string;
  /** The query string as sent, without `?` ('' for none). */
  readonly query: string;
  /** Headers to sign besides host and x-amz-date; names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
}

const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: unreserved characters stay, everything else is %XX (upper case). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** `20150830T123600Z` and `20150830` for a time in ms. */
export function amzDate(nowMs: number): { stamp: string; day: string } {
  const stamp = new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  return { stamp, day: stamp.slice(0, 8) };
}

/**
 * Signs a request with AWS Signature Version 4 (docs.aws.amazon.com, "Create a signed AWS API
 * request") and returns the headers to add: `x-amz-date`, `authorization` and, for temporary
 * credentials, `x-amz-security-token`. The path is encoded once more for the canonical request, as
 * every service but S3 expects (a model id's `:` travels as `%3A` and is signed as `%253A`).
 */
export class SigV4Signer {
  private keyDay = '';
  private key: Buffer = Buffer.alloc(0);

  constructor(
    private readonly credentials: AwsCredentials,
    private readonly region: string,
    private readonly service: string,
  ) {}

  sign(req: SignableRequest, nowMs: number): Record<string, string> {
    const { stamp, day } = amzDate(nowMs);
    const added: Record<string, string> = { 'x-amz-date': stamp };
    if (this.credentials.sessionToken) added['x-amz-security-token'] = this.credentials.sessionToken;
    const headers = new Map<string, string>();
    for (const [name, value] of Object.entries(req.headers)) headers.set(name.toLowerCase(), value);
    headers.set('host', req.host);
    for (const [name, value] of Object.entries(added)) headers.set(name, value);
    const names = [...headers.keys()].sort();
    const canonicalHeaders = names
      .map((n) => `${n}:${headers.get(n)!.trim().replace(/\s+/g, ' ')}\n`)
      .join('');
    const signedHeaders = names.join(';');
    const canonical = [
      req.method,
      canonicalPath(req.path),
      canonicalQuery(req.query),
      canonicalHeaders,
      signedHeaders,
      sha256Hex(req.body),
    ].join('\n');
    const scope = `${day}/${this.region}/${this.service}/aws4_request`;
    const toSign = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey(day)).update(toSign).digest('hex');
    added['authorization'] =
      `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    return added;
  }

  /** The day's signing key, derived once a day. */
  signingKey(day: string): Buffer {
    if (day !== this.keyDay) {
      const kDate = hmac(`AWS4${this.credentials.secretAccessKey}`, day);
      const kService = hmac(hmac(kDate, this.region), this.service);
      this.key = hmac(kService, 'aws4_request');
      this.keyDay = day;
    }
    return this.key;
  }
}

function canonicalPath(path: string): string {
  if (path === '') return '/';
  return path
    .split('/')
    .map((segment) => uriEncode(segment))
    .join('/');
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      const v = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}
