import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let keys: { privateKey: string; publicKey: string } | undefined;

/** One RSA key pair per test process (generating one takes tens of ms). */
function keyPair() {
  keys ??= generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return keys;
}

/** A service account key file's JSON, as `gcloud iam service-accounts keys create` writes it. */
export function testServiceAccount(tokenUri: string): { json: Record<string, string>; publicKey: string } {
  const { privateKey, publicKey } = keyPair();
  return {
    json: {
      type: 'service_account',
      project_id: 'test-project',
      private_key_id: 'key-1',
      private_key: privateKey,
      client_email: 'gateway@test-project.iam.gserviceaccount.com',
      client_id: '1234567890',
      token_uri: tokenUri,
    },
    publicKey,
  };
}

/** The service account written to a temporary file; returns its path. */
export function serviceAccountFile(tokenUri: string, overrides: Record<string, unknown> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-sa-'));
  const file = join(dir, 'service-account.json');
  writeFileSync(file, JSON.stringify({ ...testServiceAccount(tokenUri).json, ...overrides }));
  return file;
}
