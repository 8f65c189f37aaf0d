#!/usr/bin/env node
// Offline checks of deploy/ (no Docker engine, no cluster): every YAML parses, and the invariants
// that keep the gateway, its image, the compose file and the Kubernetes manifests in agreement.
//
//   node deploy/check-manifests.mjs [--rendered FILE]
//
// --rendered: the output of `kubectl kustomize deploy/k8s`, checked instead of the raw resource
// files (it is what `kubectl apply -k` would send), and schema-checked; --overlay: the output of an
// overlay (deploy/overlays/*), schema-checked too. Exit 1 if any check fails.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { parseAllDocuments, parseDocument } from 'yaml';

const DEPLOY = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DEPLOY, '..');
const K8S = join(DEPLOY, 'k8s');
const COMPOSE = join(DEPLOY, 'compose');
const LOADER = join(ROOT, 'apps/gateway/dist/config/load.js');

/** What the gateway serves and how it stops (apps/gateway/src/http/routes/health.ts, server.ts). */
const GATEWAY = {
  port: 4000,
  liveness: '/health/liveliness',
  readiness: '/health/readiness',
  metrics: '/metrics',
  configPath: '/etc/fleetgate/config.yaml',
  defaultGraceS: 25,
};
const EXAMPLES = new Set(['secret.example.yaml', 'ingress.example.yaml']);

const { values: opts } = parseArgs({
  options: { rendered: { type: 'string' }, overlay: { type: 'string', multiple: true } },
});
let failures = 0;
const rel = (p) => relative(ROOT, p);

/** Runs one named check: ok when `fn` returns, FAIL with every problem it reports. */
async function check(name, fn) {
  const problems = [];
  try {
    await fn((message) => problems.push(message));
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (problems.length === 0) return console.log(`ok    ${name}`);
  failures++;
  console.log(`FAIL  ${name}`);
  for (const p of problems) console.log(`        - ${p.replaceAll('\n', '\n          ')}`);
}
const skip = (name, why) => console.log(`skip  ${name}: ${why}`);

function yamlFiles(dir) {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f));
}

/** All documents of a file as plain JS; throws on any syntax error or duplicate key. */
function readDocs(file, text = readFileSync(file, 'utf8')) {
  // merge: compose files use `<<: *anchor`, which YAML 1.2 leaves to the application.
  const docs = parseAllDocuments(text, { merge: true });
  const errors = docs.flatMap((d) => d.errors.map((e) => `${rel(file)}: ${e.message}`));
  if (errors.length > 0) throw new Error(errors.join('\n'));
  return docs.map((d) => d.toJS()).filter((d) => d != null);
}

const labelsMatch = (selector = {}, labels = {}) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** The seconds a `node -e "setTimeout(()=>{},N)"` (or `sleep N`) preStop hook waits. */
function preStopSeconds(container) {
  const cmd = container.lifecycle?.preStop?.exec?.command ?? [];
  const text = cmd.join(' ');
  const timeout = /setTimeout\([^,]+,\s*(\d+)\s*\)/.exec(text);
  if (timeout) return Number(timeout[1]) / 1000;
  const sleep = /^sleep (\d+)$/.exec(text);
  return sleep ? Number(sleep[1]) : 0;
}

