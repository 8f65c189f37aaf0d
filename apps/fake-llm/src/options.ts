import { createPublicKey } from 'node:crypto';

/**
 * How the fake upstream behaves. Every knob can be set at construction, by CLI flag, and at run time
 * (globally or for one path prefix) through `configure()` / `POST /__control`.
 */
export interface Behaviour {
  /**
   * Fixed delay before the response headers, in ms.
   * @default 0
   */
  latencyMs: number;
  /**
   * Uniformly random extra delay added to `latencyMs`, in ms.
   * @default 0
   */
  jitterMs: number;
  /**
   * Delay between streamed content chunks, in ms. With 0 the chunks are still separate writes.
   * @default 0
   */
  chunkDelayMs: number;
  /**
   * Completion length in tokens (= words), capped by the request's max tokens.
   * @default 16
   */
  completionTokens: number;
  /**
   * Length of each embedding vector, unless the request asks for `dimensions`.
   * @default 8
   */
  embeddingDimensions: number;
  /**
   * Fraction (0..1) of requests answered with `failStatus` and an OpenAI-shaped error.
   * @default 0
   */
  failRate: number;
  /**
   * Status of injected failures (400..599); 429 also carries `retry-after: 1`.
   * @default 500
   */
  failStatus: number;
  /**
   * Fraction (0..1) of requests never answered; the socket stays open until the client gives up.
   * @default 0
   */
  hangRate: number;
  /**
   * Fraction (0..1) of requests whose connection is dropped: streams after about half the chunks,
   * plain responses before anything is sent.
   * @default 0
   */
  cutRate: number;
}

/** The behaviour of a fresh fake when no option overrides it. */
export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  chunkDelayMs: 0,
  completionTokens: 16,
  embeddingDimensions: 8,
  failRate: 0,
  failStatus: 500,
  hangRate: 0,
  cutRate: 0,
});

/** A requests-per-window quota on every request whose path starts with `prefix`. */
export interface QuotaRule {
  /** Path prefix, e.g. `/a` or `/` for everything. Plain string prefix, not segment-aware. */
  prefix: string;
  /** Accepted requests allowed in any rolling `quotaWindowMs` window (named for the 60 s default). */
  rpm: number;
}

/** Options of {@link createFakeLlm}: the default behaviour plus quotas and the model catalogue. */
export interface FakeLlmOptions extends Partial<Behaviour> {
  /**
   * Rolling-window quotas; a request counts against every rule whose prefix its path starts with.
   * @default []
   */
  quotas?: QuotaRule[];
  /**
   * Length of the rolling quota window, in ms.
   * @default 60000
   */
  quotaWindowMs?: number;
  /**
   * Model ids listed by `GET …/models`.
   * @default ['fake-model']
   */
  models?: string[];
  /**
   * PEM public keys of the service accounts whose JWT grants `POST …/token` accepts. With any, the
   * Vertex-shaped routes require a bearer token the fake issued.
   * @default [] (no token required)
   */
  oauthPublicKeys?: string[];
  /**
   * Lifetime of issued access tokens, in seconds (`expires_in`).
   * @default 3600
   */
  tokenTtlS?: number;
}

/**
 * A run-time change. Knobs without `prefix` change the defaults; with `prefix` they override the
 * defaults for paths starting with it (the longest matching prefix wins per knob). `clear` first
 * drops that prefix's override, or without `prefix` restores the construction-time behaviour and
 * drops every override. `quotas` / `quotaWindowMs` are global and replace the current ones.
 */
export type ConfigurePatch = Partial<Behaviour> & {
  prefix?: string;
  clear?: boolean;
  quotas?: QuotaRule[];
  quotaWindowMs?: number;
  /** Replaces the accepted service-account keys (global). */
  oauthPublicKeys?: string[];
  /** Lifetime of tokens issued from now on, in seconds (global). */
  tokenTtlS?: number;
  /** Forgets every issued token, so the next call with one is a 401 (global). */
  revokeTokens?: boolean;
};

/** A rejected option, patch or flag value; the message says which and why. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** setTimeout silently turns longer delays into 1 ms, so they are refused instead. */
const MAX_DELAY_MS = 2_147_483_647;

