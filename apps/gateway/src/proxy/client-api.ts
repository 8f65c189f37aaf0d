import type { ProviderAdapter, Translator } from '../providers/types.js';
import type { RecordRoute } from './request-record.js';

/**
 * A client API other than OpenAI's that the gateway serves (Anthropic's Messages API): how its
 * requests are checked, labelled and translated. Requests of every API share one lifecycle —
 * authenticate, admit, forward, settle, retry, fall back, charge, log.
 */
export interface ClientApi {
  /** The request's name in logs and metrics. */
  readonly route: RecordRoute;
  /** Checks the body, with 400s naming the field; takes nothing out of it. */
  check(body: Record<string, unknown>): { readonly model: string; readonly stream: boolean };
  /** The translator for a deployment: the body in this API to its upstream and the answer back. */
  translatorOf(adapter: ProviderAdapter): Translator;
  /** Request headers (lower case) handed to the translator, for deployments that speak this API. */
  readonly forwardHeaders?: readonly string[];
}
