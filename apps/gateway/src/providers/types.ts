import type { Dispatcher } from 'undici';
import type { ErrorCode } from '../errors.js';

/** The OpenAI endpoints a client can call through the gateway. */
export type Endpoint = 'chat' | 'completions' | 'embeddings';

/** The wire APIs the gateway speaks, to clients and to upstreams. */
export type WireApi = 'openai' | 'anthropic' | 'gemini' | 'bedrock';

/** Where one upstream call goes. */
export interface UpstreamTarget {
  /** `https://host:port`, the undici pool key. */
  readonly origin: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  readonly path: string;
}

/** One upstream call, ready to send. */
export interface UpstreamRequest {
  readonly target: UpstreamTarget;
  /** Credentials and content type. The client's headers are never copied. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | string;
  /**
   * Present when the credentials behind this call can be renewed (an OAuth access token): a 401
   * calls it to drop them, and the request is built and sent once more with fresh ones.
   */
  readonly renewCredentials?: (() => void) | undefined;
}

/** Token counts an upstream reported for one call. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** The request as a translator sees it. `body` belongs to the request and is shared by its attempts: never changed. */
export interface TranslateInput {
  readonly endpoint: Endpoint;
  readonly body: Record<string, unknown>;
  /** The bytes the client sent, which `body` was parsed from. */
  readonly raw: Buffer;
  readonly stream: boolean;
  /** The model to ask upstream for; undefined means the deployment's own (wildcard deployments pass the client's). */
  readonly upstreamModel?: string | undefined;
  /** Client headers a client API forwards to deployments of its own API (Anthropic's `anthropic-beta`). */
  readonly clientHeaders?: Readonly<Record<string, string>> | undefined;
}

/** A successful non-stream answer, in the client's API. */
export interface DecodedAnswer {
  readonly body: Buffer | string;
  readonly contentType: string;
  readonly usage: Usage | undefined;
}

/**
 * A successful stream being translated chunk by chunk into the client's API. `process` returns the
 * bytes to pass on now (possibly none), `flush` what is left when the upstream ends.
 */
export interface StreamTranslation {
  process(chunk: Buffer): Buffer;
  flush(): Buffer | undefined;
  /** What the upstream reported so far. */
  readonly usage: Usage | undefined;
  /** Set when the upstream ended the stream with an error event (a status as LiteLLM maps it). */
  readonly failedStatus?: number | undefined;
  /**
   * The event a stream cut short by the gateway (the upstream went away or went quiet) ends with,
   * in the client's API; OpenAI's `data: {"error":…}` when absent.
   */
  cutEvent?(error: { status: number; message: string }): Buffer;
}

/** An upstream error, mapped the way LiteLLM maps it and rendered in the client's API. */
export interface DecodedError {
  /** The status the client gets, and routing sees (429 → cooldown, 401 → cooldown at once). */
  readonly status: number;
  readonly body: Buffer | string;
  readonly contentType: string;
  /** The upstream's `retry-after`, in ms. */
  readonly retryAfterMs?: number | undefined;
  /** The gateway's stable name for it, for logs and metrics (`context_length_exceeded`, …). */
  readonly code: ErrorCode;
}

/**
 * One translator per (client API, backend) pair: what the client sent becomes the upstream call,
 * and what the upstream answered — body, stream events, usage, errors — goes back in the client's
 * API. Built once per deployment at startup (URLs and headers precomputed).
 */
export interface Translator {
  /**
   * The upstream call; a promise only while credentials are being fetched. Throws a 400 GatewayError
   * naming the field for content the provider cannot take, a 401 one when its credentials are refused.
   */
  request(input: TranslateInput, io: UpstreamIo): UpstreamRequest | Promise<UpstreamRequest>;
  /** Whether a 2xx answer of this content type is the stream the client asked for. */
  isStream(contentType: string): boolean;
  decodeJson(body: Buffer, input: TranslateInput): DecodedAnswer;
  /** `clientWantsUsage`: the client asked for the usage chunk itself (else it is left out). */
  createStream(input: TranslateInput, clientWantsUsage: boolean): StreamTranslation;
  decodeError(status: number, body: Buffer, headers: UpstreamHeaders): DecodedError;
}

/** What building a request may use besides the request: the HTTP client (token exchanges) and the clock. */
export interface UpstreamIo {
  readonly dispatcher: Dispatcher;
  /** Unix ms. */
  now(): number;
}

/** Response headers as undici gives them. */
export type UpstreamHeaders = Readonly<Record<string, string | string[] | undefined>>;

/**
 * A deployment's provider: the translator for OpenAI clients, and for clients of the provider's own
 * API when the gateway serves that API too (Anthropic's `/v1/messages` to `anthropic/` deployments).
 */
export interface ProviderAdapter {
  readonly provider: string;
  /** The wire API the upstream speaks. */
  readonly api: WireApi;
  /** The OpenAI endpoints this deployment can serve; others are refused with a 400. */
  readonly endpoints: ReadonlySet<Endpoint>;
  /** Where it sends, without credentials or query, for `x-litellm-model-api-base`, metrics and `/model/info`. */
  readonly apiBase: string;
  readonly openai: Translator;
  /** Present when the client's API is the upstream's own: the body passes through. */
  readonly native?: Translator | undefined;
}
