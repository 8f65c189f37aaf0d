import { badRequest } from '../../errors.js';
import type { Usage } from '../types.js';

/** The texts of an embeddings request; token-id inputs are a 400 for providers that take text only. */
export function embeddingTexts(body: Record<string, unknown>, provider: string): string[] {
  const input = body['input'];
  const list = Array.isArray(input) ? input : [input];
  return list.map((item, i) => {
    if (typeof item !== 'string') {
      throw badRequest(
        `"input${Array.isArray(input) ? `[${i}]` : ''}": ${provider} embeds text only, not token ids`,
        'input',
      );
    }
    return item;
  });
}

/** OpenAI's embeddings list, each vector as floats or, when the client asked (the openai SDK does by default), base64 float32. */
export function embeddingList(
  vectors: ReadonlyArray<ReadonlyArray<number>>,
  model: string,
  usage: Usage | undefined,
  base64: boolean,
): string {
  const data = vectors.map((values, index) => ({
    object: 'embedding',
    index,
    embedding: base64 ? Buffer.from(new Float32Array(values).buffer).toString('base64') : values,
  }));
  const prompt = usage?.promptTokens ?? 0;
  return JSON.stringify({
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: prompt, total_tokens: prompt },
  });
}
