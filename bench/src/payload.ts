import { randomUUID } from 'node:crypto';

/** The model name the seed's locustfile asks for. */
export const LOCUST_MODEL = 'fake-openai-endpoint';
export const LOCUST_USER = 'my-new-end-user-1';
const SENTENCE = " This is a test there will be no cache hits and we'll fill up the context";

/**
 * The message content exactly as the seed's locustfile builds it:
 * `f"{uuid.uuid4()} This is a test … context" * 150`. Python's `*` repeats the whole f-string, so the
 * same uuid appears 150 times (36 + 73 characters each, 16,350 in all).
 */
export function locustContent(uuid: string = randomUUID()): string {
  return (uuid + SENTENCE).repeat(150);
}

/** The payload object (`model`, `messages`, `user`), with a fresh uuid unless one is given. */
export function locustPayload(uuid: string = randomUUID()) {
  return {
    model: LOCUST_MODEL,
    messages: [{ role: 'user', content: locustContent(uuid) }],
    user: LOCUST_USER,
  };
}

/**
 * The request body byte for byte as locust sends it: python-requests' `json=` uses `json.dumps` with
 * its default separators (`", "` and `": "`). The content is plain ASCII with no character JSON has
 * to escape, so it is spliced in as is (checked against `JSON.stringify` in `selfCheck`).
 */
export function locustBody(uuid: string = randomUUID(), model: string = LOCUST_MODEL): string {
  return (
    `{"model": ${JSON.stringify(model)}, "messages": [{"role": "user", "content": "` +
    locustContent(uuid) +
    `"}], "user": "${LOCUST_USER}"}`
  );
}

/** Throws unless `locustBody` parses back to `locustPayload` for the same uuid. */
export function selfCheck(): void {
  const uuid = randomUUID();
  const parsed: unknown = JSON.parse(locustBody(uuid));
  if (JSON.stringify(parsed) !== JSON.stringify(locustPayload(uuid))) {
    throw new Error('locustBody does not match locustPayload');
  }
}
