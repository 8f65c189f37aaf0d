import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes.js';

/**
 * No Docker engine or cluster runs here, so the compose and Kubernetes files are checked statically:
 * kustomize renders, the manifests keep their invariants (probes on the real health paths, the
 * shutdown budget above the drain time, Redis with AOF, …) and both configs load with the gateway's
 * own config loader. deploy/check.sh prints what it checked and what it had to skip.
 */
describe('deploy files', () => {
  it('pass deploy/check.sh', async () => {
    const { stdout } = await promisify(execFile)('bash', ['deploy/check.sh'], { cwd: ROOT, timeout: 60_000 });
    expect(stdout).toMatch(/loads with the gateway's parseConfig/);
    expect(stdout).not.toMatch(/^FAIL/m);
  });
});
