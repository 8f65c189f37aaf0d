#!/usr/bin/env node
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CliError, parseCliArgs, USAGE } from './cli-args.js';
import { ConfigError } from './options.js';
import { createFakeLlm } from './server.js';

/** The public key PEM in `file`: a PEM key (public or private), or a service-account JSON key file's. */
function publicKeyFrom(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    die(`--oauth-key ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 2);
  }
  try {
    const pem = text.trim().startsWith('{')
      ? String((JSON.parse(text) as { private_key?: unknown }).private_key)
      : text;
    return createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  } catch {
    die(`--oauth-key ${file}: not a PEM key or a service-account key file`, 2);
  }
}

/** Bad usage exits 2, like most CLIs, so scripts can tell it from a runtime failure (1). */
function die(message: string, code: number): never {
  process.stderr.write(`fake-llm: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  let config: ReturnType<typeof parseCliArgs>;
  try {
    config = parseCliArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof CliError) die(`${error.message} (see --help)`, 2);
    throw error;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return;
  }
  let fake: ReturnType<typeof createFakeLlm>;
  try {
    if (config.oauthKeyFiles.length > 0)
      config.options.oauthPublicKeys = config.oauthKeyFiles.map(publicKeyFrom);
    fake = createFakeLlm(config.options);
  } catch (error) {
    if (error instanceof ConfigError) die(error.message, 2);
    throw error;
  }
  let url: string;
  try {
    ({ url } = await fake.listen(config.port, config.host));
  } catch (error) {
    die(`cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, 1);
  }
  // Tests started with --port 0 read the port from this line: keep its format.
  process.stdout.write(`fake-llm listening on ${url}\n`);
  const stop = () => {
    fake.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) =>
  die(error instanceof Error ? (error.stack ?? error.message) : String(error), 1),
);
