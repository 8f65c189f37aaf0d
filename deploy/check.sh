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
for tool in docker docker-compose kubectl kustomize hadolint node; do
  printf '      %-15s %s\n' "$tool" "$(command -v "$tool" || echo '-')"
done

echo "== shell"
bash -n deploy/check.sh && ok "deploy/check.sh parses (bash -n)"

echo "== compose"
compose=()
if command -v docker >/dev/null && docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null && docker-compose version >/dev/null 2>&1; then
  compose=(docker-compose)
fi
if [ ${#compose[@]} -gt 0 ]; then
  # `config` resolves and validates the file (schema, anchors, interpolation) without an engine.
  if "${compose[@]}" -f "$COMPOSE_FILE" config -q >"$TMP/compose.out" 2>&1; then
    ok "${compose[*]} -f $COMPOSE_FILE config -q"
  else
    fail "${compose[*]} config" "$TMP/compose.out"
  fi
else
  skip "compose schema validation" "neither 'docker compose' (plugin) nor 'docker-compose' is installed"
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
  # Schema validation needs kubeconform (and its schemas) or an API server: even
  # `kubectl apply --dry-run=client` asks the server for its resource types.
  if command -v kubeconform >/dev/null; then
    if kubeconform -strict -summary -ignore-missing-schemas "$TMP/rendered.yaml" >"$TMP/kubeconform.out" 2>&1; then
      ok "kubeconform -strict (schemas of the Kubernetes API)"
    else
      fail "kubeconform" "$TMP/kubeconform.out"
    fi
  else
    skip "Kubernetes schema validation" "no kubeconform, and kubectl --dry-run needs a cluster"
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
