import type { Deployment } from '../config/deployments.js';
import type { Endpoint } from '../providers/types.js';

/** What a request is, for logs and metrics: an OpenAI endpoint, or Anthropic's Messages API. */
export type RecordRoute = Endpoint | 'messages';

/**
 * What one proxied request did, filled in along its way and handed to logging and metrics once
 * when it ends (for streams: when the stream ends). Metadata only, never bodies or keys.
 */
export interface RequestRecord {
  readonly callId: string;
  readonly endpoint: RecordRoute;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
  /** The model the client asked for, as sent (logs only: a wildcard group lets any name through). */
  clientModel: string | undefined;
  /** The model the client asked for as a bounded label: the name of a group or alias, or the wildcard group's pattern. */
  requestedModel: string | undefined;
  modelGroup: string | undefined;
  deployment: Deployment | undefined;
  stream: boolean;
  /** Final status sent to the client (200 for a stream cut after its start). */
  status: number;
  /** The stable error code, when the request failed. */
  errorCode: string | undefined;
  /** Status of the last upstream answer, if any. */
  upstreamStatus: number | undefined;
  /** Milliseconds spent waiting on upstreams (all attempts). */
  upstreamMs: number;
  /** For a relayed stream: milliseconds from sending upstream to its first chunk (time to first token). */
  firstChunkMs: number | undefined;
  /** Attempts after the first, on other deployments. */
  retries: number;
  promptTokens: number | undefined;
  completionTokens: number | undefined;
  /** Hashed key and alias of a virtual key, for logs and metrics labels. */
  keyHash: string | undefined;
  keyAlias: string | undefined;
  /** The key's team (id and alias), for metrics labels. */
  teamId: string | undefined;
  teamAlias: string | undefined;
  /** The key's user (`user_id`), for the user budget gauges. */
  userId: string | undefined;
  /** Set once the log line and metrics are written. */
  finished: boolean;
}

export function newRequestRecord(callId: string, endpoint: RecordRoute, startedAt: number): RequestRecord {
  return {
    callId,
    endpoint,
    startedAt,
    clientModel: undefined,
    requestedModel: undefined,
    modelGroup: undefined,
    deployment: undefined,
    stream: false,
    status: 0,
    errorCode: undefined,
    upstreamStatus: undefined,
    upstreamMs: 0,
    firstChunkMs: undefined,
    retries: 0,
    promptTokens: undefined,
    completionTokens: undefined,
    keyHash: undefined,
    keyAlias: undefined,
    teamId: undefined,
    teamAlias: undefined,
    userId: undefined,
    finished: false,
  };
}
