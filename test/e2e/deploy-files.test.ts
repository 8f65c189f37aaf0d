import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/processes.js';

const has = (tool: string, ...args: string[]) => {
  try {
    execFileSync(tool, args.length ? args : ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
};

/**
 * No Docker engine or cluster runs here, so the compose and Kubernetes files are checked statically:
 * Compose v1 and v2 validate the compose file, HAProxy its ingress config, kustomize renders the
 * base and the ServiceMonitor overlay, every rendered object is checked against the Kubernetes API
 * schemas, the manifests keep their invariants (probes on the real health paths, the shutdown
 * budget above the drain time, Redis with AOF and a password, …) and both configs load with the
 * gateway's own config loader. deploy/check.sh prints what it checked and what it had to skip.
 */
describe('deploy files', () => {
  it('pass deploy/check.sh, with every validator installed here', async () => {
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)('bash', ['deploy/check.sh'], { cwd: ROOT, timeout: 120_000 }));
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      // The whole report, not just "Command failed": which check failed and why.
      throw new Error(`deploy/check.sh failed:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    }
    expect(stdout).not.toMatch(/^FAIL/m);
    expect(stdout).toMatch(/^ok +deploy\/compose\/config\.yaml loads with the gateway's parseConfig/m);
    expect(stdout).toMatch(/^ok +compose: one ingress \(official HAProxy image\) on 127\.0\.0\.1:4000/m);
    expect(stdout).toMatch(/^ok +compose: 4\+ gateway replicas/m);
    expect(stdout).toMatch(/^ok +compose: Prometheus scrapes every replica; Grafana provisions it/m);
    if (has('docker-compose', 'version'))
      expect(stdout).toMatch(/^ok +docker-compose 1\.\d+\.\d+ -f \S+ config -q$/m);
    if (has('haproxy', '-v')) expect(stdout).toMatch(/^ok +haproxy -c deploy\/compose\/haproxy\.cfg/m);
    if (has('promtool', '--version'))
      expect(stdout).toMatch(/^ok +promtool: every query of the Grafana dashboard is valid PromQL/m);
    if (has('kubectl', 'version', '--client')) {
      expect(stdout).toMatch(/^ok +kubectl kustomize deploy\/k8s renders \d+ objects/m);
      expect(stdout).toMatch(/^ok +kubectl kustomize deploy\/overlays\/servicemonitor renders/m);
      expect(stdout).toMatch(
        /^ok +deploy\/k8s: every rendered object is valid against the Kubernetes API schemas/m,
      );
      expect(stdout).toMatch(/^ok +overlay servicemonitor: every rendered object is valid/m);
    } else {
      // Said, not hidden: without kubectl the raw files are checked and the schemas are not.
      expect(stdout).toMatch(/^skip +kustomize build: neither kubectl nor kustomize is installed/m);
    }
  });
});
