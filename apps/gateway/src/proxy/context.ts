import type { FleetStore } from '@fleetgate/ratelimit';
import type { CooldownPolicy } from '@fleetgate/routing';
import type { HttpBindings } from '@hono/node-server';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/gateway-config.js';
import type { Authenticator } from '../http/authenticate.js';
import type { Logger } from '../log.js';
import type { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { AdmissionQueue } from './admission-queue.js';
import type { ModelRouter } from './model-router.js';
import type { RequestRecord } from './request-record.js';

/** Hono's environment for the gateway: Node bindings when served over a socket (absent in `app.request()`). */
export interface GatewayEnv {
  Bindings: Partial<HttpBindings>;
  Variables: {
    callId: string;
    /** Set by the LLM routes; the error handler finishes it. */
    record: RequestRecord | undefined;
  };
}

/** Everything a request needs, built once per process and shared by every request. */
export interface ProxyDeps {
  readonly config: GatewayConfig;
  readonly authenticate: Authenticator;
  readonly router: ModelRouter;
  readonly store: FleetStore;
  readonly upstream: Dispatcher;
  readonly metrics: GatewayMetrics;
  readonly logger: Logger;
  readonly random: () => number;
  readonly cooldown: CooldownPolicy;
  /** The line of requests waiting for room; undefined when waiting is off. */
  readonly queue: AdmissionQueue | undefined;
  /** Unique per process; prefixes in-flight lease ids. */
  readonly replicaId: string;
}
