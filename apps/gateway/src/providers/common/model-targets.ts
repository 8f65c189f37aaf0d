import type { UpstreamTarget } from '../types.js';

/**
 * Where `model`'s `method` is called, for providers whose URL names the model (Gemini, Vertex AI):
 * the deployment's own model's targets are parsed once and kept; another model's (a wildcard
 * deployment passing the client's) are parsed per call, so clients cannot grow the cache.
 */
export function modelTargets<M extends string>(
  url: (model: string, method: M) => string,
  defaultModel: string,
): (model: string, method: M) => UpstreamTarget {
  const targets = new Map<string, UpstreamTarget>();
  return (model, method) => {
    const key = `${method} ${model}`;
    let t = targets.get(key);
    if (!t) {
      const u = new URL(url(model, method));
      t = { origin: u.origin, path: `${u.pathname}${u.search}` };
      if (model === defaultModel) targets.set(key, t);
    }
    return t;
  };
}
