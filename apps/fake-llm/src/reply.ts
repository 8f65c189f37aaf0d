import type { OAuthIssuer } from './oauth.js';
import type { Behaviour } from './options.js';

/** A complete JSON response. */
export interface JsonReply {
  kind: 'json';
  json: string;
}

/**
 * A streamed response, pre-rendered: `lead` goes out with the headers, each of `chunks` after
 * `chunkDelayMs`, `tail` right after the last chunk. A cut stream stops after half the chunks.
 */
export interface StreamReply {
  kind: 'stream';
  contentType: string;
  /** Text for SSE, bytes for a binary stream (Bedrock's event stream). */
  lead: string | Buffer;
  chunks: Array<string | Buffer>;
  tail: string | Buffer;
}

export type Reply = JsonReply | StreamReply;

/** What a shape builder knows about the request besides its body. */
export interface ReplyContext {
  /** The OAuth token endpoint's state (grants, issued tokens). */
  oauth: OAuthIssuer;
  /** ms since the epoch. */
  now: number;
  behaviour: Behaviour;
  /** Request path without the query string. */
  path: string;
  /** Raw query string without `?` ('' when none). */
  query: string;
  /** A fresh id suffix, unique within this fake. */
  id: string;
  /** Unix seconds. */
  created: number;
}

/** Builds the reply of one endpoint from the parsed request body. May throw RequestError. */
export type ReplyBuilder = (body: Record<string, unknown>, ctx: ReplyContext) => Reply;

/** `text/event-stream` headers' content type. */
export const SSE = 'text/event-stream';

/** The request's `model` when it is a non-empty string, else a stand-in. */
export function modelOf(body: Record<string, unknown>): string {
  const model = body['model'];
  return typeof model === 'string' && model.length > 0 ? model : 'fake-model';
}
