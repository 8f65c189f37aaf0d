import { randomBytes } from 'node:crypto';
import { type BehaviourDescription, BehaviourTable } from './behaviour-table.js';
import { OAuthIssuer } from './oauth.js';
import { modelListJson } from './openai-shapes.js';
import {
  type ConfigurePatch,
  type FakeLlmOptions,
  parseConfigurePatch,
  type QuotaRule,
  resolveOptions,
} from './options.js';
import { QuotaBook } from './quota.js';
import { modelListRoute, type Route } from './routes.js';
import { type FakeLlmStats, StatsRecorder } from './stats.js';

/** The current configuration, as `GET /__control` and `POST /__control` return it. */
export interface ConfigDescription extends BehaviourDescription {
  quotas: QuotaRule[];
  quotaWindowMs: number;
  /** Whether Vertex-shaped routes require an issued token, and issued tokens' lifetime. */
  oauth: { enabled: boolean; tokenTtlS: number };
}

/** The fake's state shared by the request pipeline, the control API and the library handle. */
export class FakeCore {
  readonly table: BehaviourTable;
  readonly quota: QuotaBook;
  readonly stats = new StatsRecorder();
  /** The OAuth token endpoint and the tokens it issued. */
  readonly oauth: OAuthIssuer;
  /** `GET …/models`, whose body depends only on the options. */
  readonly modelList: Route;
  /** Per-instance tag so ids from two fakes in one test differ. */
  private readonly tag = randomBytes(3).toString('hex');
  private sequence = 0;

  constructor(options: FakeLlmOptions) {
    const resolved = resolveOptions(options);
    this.table = new BehaviourTable(resolved.behaviour);
    this.quota = new QuotaBook(resolved.quotas, resolved.quotaWindowMs);
    this.oauth = new OAuthIssuer(resolved.oauthPublicKeys, resolved.tokenTtlS * 1000);
    this.modelList = modelListRoute(modelListJson(resolved.models, Math.floor(Date.now() / 1000)));
  }

  /** A fresh id suffix for response ids (`chatcmpl-<id>`, `msg_<id>`, …). */
  nextId(): string {
    this.sequence++;
    return `fake${this.tag}${this.sequence.toString(36).padStart(6, '0')}`;
  }

  /** Applies a patch after validating it (it may come straight from HTTP); throws ConfigError. */
  configure(input: ConfigurePatch): void {
    const patch = parseConfigurePatch(input);
    const { prefix, clear, quotas, quotaWindowMs, oauthPublicKeys, tokenTtlS, revokeTokens, ...knobs } =
      patch;
    if (clear) this.table.clear(prefix);
    this.table.set(knobs, prefix);
    if (quotaWindowMs !== undefined) this.quota.setWindow(quotaWindowMs);
    if (quotas !== undefined) this.quota.setRules(quotas);
    if (oauthPublicKeys !== undefined) this.oauth.setKeys(oauthPublicKeys);
    if (tokenTtlS !== undefined) this.oauth.ttlMs = tokenTtlS * 1000;
    if (revokeTokens) this.oauth.revoke();
  }

  /** Clears stats and quota windows; the behaviour stays. */
  reset(): void {
    this.stats.reset();
    this.quota.reset();
    this.oauth.resetStats();
  }

  snapshot(): FakeLlmStats {
    return {
      ...this.stats.snapshot(this.quota.stats(), this.quota.quotaWindowMs),
      oauth: { ...this.oauth.stats },
    };
  }

  describe(): ConfigDescription {
    return {
      ...this.table.describe(),
      quotas: this.quota.rules(),
      quotaWindowMs: this.quota.quotaWindowMs,
      oauth: { enabled: this.oauth.enabled, tokenTtlS: this.oauth.ttlMs / 1000 },
    };
  }
}