const nonNegative = (v: number) => (v >= 0 && v <= MAX_DELAY_MS ? undefined : `must be 0..${MAX_DELAY_MS}`);
const nonNegativeInt = (v: number) =>
  Number.isInteger(v) && v >= 0 && v <= 1_000_000 ? undefined : 'must be an integer 0..1000000';
const positiveInt = (v: number) =>
  Number.isInteger(v) && v >= 1 && v <= 65_536 ? undefined : 'must be an integer 1..65536';
const rate = (v: number) => (v >= 0 && v <= 1 ? undefined : 'must be between 0 and 1');
const errorStatus = (v: number) =>
  Number.isInteger(v) && v >= 400 && v <= 599 ? undefined : 'must be an HTTP error status 400..599';

const KNOB_CHECKS: Record<keyof Behaviour, (v: number) => string | undefined> = {
  latencyMs: nonNegative,
  jitterMs: nonNegative,
  chunkDelayMs: nonNegative,
  completionTokens: nonNegativeInt,
  embeddingDimensions: positiveInt,
  failRate: rate,
  failStatus: errorStatus,
  hangRate: rate,
  cutRate: rate,
};

/** The names of all behaviour knobs. */
const KNOBS = Object.keys(KNOB_CHECKS) as ReadonlyArray<keyof Behaviour>;

/** Why `value` is not acceptable for knob `key`, or undefined when it is. */
export function knobError(key: keyof Behaviour, value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'must be a finite number';
  return KNOB_CHECKS[key](value);
}

/** Why `rule` is not a valid quota rule, or undefined when it is. */
function quotaRuleError(rule: unknown): string | undefined {
  if (typeof rule !== 'object' || rule === null) return 'must be an object {prefix, rpm}';
  const { prefix, rpm } = rule as Record<string, unknown>;
  if (typeof prefix !== 'string' || !prefix.startsWith('/')) return 'prefix must be a path starting with /';
  if (typeof rpm !== 'number' || !Number.isInteger(rpm) || rpm < 1) return 'rpm must be an integer >= 1';
  return undefined;
}

/** Why `value` is not a valid quota window, or undefined when it is. */
export function quotaWindowError(value: unknown): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_DELAY_MS) {
    return `must be a number of ms 1..${MAX_DELAY_MS}`;
  }
  return undefined;
}

/** Validates the knobs present in `source`, throwing a ConfigError naming the first bad one. */
export function pickKnobs(source: Record<string, unknown>): Partial<Behaviour> {
  const knobs: Partial<Behaviour> = {};
  for (const key of KNOBS) {
    const value = source[key];
    if (value === undefined) continue;
    const error = knobError(key, value);
    if (error) throw new ConfigError(`${key} ${error} (got ${JSON.stringify(value)})`);
    knobs[key] = value as number;
  }
  return knobs;
}

/** Validates a quota list, throwing a ConfigError on the first bad rule. */
export function checkQuotas(quotas: unknown): QuotaRule[] {
  if (!Array.isArray(quotas)) throw new ConfigError('quotas must be an array of {prefix, rpm}');
  return quotas.map((rule, i) => {
    const error = quotaRuleError(rule);
    if (error) throw new ConfigError(`quotas[${i}]: ${error}`);
    const { prefix, rpm } = rule as QuotaRule;
    return { prefix, rpm };
  });
}

const PATCH_KEYS = new Set<string>([
  ...KNOBS,
  'prefix',
  'clear',
  'quotas',
  'quotaWindowMs',
  'oauthPublicKeys',
  'tokenTtlS',
  'revokeTokens',
]);

/** Why `value` is not a list of PEM public keys, or undefined when it is. */
export function publicKeysError(value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'must be an array of PEM public keys';
  for (const key of value) {
    if (typeof key !== 'string') return 'must be an array of PEM public keys';
    try {
      createPublicKey(key);
    } catch {
      return 'holds a value that is not a PEM public key';
    }
  }
  return undefined;
}

/** Why `value` is not a token lifetime, or undefined when it is. */
export function tokenTtlError(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 86_400
    ? undefined
    : 'must be a number of seconds 0..86400 (not 0)';
}

