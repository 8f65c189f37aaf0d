/** The OpenAI endpoints a client can call through the gateway. */
export type Endpoint = 'chat' | 'completions' | 'embeddings';

/** Where and how one deployment is called for one endpoint; computed once at startup. */
export interface UpstreamTarget {
  /** `https://host:port`, the undici pool key. */
  readonly origin: string;
  /** Path and query, e.g. `/v1/chat/completions`. */
  readonly path: string;
}

/** Token counts an upstream reported for one call. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
}

/** The deployment-level settings an adapter needs; secrets stay inside the adapter's output. */
export interface AdapterDeployment {
  readonly upstreamModel: string;
  readonly apiBase: string | undefined;
  readonly apiKey: string | undefined;
  readonly organization: string | undefined;
  readonly extraHeaders: Readonly<Record<string, string>> | undefined;
}

/**
 * One translator per (client API, backend) pair: OpenAI → this provider. Built once per deployment
 * at startup (URLs and headers precomputed), then used on every request without allocation-heavy work.
 */
export interface ProviderAdapter {
  readonly provider: string;
  /** The target for `endpoint`. */
  target(endpoint: Endpoint): UpstreamTarget;
  /** Headers sent upstream: credentials and content type. The client's headers are never copied. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The upstream request body for an OpenAI-shaped client body: `body` is the parse of `raw` (owned
   * by the request, so it may be changed in place). Streams always ask upstream for usage, so TPM
   * windows and spend settle to real numbers. `upstreamModel` replaces the deployment's model for
   * this request (a wildcard deployment sends the model the client asked for).
   */
  encodeBody(
    endpoint: Endpoint,
    body: Record<string, unknown>,
    raw: Buffer,
    upstreamModel?: string,
  ): Buffer | string;
  /** Removes this deployment's credentials from upstream text before it reaches a client or a log. */
  scrub(text: Buffer): Buffer;
}

/** Builds the adapter for one deployment, or says why the config cannot be served. */
export type AdapterFactory = (deployment: AdapterDeployment) => ProviderAdapter;