/** `--config FILE` (or `-c FILE`, `--config=FILE`) from an argv array. */
function configArg(args = []) {
  for (let i = 0; i < args.length; i++) {
    const a = String(args[i]);
    if ((a === '--config' || a === '-c') && i + 1 < args.length) return String(args[i + 1]);
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// 1. Every YAML file parses.

const parsed = new Map();
await check('every YAML file under deploy/k8s and deploy/compose parses (no duplicate keys)', (fail) => {
  for (const file of [...yamlFiles(K8S), ...yamlFiles(COMPOSE)]) {
    try {
      parsed.set(file, readDocs(file));
    } catch (error) {
      fail(error.message);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// 2. Kubernetes.

const kustomization = parsed.get(join(K8S, 'kustomization.yaml'))?.[0] ?? {};

await check('kustomization: listed resources and generator files exist; examples are not listed', (fail) => {
  for (const r of kustomization.resources ?? []) {
    if (!existsSync(join(K8S, r))) fail(`resources: ${r} does not exist`);
    if (EXAMPLES.has(r)) fail(`resources: ${r} must not be applied (it is an example)`);
  }
  for (const g of kustomization.configMapGenerator ?? [])
    for (const f of g.files ?? []) {
      const path = f.includes('=') ? f.split('=')[1] : f;
      if (!existsSync(join(K8S, path))) fail(`configMapGenerator ${g.name}: ${path} does not exist`);
    }
  for (const file of yamlFiles(K8S)) {
    const name = file.split('/').pop();
    if (name === 'kustomization.yaml' || EXAMPLES.has(name)) continue;
    if (!(kustomization.resources ?? []).includes(name) && !isGeneratorFile(name))
      fail(`${name} is in deploy/k8s but not in kustomization.yaml`);
  }
});

function isGeneratorFile(name) {
  return (kustomization.configMapGenerator ?? []).some((g) => (g.files ?? []).includes(name));
}

/** The objects `kubectl apply -k` would send: the rendered output, or the raw files + generated ConfigMaps. */
function k8sObjects() {
  if (opts.rendered) return readDocs(opts.rendered);
  const objects = (kustomization.resources ?? []).flatMap((r) => parsed.get(join(K8S, r)) ?? []);
  for (const g of kustomization.configMapGenerator ?? []) {
    const data = {};
    for (const f of g.files ?? []) data[f] = readFileSync(join(K8S, f), 'utf8');
    objects.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data });
  }
  return objects;
}
const objects = k8sObjects();
console.log(
  `      (Kubernetes objects from ${opts.rendered ? `kubectl kustomize output` : 'the raw resource files'}: ${objects.length})`,
);
const byKind = (kind) => objects.filter((o) => o.kind === kind);
const one = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

await check('every Kubernetes object (examples included) has apiVersion, kind and metadata.name', (fail) => {
  const examples = [...EXAMPLES].flatMap((f) => parsed.get(join(K8S, f)) ?? []);
  for (const o of [...objects, ...examples]) {
    if (!o.apiVersion || !o.kind || !o.metadata?.name)
      fail(`object without apiVersion/kind/metadata.name: ${JSON.stringify(o).slice(0, 120)}`);
  }
});

const deployment = byKind('Deployment')[0];
const podSpec = deployment?.spec?.template?.spec ?? {};
const gateway = (podSpec.containers ?? [])[0] ?? {};
const podLabels = deployment?.spec?.template?.metadata?.labels ?? {};
const envOf = (container, name) => (container.env ?? []).find((e) => e.name === name);
/** Resolves a probe/Service port (name or number) to the container's port number. */
const containerPort = (port) =>
  typeof port === 'number' ? port : (gateway.ports ?? []).find((p) => p.name === port)?.containerPort;

await check('Deployment: probes hit the gateway health paths on port 4000', (fail) => {
  if (!deployment) return fail('no Deployment');
  const want = {
    readinessProbe: GATEWAY.readiness,
    livenessProbe: GATEWAY.liveness,
    startupProbe: GATEWAY.liveness,
  };
  for (const [probe, path] of Object.entries(want)) {
    const get = gateway[probe]?.httpGet;
    if (!get) {
      if (probe !== 'startupProbe') fail(`${probe} is missing`);
      continue;
    }
    if (get.path !== path) fail(`${probe}.httpGet.path is ${get.path}, want ${path}`);
    if (containerPort(get.port) !== GATEWAY.port)
      fail(`${probe} port ${get.port} is not container port 4000`);
  }
  if (!(gateway.ports ?? []).some((p) => p.containerPort === GATEWAY.port)) fail('no containerPort 4000');
});

await check('Deployment: args, config mount, image and secrets line up', (fail) => {
  if (!deployment) return fail('no Deployment');
  const config = configArg(gateway.args);
  if (config !== GATEWAY.configPath) fail(`--config is ${config}, want ${GATEWAY.configPath}`);
  const mount = (gateway.volumeMounts ?? []).find((m) => config?.startsWith(`${m.mountPath}/`));
  const volume = (podSpec.volumes ?? []).find((v) => v.name === mount?.name);
  if (!volume?.configMap) fail(`no ConfigMap volume mounted over ${config}`);
  else {
    const cm = one('ConfigMap', volume.configMap.name);
    const key = config.slice(mount.mountPath.length + 1);
    if (!cm) fail(`ConfigMap ${volume.configMap.name} is not in the kustomization`);
    else if (typeof cm.data?.[key] !== 'string') fail(`ConfigMap ${cm.metadata.name} has no ${key}`);
  }
  const images = (kustomization.images ?? []).map((i) => i.name);
  const imageName = String(gateway.image ?? '').replace(/[:@].*$/, '');
  if (!opts.rendered && !images.includes(imageName))
    fail(`image ${gateway.image} has no kustomization images: entry (have ${images.join(', ')})`);
  const master = envOf(gateway, 'LITELLM_MASTER_KEY')?.valueFrom?.secretKeyRef;
  if (!master) fail('LITELLM_MASTER_KEY does not come from a Secret');
  else if (master.optional !== false) fail('LITELLM_MASTER_KEY secretKeyRef must be optional: false');
  const example = (parsed.get(join(K8S, 'secret.example.yaml')) ?? []).find((o) => o.kind === 'Secret');
  const exampleKeys = Object.keys({ ...example?.data, ...example?.stringData });
  for (const e of gateway.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef;
    if (!ref) continue;
    if (ref.name !== example?.metadata?.name)
      fail(
        `env ${e.name} reads Secret ${ref.name}; secret.example.yaml documents ${example?.metadata?.name}`,
      );
    if (!exampleKeys.includes(ref.key)) fail(`env ${e.name}: key ${ref.key} is not in secret.example.yaml`);
  }
  for (const key of ['LITELLM_MASTER_KEY', 'OPENAI_API_KEY', 'REDIS_PASSWORD'])
    if (!exampleKeys.includes(key)) fail(`secret.example.yaml does not document ${key}`);
});

await check('Deployment: REDIS_URL points at the Redis Service', (fail) => {
  const url = envOf(gateway, 'REDIS_URL')?.value;
  if (!url) return fail('REDIS_URL is not set');
  const { hostname, port } = new URL(url);
  const service = one('Service', hostname.split('.')[0]);
  if (!service) return fail(`REDIS_URL host ${hostname} is not a Service in the kustomization`);
  if (!(service.spec?.ports ?? []).some((p) => p.port === Number(port || 6379)))
    fail(`Service ${hostname} does not expose port ${port || 6379}`);
});

await check(
  'Deployment: security context (non-root, read-only root fs, no privilege escalation, drop ALL)',
  (fail) => {
    const sc = gateway.securityContext ?? {};
    const pod = podSpec.securityContext ?? {};
    if (pod.runAsNonRoot !== true && sc.runAsNonRoot !== true) fail('runAsNonRoot is not true');
    if (sc.readOnlyRootFilesystem !== true) fail('readOnlyRootFilesystem is not true');
    if (sc.allowPrivilegeEscalation !== false) fail('allowPrivilegeEscalation is not false');
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) fail('capabilities.drop does not include ALL');
    const uid = sc.runAsUser ?? pod.runAsUser;
    if (uid === undefined || uid === 0)
      fail('runAsUser must be a numeric non-root uid (the image USER is 1000)');
    for (const r of ['requests', 'limits'])
      for (const k of ['cpu', 'memory'])
        if (gateway.resources?.[r]?.[k] === undefined) fail(`resources.${r}.${k} is not set`);
    const ann = deployment?.spec?.template?.metadata?.annotations ?? {};
    if (ann['prometheus.io/scrape'] !== 'true' || ann['prometheus.io/path'] !== GATEWAY.metrics)
      fail('prometheus.io scrape annotations missing or not pointing at /metrics');
    if (Number(ann['prometheus.io/port']) !== GATEWAY.port) fail('prometheus.io/port is not 4000');
  },
);

await check('Service: ClusterIP port 4000 reaches container port 4000 of the gateway pods', (fail) => {
  const svc = one('Service', deployment?.metadata?.name);
  if (!svc) return fail(`no Service named ${deployment?.metadata?.name}`);
  if (!labelsMatch(svc.spec?.selector, podLabels)) fail('selector does not match the pod labels');
  const p = (svc.spec?.ports ?? []).find((x) => x.port === GATEWAY.port);
  if (!p) return fail('no port 4000');
  if (containerPort(p.targetPort ?? p.port) !== GATEWAY.port)
    fail(`targetPort ${p.targetPort} does not resolve to containerPort 4000`);
});

await check('PDB, HPA and spread select the gateway pods', (fail) => {
  const pdb = byKind('PodDisruptionBudget').find((p) =>
    labelsMatch(p.spec?.selector?.matchLabels, podLabels),
  );
  if (!pdb) fail('no PodDisruptionBudget');
  else if (!labelsMatch(pdb.spec?.selector?.matchLabels, podLabels))
    fail('PDB selector does not match the pods');
  const hpa = byKind('HorizontalPodAutoscaler')[0];
  if (!hpa) fail('no HorizontalPodAutoscaler');
  else {
    if (hpa.spec?.scaleTargetRef?.name !== deployment?.metadata?.name)
      fail('HPA does not target the Deployment');
    if (!(hpa.spec.minReplicas <= hpa.spec.maxReplicas)) fail('HPA minReplicas > maxReplicas');
    const minAvailable = pdb?.spec?.minAvailable;
    if (typeof minAvailable === 'number' && minAvailable >= hpa.spec.minReplicas)
      fail('PDB minAvailable >= HPA minReplicas: nodes could never be drained');
  }
  for (const c of podSpec.topologySpreadConstraints ?? [])
    if (!labelsMatch(c.labelSelector?.matchLabels, podLabels))
      fail(`spread on ${c.topologyKey} does not select the pods`);
  if (!podSpec.topologySpreadConstraints && !podSpec.affinity?.podAntiAffinity)
    fail('neither topologySpreadConstraints nor podAntiAffinity');
});

await check(
  'Redis StatefulSet: AOF on, password required, data on a PVC, a PDB, selected by its Service and NetworkPolicy',
  (fail) => {
    const sts = byKind('StatefulSet')[0];
    if (!sts) return fail('no StatefulSet');
    const c = sts.spec?.template?.spec?.containers?.[0] ?? {};
    const args = [...(c.command ?? []), ...(c.args ?? [])].map(String);
    const flag = (name) => args[args.indexOf(name) + 1];
    if (args.indexOf('--appendonly') < 0 || flag('--appendonly') !== 'yes')
      fail('redis-server without --appendonly yes');
    if (flag('--appendfsync') !== 'everysec') fail('redis-server without --appendfsync everysec');
    const claims = (sts.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name);
    const dataMount = (c.volumeMounts ?? []).find((m) => m.mountPath === '/data');
    if (!dataMount || !claims.includes(dataMount.name)) fail('/data is not on a volumeClaimTemplate');
    const labels = sts.spec?.template?.metadata?.labels;
    const svc = one('Service', sts.spec?.serviceName);
    if (!svc || !labelsMatch(svc.spec?.selector, labels))
      fail(`serviceName ${sts.spec?.serviceName} does not select the pod`);
    // Auth: Redis requires the password the gateways send, both from the same Secret key.
    const redisPassword = envOf(c, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef;
    const gatewayPassword = envOf(gateway, 'REDIS_PASSWORD')?.valueFrom?.secretKeyRef;
    if (flag('--requirepass') !== '$(REDIS_PASSWORD)')
      fail('redis-server without --requirepass $(REDIS_PASSWORD)');
    if (redisPassword?.optional !== false) fail('Redis REDIS_PASSWORD is not a required Secret key');
    if (redisPassword?.name !== gatewayPassword?.name || redisPassword?.key !== gatewayPassword?.key)
      fail('the gateways do not read the Secret key Redis requires');
    if (gatewayPassword?.optional !== false)
      fail('the gateway REDIS_PASSWORD Secret key must be optional: false');
    if (JSON.stringify(envOf(c, 'REDISCLI_AUTH')?.valueFrom?.secretKeyRef) !== JSON.stringify(redisPassword))
      fail('the redis-cli probes do not authenticate (REDISCLI_AUTH)');
    const redisPdb = byKind('PodDisruptionBudget').find((p) =>
      labelsMatch(p.spec?.selector?.matchLabels, labels),
    );
    if (!redisPdb) fail('no PodDisruptionBudget selects the Redis pod');
    else if (redisPdb.spec?.minAvailable !== 1) fail('the Redis PDB is not minAvailable: 1');
    for (const np of byKind('NetworkPolicy')) {
      if (!labelsMatch(np.spec?.podSelector?.matchLabels, labels)) continue;
      const from = (np.spec?.ingress ?? []).flatMap((r) => r.from ?? []);
      if (!from.some((f) => labelsMatch(f.podSelector?.matchLabels, podLabels)))
        fail(`NetworkPolicy ${np.metadata.name} does not let the gateway pods in`);
    }
  },
);

/**
 * The kubernetes-models class of an object (the Kubernetes API's OpenAPI schemas, and the
 * Prometheus Operator's for ServiceMonitor), or undefined for a kind it does not know.
 */
async function modelOf(apiVersion, kind) {
  const [group, version] = String(apiVersion).includes('/') ? apiVersion.split('/') : [undefined, apiVersion];
  const module =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  try {
    return (await import(module))[kind];
  } catch {
    return undefined;
  }
}

for (const [name, file] of [
  ['deploy/k8s', opts.rendered],
  ...(opts.overlay ?? []).map((f) => [`overlay ${f.split('=')[0]}`, f.split('=').pop()]),
]) {
  if (!file) {
    skip(`${name}: Kubernetes schemas`, 'not rendered (no kubectl or kustomize)');
    continue;
  }
  await check(
    `${name}: every rendered object is valid against the Kubernetes API schemas (kubernetes-models)`,
    async (fail) => {
      for (const o of readDocs(file)) {
        const Model = await modelOf(o.apiVersion, o.kind);
        if (!Model) {
          fail(`${o.apiVersion} ${o.kind} ${o.metadata?.name}: no schema known for it`);
          continue;
        }
        try {
          new Model(o).validate();
        } catch (error) {
          fail(`${o.kind} ${o.metadata?.name}: ${error instanceof Error ? error.message : String(error)}`);
        }
      }
    },
  );
}

// ---------------------------------------------------------------------------------------------
// 3. Compose.

const composeFile = join(COMPOSE, 'docker-compose.yaml');
const compose = parsed.get(composeFile)?.[0] ?? {};
const services = compose.services ?? {};
const gatewayServices = Object.entries(services).filter(([name]) => name.startsWith('gateway'));

await check('compose: redis with AOF, a volume and a redis-cli ping healthcheck', (fail) => {
  const redis = services.redis;
  if (!redis) return fail('no redis service');
  const cmd = [].concat(redis.command ?? []).join(' ');
  if (!/--appendonly\s+yes/.test(cmd)) fail('redis command lacks --appendonly yes');
  if (!/--appendfsync\s+everysec/.test(cmd)) fail('redis command lacks --appendfsync everysec');
  if (!(redis.volumes ?? []).some((v) => String(v).split(':')[1] === '/data')) fail('no volume on /data');
  if (!String([].concat(redis.healthcheck?.test ?? []).join(' ')).includes('redis-cli ping'))
    fail('healthcheck is not redis-cli ping');
});

await check(
  'compose: 4+ gateway replicas with REDIS_URL, master key, config mount and stop grace, no host ports',
  (fail) => {
    if (gatewayServices.length < 4) fail(`want 4+ gateway services, have ${gatewayServices.length}`);
    for (const [name, s] of gatewayServices) {
      const env = Array.isArray(s.environment)
        ? Object.fromEntries(s.environment.map((e) => e.split('=')))
        : (s.environment ?? {});
      if (!env.REDIS_URL) fail(`${name}: no REDIS_URL`);
      else if (!services[new URL(env.REDIS_URL).hostname]) fail(`${name}: REDIS_URL host is not a service`);
      if (!env.LITELLM_MASTER_KEY) fail(`${name}: no LITELLM_MASTER_KEY`);
      const config = configArg([].concat(s.command ?? []));
      if (!config) fail(`${name}: command has no --config`);
      const mount = (s.volumes ?? []).map(String).find((v) => v.split(':')[1] === config);
      if (!mount) fail(`${name}: nothing mounted at ${config}`);
      else if (!existsSync(resolve(COMPOSE, mount.split(':')[0])))
        fail(`${name}: ${mount.split(':')[0]} does not exist`);
      if (durationS(s.stop_grace_period ?? '10s') <= GATEWAY.defaultGraceS)
        fail(`${name}: stop_grace_period ${s.stop_grace_period ?? '10s (default)'} <= the 25 s drain`);
      if ((s.ports ?? []).length > 0)
        fail(`${name}: publishes ports; replicas are reached through the ingress`);
      const ctx = resolve(COMPOSE, s.build?.context ?? '.');
      if (!existsSync(join(ctx, s.build?.dockerfile ?? 'Dockerfile')))
        fail(`${name}: no Dockerfile in build context ${rel(ctx)}`);
    }
  },
);

await check(
  'compose: one ingress (official HAProxy image) on 127.0.0.1:4000 balancing every replica, health-checked on readiness',
  (fail) => {
    const ingress = services.ingress;
    if (!ingress) return fail('no ingress service');
    if (!/^haproxy:\d/.test(String(ingress.image)))
      fail(`ingress image ${ingress.image} is not the official haproxy`);
    if (!(ingress.ports ?? []).map(String).includes(`127.0.0.1:${GATEWAY.port}:4000`))
      fail('ingress does not publish 127.0.0.1:4000:4000');
    const mount = (ingress.volumes ?? [])
      .map(String)
      .find((v) => v.endsWith(':/usr/local/etc/haproxy/haproxy.cfg:ro'));
    if (!mount) return fail('haproxy.cfg is not mounted read-only where the image reads it');
    const cfg = readFileSync(resolve(COMPOSE, mount.split(':')[0]), 'utf8');
    const servers = [...cfg.matchAll(/^\s*server\s+\S+\s+([\w-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    const want = gatewayServices.map(([name]) => `${name}:${GATEWAY.port}`).sort();
    if (JSON.stringify([...servers].sort()) !== JSON.stringify(want))
      fail(`haproxy backends ${servers.join(', ')} are not the gateway services ${want.join(', ')}`);
    if (!/^\s*bind :4000$/m.test(cfg)) fail('haproxy does not bind :4000');
    if (!cfg.includes(`option httpchk GET ${GATEWAY.readiness}`))
      fail('haproxy does not health-check /health/readiness');
    if (!/^\s*timeout server (\d+)s/m.test(cfg) || Number(/^\s*timeout server (\d+)s/m.exec(cfg)[1]) < 600)
      fail('haproxy timeout server is below the 600 s upstream timeout (streams would be cut)');
    for (const dep of [].concat(ingress.depends_on ?? []))
      if (!services[dep]) fail(`ingress depends on ${dep}, which is not a service`);
  },
);

await check(
  'compose: Prometheus scrapes every replica; Grafana provisions it and the Fleetgate dashboard',
  (fail) => {
    const prom = services.prometheus;
    const graf = services.grafana;
    if (!prom) return fail('no prometheus service');
    if (!graf) return fail('no grafana service');
    const promMount = (prom.volumes ?? [])
      .map(String)
      .find((v) => v.includes(':/etc/prometheus/prometheus.yml'));
    if (!promMount) return fail('prometheus.yml is not mounted');
    const promConfig = readDocs(resolve(COMPOSE, promMount.split(':')[0]))[0] ?? {};
    const job = (promConfig.scrape_configs ?? []).find((j) => j.job_name === 'fleetgate');
    const targets = (job?.static_configs ?? []).flatMap((c) => c.targets ?? []).sort();
    const want = gatewayServices.map(([name]) => `${name}:${GATEWAY.port}`).sort();
    if (JSON.stringify(targets) !== JSON.stringify(want))
      fail(`job fleetgate scrapes ${targets.join(', ')}, want every replica: ${want.join(', ')}`);
    if ((job?.metrics_path ?? '/metrics') !== GATEWAY.metrics) fail('job fleetgate does not scrape /metrics');
    const mounts = Object.fromEntries(
      (graf.volumes ?? []).map(String).map((v) => [v.split(':')[1], v.split(':')[0]]),
    );
    const provisioning = mounts['/etc/grafana/provisioning'];
    const dashboards = mounts['/var/lib/grafana/dashboards'];
    if (!provisioning || !dashboards) return fail('grafana provisioning or dashboards are not mounted');
    const ds = readDocs(resolve(COMPOSE, provisioning, 'datasources/prometheus.yaml'))[0]?.datasources?.[0];
    if (ds?.url !== 'http://prometheus:9090')
      fail(`grafana data source url ${ds?.url} is not the prometheus service`);
    const provider = readDocs(resolve(COMPOSE, provisioning, 'dashboards/fleetgate.yaml'))[0]?.providers?.[0];
    if (provider?.options?.path !== '/var/lib/grafana/dashboards')
      fail('the dashboard provider does not read the mounted folder');
    const dash = JSON.parse(readFileSync(resolve(COMPOSE, dashboards, 'fleetgate.json'), 'utf8'));
    if (dash.uid !== 'fleetgate') fail('dashboard uid is not fleetgate');
    const queries = (dash.panels ?? []).filter((p) => p.type !== 'row');
    if (queries.length < 10) fail(`dashboard has ${queries.length} panels`);
    for (const p of queries) {
      if (!(p.targets ?? []).every((t) => t.expr && t.datasource?.uid === ds?.uid))
        fail(`panel "${p.title}" has a target without an expression on the provisioned data source`);
    }
  },
);

function durationS(text) {
  const m = /^(\d+)(ms|s|m)?$/.exec(String(text));
  if (!m) return Number.NaN;
  return Number(m[1]) * ({ ms: 0.001, s: 1, m: 60 }[m[2] ?? 's'] ?? 1);
}

await check("compose: the config's upstream hosts are services, on the port fake-llm listens on", (fail) => {
  const config = parsed.get(join(COMPOSE, 'config.yaml'))?.[0] ?? {};
  const fake = services['fake-llm'];
  if (!fake) return fail('no fake-llm service');
  const args = [].concat(fake.command ?? []).map(String);
  const portArg = args.find((a) => a.startsWith('--port'));
  const port = portArg?.includes('=') ? portArg.split('=')[1] : args[args.indexOf('--port') + 1];
  if (!args.some((a) => a === '--host=0.0.0.0' || a === '0.0.0.0')) fail('fake-llm does not bind 0.0.0.0');
  const quotaPrefixes = args.filter((a) => a.startsWith('--rpm=')).map((a) => a.slice(6).split('=')[0]);
  for (const [i, m] of (config.model_list ?? []).entries()) {
    const base = m.litellm_params?.api_base;
    if (!base) continue;
    const url = new URL(base);
    if (!services[url.hostname]) fail(`model_list[${i}]: host ${url.hostname} is not a compose service`);
    else if (url.hostname === 'fake-llm' && url.port !== port)
      fail(`model_list[${i}]: port ${url.port}, fake-llm listens on ${port}`);
    const rpm = m.litellm_params?.rpm;
    if (rpm && !quotaPrefixes.some((p) => url.pathname.startsWith(p)))
      fail(`model_list[${i}]: rpm ${rpm} but fake-llm enforces no quota on ${url.pathname}`);
  }
});

// ---------------------------------------------------------------------------------------------
// 4. Dockerfile and .dockerignore.

const ignorePatterns = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
/** A simplified .dockerignore match (enough for the paths the Dockerfile copies). */
function ignored(path) {
  let out = false;
  for (const p of ignorePatterns) {
    const negate = p.startsWith('!');
    const glob = negate ? p.slice(1) : p;
    const re = new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*\*\//g, '\0')
        .replace(/\*/g, '[^/]*')
        .replaceAll('\0', '(.*/)?')}(/.*)?$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

await check(
  'Dockerfile: slim Node 20 base, non-root, port 4000, liveness healthcheck, gateway entrypoint',
  (fail) => {
    const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
    const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
    const last = (instr) => lines.filter((l) => new RegExp(`^${instr}\\s`, 'i').test(l)).at(-1) ?? '';
    if (!/NODE_IMAGE=node:20-bookworm-slim/.test(text)) fail('base image is not node:20-bookworm-slim');
    const user = last('USER').split(/\s+/)[1] ?? '';
    if (!/^[1-9]\d*(:\d+)?$/.test(user)) fail(`USER ${user || '(none)'}: want a numeric non-root uid`);
    if (!/\b4000\b/.test(last('EXPOSE'))) fail('no EXPOSE 4000');
    if (!last('HEALTHCHECK').includes(GATEWAY.liveness)) fail(`HEALTHCHECK does not hit ${GATEWAY.liveness}`);
    if (
      JSON.stringify(JSON.parse(last('ENTRYPOINT').replace(/^ENTRYPOINT\s+/i, ''))) !==
      '["node","apps/gateway/dist/main.js"]'
    )
      fail('ENTRYPOINT is not ["node", "apps/gateway/dist/main.js"]');
    if (configArg(JSON.parse(last('CMD').replace(/^CMD\s+/i, ''))) !== GATEWAY.configPath)
      fail('CMD lacks --config /etc/fleetgate/config.yaml');
    if (!/npm ci --omit=dev/.test(text))
      fail('runtime dependencies are not installed with npm ci --omit=dev');
    for (const copy of lines.filter((l) => /^COPY\s/i.test(l) && !/--from=/i.test(l))) {
      const srcs = copy
        .trim()
        .split(/\s+/)
        .slice(1, -1)
        .filter((s) => !s.startsWith('--'));
      for (const s of srcs)
        if (s !== '.' && !existsSync(join(ROOT, s))) fail(`COPY ${s}: not in the repository`);
      for (const s of srcs) if (ignored(s)) fail(`COPY ${s}: excluded by .dockerignore`);
    }
  },
);

await check(
  '.dockerignore: keeps host builds, node_modules and git out, keeps workspace manifests in',
  (fail) => {
    for (const p of [
      'node_modules',
      'apps/gateway/node_modules',
      'apps/gateway/dist',
      '.git',
      'bench/results',
      'apps/gateway/tsconfig.tsbuildinfo',
    ])
      if (!ignored(p)) fail(`${p} is not excluded`);
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    for (const ws of root.workspaces ?? [])
      if (ignored(`${ws}/package.json`))
        fail(`${ws}/package.json is excluded; npm ci needs every workspace manifest`);
    for (const p of ['package-lock.json', 'apps/gateway/src/main.ts', 'apps/fake-llm/src/main.ts'])
      if (ignored(p)) fail(`${p} is excluded`);
  },
);

// ---------------------------------------------------------------------------------------------
// 5. The configs, through the gateway's own loader.

const configs = [
  {
    name: 'deploy/compose/config.yaml',
    file: join(COMPOSE, 'config.yaml'),
    env: { REDIS_URL: 'redis://redis:6379' },
    grace: gatewayServices.map(([, s]) => durationS(s.stop_grace_period ?? '10s')),
  },
];
for (const cm of byKind('ConfigMap'))
  for (const [key, text] of Object.entries(cm.data ?? {}))
    if (key.endsWith('.yaml'))
      configs.push({
        name: `ConfigMap ${cm.metadata.name} ${key}`,
        file: `configmap/${cm.metadata.name}/${key}`,
        text,
        env: { REDIS_URL: envOf(gateway, 'REDIS_URL')?.value },
        grace: [podSpec.terminationGracePeriodSeconds - preStopSeconds(gateway)],
      });

if (!existsSync(LOADER)) {
  skip('configs through the gateway loader', `${rel(LOADER)} is missing (run npm run build)`);
} else {
  const { parseConfig } = await import(pathToFileURL(LOADER).href);
  for (const c of configs) {
    await check(
      `${c.name} loads with the gateway's parseConfig (fails on unknown providers, bad values, unset os.environ/)`,
      (fail) => {
        const text = c.text ?? readFileSync(c.file, 'utf8');
        if (!Array.isArray(parseDocument(text, { merge: true }).toJS()?.model_list)) fail('no model_list');
        // Placeholders for the secrets; everything else must come from the config itself.
        const env = { ...c.env, LITELLM_MASTER_KEY: 'sk-check', OPENAI_API_KEY: 'sk-placeholder' };
        let config;
        try {
          config = parseConfig(c.file, text, env);
        } catch (error) {
          return fail(error.lines ? error.lines.join('\n') : String(error));
        }
        for (const w of config.warnings) fail(`startup warning: ${w}`);
        if (config.deployments.length === 0) fail('no deployments');
        if (config.masterKey === undefined) fail('no master key: the gateway would be open');
        if (config.redis?.kind !== 'url')
          fail(`Redis is ${config.redis?.kind ?? 'not configured'}, want REDIS_URL`);
        const graceS = config.shutdownGraceMs / 1000;
        for (const budget of c.grace)
          if (!(budget > graceS))
            fail(`stop budget ${budget} s (after any preStop) is not above the ${graceS} s drain`);
        console.log(
          `      ${c.name}: ${config.deployments.length} deployments in ${config.groups.size} groups ` +
            `(${[...config.groups.keys()].join(', ')}), drain ${graceS} s, stop budget ${c.grace.join('/')} s`,
        );
      },
    );
  }
}

if (failures > 0) {
  console.log(`\n${failures} check(s) failed`);
  process.exit(1);
}
