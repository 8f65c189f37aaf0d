import type { Context, Hono } from 'hono';
import type { GatewayEnv, ProxyDeps } from '../../proxy/context.js';
import { headerReader } from '../headers.js';

/** LiteLLM's DEFAULT_MODEL_CREATED_AT_TIME: the list's `created` is a constant, as in LiteLLM. */
const CREATED = 1677610602;

/**
 * `GET /models` (OpenAI's list of the model names a client may ask for: groups and visible aliases)
 * and `GET /model/info` (every deployment without credentials). Both need the key when one is set.
 */
export function registerModelRoutes(app: Hono<GatewayEnv>, deps: ProxyDeps): void {
  const models = (c: Context<GatewayEnv>) => {
    deps.authenticate(headerReader(c));
    return c.json({
      object: 'list',
      data: deps.router.publicNames.map((id) => ({
        id,
        object: 'model',
        created: CREATED,
        owned_by: 'openai',
      })),
    });
  };
  app.get('/models', models);
  app.get('/v1/models', models);

  const info = (c: Context<GatewayEnv>) => {
    deps.authenticate(headerReader(c));
    const only = c.req.query('litellm_model_id');
    const data = deps.config.deployments
      .filter((d) => only === undefined || d.id === only)
      .map((d) => ({ model_name: d.modelGroup, litellm_params: d.publicParams, model_info: d.modelInfo }));
    return c.json({ data });
  };
  app.get('/model/info', info);
  app.get('/v1/model/info', info);
}
