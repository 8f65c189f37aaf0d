const REDACTED = '[redacted]';

/**
 * Removes credentials from upstream text before it reaches a client or a log line: the fixed ones
 * (API keys) and, through `current`, ones that change (OAuth access tokens). Secrets shorter than 8
 * characters are not searched for (they would match ordinary words).
 */
export function createScrubber(
  fixed: ReadonlyArray<string | undefined>,
  current?: () => ReadonlyArray<string>,
): (text: Buffer) => Buffer {
  const secrets = fixed.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  const needles = secrets.map((s) => Buffer.from(s));
  return (text) => {
    const dynamic = current ? current().filter((s) => s.length >= 8) : [];
    let found = false;
    for (const n of needles) if (text.indexOf(n) >= 0) found = true;
    for (const s of dynamic) if (text.indexOf(s) >= 0) found = true;
    if (!found) return text;
    let out = text.toString('utf8');
    for (const s of [...secrets, ...dynamic]) out = out.replaceAll(s, REDACTED);
    return Buffer.from(out, 'utf8');
  };
}