/** Validates an untrusted patch (e.g. the JSON body of `POST /__control`). */
export function parseConfigurePatch(input: unknown): ConfigurePatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError('the patch must be a JSON object');
  }
  const source = input as Record<string, unknown>;
  const unknown = Object.keys(source).find((key) => !PATCH_KEYS.has(key));
  if (unknown !== undefined) throw new ConfigError(`unknown setting "${unknown}"`);
  const patch: ConfigurePatch = pickKnobs(source);
  const { prefix, clear, quotas, quotaWindowMs, oauthPublicKeys, tokenTtlS, revokeTokens } = source;
  if (oauthPublicKeys !== undefined) {
    const error = publicKeysError(oauthPublicKeys);
    if (error) throw new ConfigError(`oauthPublicKeys ${error}`);
    patch.oauthPublicKeys = oauthPublicKeys as string[];
  }
  if (tokenTtlS !== undefined) {
    const error = tokenTtlError(tokenTtlS);
    if (error) throw new ConfigError(`tokenTtlS ${error}`);
    patch.tokenTtlS = tokenTtlS as number;
  }
  if (revokeTokens !== undefined) {
    if (typeof revokeTokens !== 'boolean') throw new ConfigError('revokeTokens must be a boolean');
    patch.revokeTokens = revokeTokens;
  }
  if (prefix !== undefined) {
    if (typeof prefix !== 'string' || !prefix.startsWith('/')) {
      throw new ConfigError('prefix must be a path starting with /');
    }
    if (
      quotas !== undefined ||
      quotaWindowMs !== undefined ||
      oauthPublicKeys !== undefined ||
      tokenTtlS !== undefined
    ) {
      throw new ConfigError(
        'quotas, quotaWindowMs, oauthPublicKeys and tokenTtlS are global and cannot be set for a prefix',
      );
    }
    patch.prefix = prefix;
  }
  if (clear !== undefined) {
    if (typeof clear !== 'boolean') throw new ConfigError('clear must be a boolean');
    patch.clear = clear;
  }
  if (quotas !== undefined) patch.quotas = checkQuotas(quotas);
  if (quotaWindowMs !== undefined) {
    const error = quotaWindowError(quotaWindowMs);
    if (error) throw new ConfigError(`quotaWindowMs ${error}`);
    patch.quotaWindowMs = quotaWindowMs as number;
  }
  return patch;
}

/** Construction options after validation and defaulting. */
export interface ResolvedOptions {
  behaviour: Behaviour;
  quotas: QuotaRule[];
  quotaWindowMs: number;
  models: string[];
  oauthPublicKeys: string[];
  tokenTtlS: number;
}

/** Validates and completes {@link FakeLlmOptions}; throws ConfigError on a bad value. */
export function resolveOptions(options: FakeLlmOptions): ResolvedOptions {
  const behaviour = { ...DEFAULT_BEHAVIOUR, ...pickKnobs(options as Record<string, unknown>) };
  const quotaWindowMs = options.quotaWindowMs ?? 60_000;
  const windowError = quotaWindowError(quotaWindowMs);
  if (windowError) throw new ConfigError(`quotaWindowMs ${windowError}`);
  const models = options.models ?? ['fake-model'];
  if (!models.every((m) => typeof m === 'string' && m.length > 0)) {
    throw new ConfigError('models must be non-empty strings');
  }
  const keysError =
    options.oauthPublicKeys === undefined ? undefined : publicKeysError(options.oauthPublicKeys);
  if (keysError) throw new ConfigError(`oauthPublicKeys ${keysError}`);
  const tokenTtlS = options.tokenTtlS ?? 3600;
  const ttlError = tokenTtlError(tokenTtlS);
  if (ttlError) throw new ConfigError(`tokenTtlS ${ttlError}`);
  return {
    behaviour,
    quotas: checkQuotas(options.quotas ?? []),
    quotaWindowMs,
    models: [...models],
    oauthPublicKeys: [...(options.oauthPublicKeys ?? [])],
    tokenTtlS,
  };
}
