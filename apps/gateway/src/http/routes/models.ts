import type { Context, Hono } from 'hono';
import type { Deployment } from '../../config/deployments.js';
import { modelAllowed } from '../../keys/model-access.js';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { mayUseGroup } from '../../proxy/key-policy.js';
import type { ModelGroup } from '../../proxy/model-router.js';
import type { Principal } from '../authenticate.js';
import { headerReader } from '../headers.js';

/** LiteLLM's DEFAULT_MODEL_CREATED_AT_TIME: the list's `created` is a constant, as in LiteLLM. */
const CREATED = 1677610602;

const truthy = (v: string | undefined) => v !== undefined && /^(1|true|yes)$/i.test(v);

/**
 * What a key may see of the model list: `/models` (OpenAI's list of names a client may ask for:
 * groups and visible aliases, or with `?only_model_access_groups=true` the access groups),
 * `/model/info` (deployments without credentials; `?litellm_model_id=` one of them) and
 * `/model_group/info` (one summary per group; `?model_group=` one of them). A virtual key sees only
 * what it may use; every route needs a key when a master key is set.
 */
export function registerModelRoutes(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  const principalOf = (c: Context<GatewayEnv>) => deps.authenticate(headerReader(c));
  const visible = (principal: Principal, name: string, group: ModelGroup) =>
    principal.kind !== 'virtual' || mayUseGroup(principal, name, group);

  const models = async (c: Context<GatewayEnv>) => {
    const principal = await principalOf(c);
    let names: readonly string[];
    if (truthy(c.req.query('only_model_access_groups'))) {
      // An access group is listed when the key's list and each list it answers to (team, user) name it.
      const access = principal.kind === 'virtual' ? principal.key.modelAccess : undefined;
      names = deps.router.accessGroups.filter((g) => !access || modelAllowed(access, g, g));
    } else {
      names = deps.router.publicNames.filter((name) => {
        const route = deps.router.resolve(name);
        return route !== undefined && visible(principal, name, route.group);
      });
    }
    return c.json({
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' })),
    });
  };
  app.get('/models', models);
  app.get('/v1/models', models);

  const info = async (c: Context<GatewayEnv>) => {
    const principal = await principalOf(c);
    const only = c.req.query('litellm_model_id');
    const data = deps.router.groups
      .filter((g) => visible(principal, g.name, g))
      .flatMap((g) => g.deployments)
      .filter((d) => only === undefined || d.id === only)
      .map((d) => ({ model_name: d.modelGroup, litellm_params: d.publicParams, model_info: d.modelInfo }));
    return c.json({ data });
  };
  app.get('/model/info', info);
  app.get('/v1/model/info', info);

  const groupInfo = async (c: Context<GatewayEnv>) => {
    const principal = await principalOf(c);
    const only = c.req.query('model_group');
    const data = deps.router.groups
      .filter((g) => (only === undefined || g.name === only) && visible(principal, g.name, g))
      .map(groupSummary);
    return c.json({ data });
  };
  app.get('/model_group/info', groupInfo);
  app.get('/v1/model_group/info', groupInfo);
}

/** LiteLLM's `ModelGroupInfo` for one group, from what the config says of its deployments. */
function groupSummary(group: ModelGroup): Record<string, unknown> {
  const ds = group.deployments;
  const info = (name: string) => ds.map((d) => d.modelInfo[name]).find((v) => v !== undefined) ?? null;
  const sum = (pick: (d: Deployment) => number | undefined) => {
    const values = ds.map(pick);
    return values.every((v) => v !== undefined) ? values.reduce((a, b) => a! + b!, 0) : null;
  };
  return {
    model_group: group.name,
    providers: [...new Set(ds.map((d) => d.provider))],
    max_input_tokens: info('max_input_tokens'),
    max_output_tokens: info('max_output_tokens'),
    input_cost_per_token: group.maxInputCost || null,
    output_cost_per_token: group.maxOutputCost || null,
    mode: info('mode') ?? 'chat',
    rpm: sum((d) => d.rpm),
    tpm: sum((d) => d.tpm),
    access_groups: [...group.accessGroups],
    is_wildcard: group.wildcard,
  };
}
