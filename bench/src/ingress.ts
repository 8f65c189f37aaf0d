/**
 * A loopback ingress for benches: one address in front of several replicas, as a Kubernetes Service
 * or the compose file's HAProxy is. Debian's HAProxy when it is installed (`apt-get install
 * haproxy`; the same balancer as deploy/compose, one thread so its CPU is easy to read), else a
 * small Node TCP balancer (one upstream connection per client connection, replicas in turn).
 * Either way `cpuMicros()` says what the ingress itself spent, so a bench can show it was not the
 * bottleneck.
 *
 *   const ingress = await startIngress(['http://127.0.0.1:4001', 'http://127.0.0.1:4002']);
 *   … load ingress.url …
 *   await ingress.stop();
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { treeCpuMicros } from './cpu.js';
import { freePort, track } from './procs.js';

export interface Ingress {
  readonly kind: 'haproxy' | 'node';
  readonly url: string;
  /** The process doing the balancing (this process for the Node balancer). */
  readonly pid: number;
  /** CPU the balancer has used so far, in µs (for the Node balancer: this whole process). */
  cpuMicros(): number;
  stop(): Promise<void>;
}

export interface IngressOptions {
  /** @default 'haproxy' when /usr/sbin/haproxy (or `haproxy` on PATH) exists, else 'node' */
  readonly kind?: 'haproxy' | 'node';
  /** @default /usr/sbin/haproxy */
  readonly haproxy?: string;
}

export async function startIngress(
  targets: readonly string[],
  options: IngressOptions = {},
): Promise<Ingress> {
  if (targets.length === 0) throw new Error('an ingress needs at least one target');
  const haproxy = options.haproxy ?? '/usr/sbin/haproxy';
  const kind = options.kind ?? (existsSync(haproxy) ? 'haproxy' : 'node');
  return kind === 'haproxy' ? startHaproxy(targets, haproxy) : startNodeBalancer(targets);
}

async function startHaproxy(targets: readonly string[], binary: string): Promise<Ingress> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-ingress-'));
  const file = join(dir, 'haproxy.cfg');
  const servers = targets.map((t, i) => `  server r${i + 1} ${new URL(t).host}`).join('\n');
  // As deploy/compose/haproxy.cfg, minus DNS and health checks (the replicas are loopback processes
  // the bench started and watches), with one thread and room for 8,000 connections (HAProxy needs two descriptors each).
  writeFileSync(
    file,
    `global
  nbthread 1
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 610s
  timeout server 610s
  timeout http-keep-alive 60s
  maxconn 8000
frontend fleetgate
  bind 127.0.0.1:${port}
  default_backend replicas
backend replicas
  balance roundrobin
  http-reuse safe
${servers}
`,
  );
  const child = spawn(binary, ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = track(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-2_000);
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForPort(
      port,
      () => child.exitCode !== null,
      () => stderr,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    kind: 'haproxy',
    url,
    pid: child.pid!,
    cpuMicros: () => treeCpuMicros(child.pid!),
    async stop() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startNodeBalancer(targets: readonly string[]): Promise<Ingress> {
  const upstreams = targets.map((t) => new URL(t));
  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const target = upstreams[next++ % upstreams.length]!;
    const upstream = createConnection({ host: target.hostname, port: Number(target.port) });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    kind: 'node',
    url: `http://127.0.0.1:${port}`,
    pid: process.pid,
    cpuMicros: () => {
      const u = process.cpuUsage();
      return u.user + u.system;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function waitForPort(port: number, exited: () => boolean, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (exited()) throw new Error(`haproxy exited before listening: ${stderr().trim()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`haproxy did not listen on ${port} within 10 s: ${stderr().trim()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
