import type { Context, Hono } from 'hono';
import { modelAllowed } from '../../keys/model-access.js';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { headerReader } from '../headers.js';

/** LiteLLM's DEFAULT_MODEL_CREATED_AT_TIME: the list's `created` is a constant, as in LiteLLM. */
const CREATED = 1677610602;

/**
 * `GET /models` (OpenAI's list of the model names a client may ask for: groups and visible aliases;
 * for a virtual key, only those it may use) and `GET /model/info` (every deployment without
 * credentials). Both need a key when a master key is set.
 */
export function registerModelRoutes(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  const models = async (c: Context<GatewayEnv>) => {
    const principal = await deps.authenticate(headerReader(c));
    const names =
      principal.kind === 'virtual'
        ? deps.router.publicNames.filter((name) =>
            modelAllowed(principal.key.modelAccess, name, deps.router.resolve(name)?.name ?? name),
          )
        : deps.router.publicNames;
    return c.json({
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: CREATED, owned_by: 'openai' })),
    });
  };
  app.get('/models', models);
  app.get('/v1/models', models);

  const info = async (c: Context<GatewayEnv>) => {
    await deps.authenticate(headerReader(c));
    const only = c.req.query('litellm_model_id');
    const data = deps.config.deployments
      .filter((d) => only === undefined || d.id === only)
      .map((d) => ({ model_name: d.modelGroup, litellm_params: d.publicParams, model_info: d.modelInfo }));
    return c.json({ data });
  };
  app.get('/model/info', info);
  app.get('/v1/model/info', info);
}
