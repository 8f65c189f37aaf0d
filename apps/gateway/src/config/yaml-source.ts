import { LineCounter, parseDocument } from 'yaml';

/** A config path as zod reports it: keys and array indices from the root. */
export type ConfigPath = ReadonlyArray<PropertyKey>;

/** A parsed YAML file that can say on which line a value stands, for `file:line path: message`. */
export interface YamlSource {
  readonly file: string;
  /** The document as plain data. */
  readonly data: unknown;
  /** 1-based line of the value at `path`, or of its closest ancestor that exists. */
  lineOf(path: ConfigPath): number;
}

/** Thrown when the file is not YAML at all; carries `file:line: message`. */
export class YamlSyntaxError extends Error {}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new YamlSyntaxError(`${file}:${line}: not valid YAML: ${first.message.split('\n')[0]}`);
  }
  return {
    file,
    data: doc.toJS({ maxAliasCount: 100 }),
    lineOf(path) {
      for (let n = path.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
        const range = (node as { range?: readonly number[] } | null | undefined)?.range;
        if (range?.[0] !== undefined) return lineCounter.linePos(range[0]).line;
      }
      return 1;
    },
  };
}

/**
 * `model_list[0].litellm_params.model` — the spelling users see in LiteLLM's docs; with `anyIndex`,
 * `model_list[*].litellm_params.model`, to name one key across every list item.
 */
export function formatPath(path: ConfigPath, options: { anyIndex?: boolean } = {}): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += options.anyIndex ? '[*]' : `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(root)' : out;
}
