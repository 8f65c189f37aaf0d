#!/usr/bin/env bash
# Offline checks of the deployment files: needs no Docker engine and no cluster.
#
#   deploy/check.sh
#
# Runs whatever validators are installed (docker compose, kubectl/kustomize, hadolint), says which
# it skipped and why, then always runs deploy/check-manifests.mjs: YAML syntax, the invariants
# between image, compose, manifests and gateway, and both configs through the gateway's own
# config loader (needs `npm run build` and the root node_modules). Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
COMPOSE_FILE=deploy/compose/docker-compose.yaml
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

checked=()
skipped=()
ok() { echo "ok    $1"; checked+=("$1"); }
skip() { echo "skip  $1: $2"; skipped+=("$1: $2"); }
fail() {
  echo "FAIL  $1"
  sed 's/^/        /' "$2"
  exit 1
}

echo "== tools"
for tool in docker docker-compose haproxy promtool kubectl kustomize hadolint node; do
  printf '      %-15s %s\n' "$tool" "$(command -v "$tool" || echo '-')"
done

echo "== shell"
bash -n deploy/check.sh && ok "deploy/check.sh parses (bash -n)"

echo "== compose"
# `config` resolves and validates the file (schema, anchors, interpolation) without an engine. The
# file must pass both Compose v2 (the docker plugin) and Debian's docker-compose 1.29.
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  if docker compose -f "$COMPOSE_FILE" config -q >"$TMP/compose.out" 2>&1; then
    ok "docker compose (v2) -f $COMPOSE_FILE config -q"
  else
    fail "docker compose (v2) config" "$TMP/compose.out"
  fi
else
  skip "Compose v2 validation" "the docker compose plugin is not installed"
fi
if command -v docker-compose >/dev/null && docker-compose version >/dev/null 2>&1; then
  if docker-compose -f "$COMPOSE_FILE" config -q >"$TMP/compose1.out" 2>&1; then
    ok "$(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /') -f $COMPOSE_FILE config -q"
  else
    fail "docker-compose (v1) config" "$TMP/compose1.out"
  fi
else
  skip "Compose v1 validation" "docker-compose is not installed (apt-get install docker-compose)"
fi
if command -v haproxy >/dev/null; then
  # The backends' names resolve only on the compose network: HAProxy warns and checks the rest.
  if haproxy -c -q -f deploy/compose/haproxy.cfg >"$TMP/haproxy.out" 2>&1; then
    ok "haproxy -c deploy/compose/haproxy.cfg ($(haproxy -v | head -1 | cut -d' ' -f1-3))"
  else
    fail "haproxy -c deploy/compose/haproxy.cfg" "$TMP/haproxy.out"
  fi
else
  skip "ingress config validation" "haproxy is not installed (apt-get install haproxy)"
fi

if command -v promtool >/dev/null; then
  # No engine here, so the compose network's names do not resolve: promtool checks the file's
  # syntax and semantics; the dashboard's queries are checked as PromQL by wrapping each one in a
  # recording rule.
  if promtool check config --syntax-only deploy/compose/prometheus.yml >"$TMP/promtool.out" 2>&1; then
    ok "promtool check config deploy/compose/prometheus.yml"
  else
    fail "promtool check config" "$TMP/promtool.out"
  fi
  node -e '
    const d = require(process.argv[1]);
    const exprs = d.panels.flatMap((p) => (p.targets || []).map((t) => t.expr));
    const rules = exprs.map((e, i) => `      - record: dashboard:query_${i}\n        expr: ${JSON.stringify(e)}`);
    console.log("groups:\n  - name: dashboard\n    rules:\n" + rules.join("\n"));
  ' "$ROOT/deploy/compose/grafana/dashboards/fleetgate.json" >"$TMP/dashboard-rules.yml"
  if promtool check rules "$TMP/dashboard-rules.yml" >"$TMP/promtool-rules.out" 2>&1; then
    ok "promtool: every query of the Grafana dashboard is valid PromQL ($(grep -c 'record:' "$TMP/dashboard-rules.yml") queries)"
  else
    fail "promtool check rules (the dashboard's queries)" "$TMP/promtool-rules.out"
  fi
else
  skip "Prometheus config and dashboard PromQL" "promtool is not installed (Debian package prometheus)"
fi

echo "== kubernetes"
rendered=()
render=()
if command -v kubectl >/dev/null; then
  render=(kubectl kustomize deploy/k8s)
elif command -v kustomize >/dev/null; then
  render=(kustomize build deploy/k8s)
fi
if [ ${#render[@]} -gt 0 ]; then
  if "${render[@]}" >"$TMP/rendered.yaml" 2>"$TMP/render.err"; then
    ok "${render[*]} renders $(grep -c '^kind:' "$TMP/rendered.yaml") objects"
    rendered=(--rendered "$TMP/rendered.yaml")
  else
    fail "${render[*]}" "$TMP/render.err"
  fi
  overlay=("${render[@]}")
  overlay[${#overlay[@]}-1]=deploy/overlays/servicemonitor
  if "${overlay[@]}" >"$TMP/overlay.yaml" 2>"$TMP/overlay.err"; then
    ok "${overlay[*]} renders $(grep -c '^kind:' "$TMP/overlay.yaml") objects (the base + a ServiceMonitor)"
    rendered+=(--overlay "servicemonitor=$TMP/overlay.yaml")
  else
    fail "${overlay[*]}" "$TMP/overlay.err"
  fi
  # Schema validation needs kubeconform (and its schemas) or an API server: even
  # `kubectl apply --dry-run=client` asks the server for its resource types.
  if command -v kubeconform >/dev/null; then
    if kubeconform -strict -summary -ignore-missing-schemas "$TMP/rendered.yaml" >"$TMP/kubeconform.out" 2>&1; then
      ok "kubeconform -strict (schemas of the Kubernetes API)"
    else
      fail "kubeconform" "$TMP/kubeconform.out"
    fi
  else
    skip "kubeconform -strict" "not installed; check-manifests.mjs validates the rendered objects against the API schemas (kubernetes-models), which does not flag unknown fields"
  fi
else
  skip "kustomize build" "neither kubectl nor kustomize is installed; checking the raw resource files"
fi

echo "== Dockerfile"
if command -v hadolint >/dev/null; then
  if hadolint Dockerfile >"$TMP/hadolint.out" 2>&1; then
    ok "hadolint Dockerfile"
  else
    fail "hadolint Dockerfile" "$TMP/hadolint.out"
  fi
else
  skip "hadolint" "not installed (check-manifests.mjs checks the Dockerfile's key instructions)"
fi
skip "docker build" "no Docker engine here"

echo "== invariants and configs (deploy/check-manifests.mjs)"
node deploy/check-manifests.mjs ${rendered[@]+"${rendered[@]}"}

echo
echo "checked: ${#checked[@]} tool checks + check-manifests.mjs; skipped: ${#skipped[@]}"
for s in ${skipped[@]+"${skipped[@]}"}; do echo "  skipped: $s"; done
