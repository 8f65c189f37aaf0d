import { embeddingList, embeddingTexts } from '../common/embeddings.js';
import { numberParam } from '../common/openai-content.js';
import type { Usage } from '../types.js';

/** Vertex AI `:predict` for text embedding models (`text-embedding-*`, `gemini-embedding-*`). */
export function toVertexPredict(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {
    instances: embeddingTexts(body, 'Vertex AI').map((content) => ({ content })),
  };
  const dimensions = numberParam(body, 'dimensions');
  if (dimensions !== undefined) out['parameters'] = { outputDimensionality: dimensions };
  return out;
}

interface Prediction {
  embeddings?: { values?: number[]; statistics?: { token_count?: number } };
}

/** `:predict`'s predictions as OpenAI's embeddings list; usage is the sum of each input's token_count. */
export function fromVertexPredict(
  json: string,
  model: string,
  base64: boolean,
): { json: string; usage: Usage | undefined } {
  const res = JSON.parse(json) as { predictions?: Prediction[] };
  let tokens = 0;
  let counted = false;
  const vectors = (res.predictions ?? []).map((p) => {
    const count = p.embeddings?.statistics?.token_count;
    if (typeof count === 'number') {
      tokens += count;
      counted = true;
    }
    return p.embeddings?.values ?? [];
  });
  const usage = counted ? { promptTokens: tokens, completionTokens: 0 } : undefined;
  return { json: embeddingList(vectors, model, usage, base64), usage };
}

/** Google AI Studio `:batchEmbedContents`. */
export function toBatchEmbed(body: Record<string, unknown>, model: string): Record<string, unknown> {
  const dimensions = numberParam(body, 'dimensions');
  return {
    requests: embeddingTexts(body, 'Gemini').map((text) => {
      const r: Record<string, unknown> = { model: `models/${model}`, content: { parts: [{ text }] } };
      if (dimensions !== undefined) r['outputDimensionality'] = dimensions;
      return r;
    }),
  };
}

/** `:batchEmbedContents`' answer (which reports no token counts). */
export function fromBatchEmbed(
  json: string,
  model: string,
  base64: boolean,
): { json: string; usage: Usage | undefined } {
  const res = JSON.parse(json) as { embeddings?: Array<{ values?: number[] }> };
  const vectors = (res.embeddings ?? []).map((e) => e.values ?? []);
  return { json: embeddingList(vectors, model, undefined, base64), usage: undefined };
}
