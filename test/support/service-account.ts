import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Google service account key file whose token endpoint is `tokenUri` (the fake's), written to a
 * temporary directory, as `gcloud iam service-accounts keys create` writes one. The fake is started
 * with `--oauth-key <file>` so it can check the grants the gateway signs with it.
 */
export function writeServiceAccount(tokenUri: string): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = join(mkdtempSync(join(tmpdir(), 'fleetgate-sa-')), 'service-account.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      project_id: 'adroit-crow-413218',
      private_key_id: 'e2e-key',
      private_key: privateKey,
      client_email: 'load-test@adroit-crow-413218.iam.gserviceaccount.com',
      client_id: '1',
      token_uri: tokenUri,
    }),
  );
  return file;
}

/** The seed's scenario-2 config (test/fixtures/seed-gemini-vision.yaml) pointed at a fake: api_base, credentials, rpm. */
export function seedVertexConfig(text: string, fakeUrl: string, credentials: string, rpm: number): string {
  return text
    .replace('https://exampleopenaiendpoint-production.up.railway.app', `${fakeUrl}/dep-a`)
    .replace('https://exampleopenaiendpoint-production-c715.up.railway.app', `${fakeUrl}/dep-b`)
    .replaceAll('/etc/secrets/adroit_crow.json', credentials)
    .replaceAll(/^(\s+)vertex_credentials: (.*)$/gm, `$1vertex_credentials: $2\n$1rpm: ${rpm}`);
}
