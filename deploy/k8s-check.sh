#!/usr/bin/env bash
# Validates the deployment files without a cluster (CI step "deploy manifests"):
#   1. yamllint on k8s/ and deploy/compose.yaml;
#   2. renders every overlay in k8s/overlays/ with kustomize;
#   3. validates each rendered object against the Kubernetes OpenAPI schemas (kubernetes-validate,
#      --strict: unknown fields fail); CRDs (ExternalSecret, ServiceMonitor, PrometheusRule) have no
#      bundled schema and are only checked for shape by kustomize;
#   4. runs the checkov security checks on each rendered overlay (skips listed below, with why),
#      and makes sure both checkers reject a deliberately bad Deployment;
#   5. checks the PrometheusRule expressions with promtool, when it can be installed;
#   6. `docker compose config` on deploy/compose.yaml, when a compose CLI is present.
# Tools are pinned and installed when missing: the Python ones in a venv under ~/.cache, promtool
# from Debian's prometheus package. The renderer is `kubectl kustomize` or `kustomize` on PATH,
# else `go install` of the pinned kustomize.
#
# Settings: JOSH_K8S_VERSION  Kubernetes version to validate against (default 1.31.0)
#           JOSH_K8S_CHECK_VENV  the tools' venv (default ~/.cache/josh-k8s-check-<pins>)
set -euo pipefail

# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$JOSH_ROOT"

KUBERNETES_VALIDATE_VERSION=1.37.0
CHECKOV_VERSION=3.3.30
YAMLLINT_VERSION=1.38.0
KUSTOMIZE_VERSION=v5.5.0
K8S_VERSION="${JOSH_K8S_VERSION:-1.31.0}"
PINS="kv$KUBERNETES_VALIDATE_VERSION-ck$CHECKOV_VERSION-yl$YAMLLINT_VERSION"
VENV="${JOSH_K8S_CHECK_VENV:-${HOME:-/tmp}/.cache/josh-k8s-check-$PINS}"

# checkov checks JOSH deliberately does not follow:
#   CKV_K8S_35 secrets as env vars: the services take their configuration, secrets included, from
#              environment variables (docs/design "Interfaces") and hold them in secrecy types.
#   CKV_K8S_43 image digests: releases pin the digest in the overlay (`kustomize edit set image`);
#              the committed overlays carry a tag because no image is published from here.
#   CKV_K8S_15 imagePullPolicy Always: tags are immutable releases (digests in prod), so
#              IfNotPresent is correct and spares the registry.
CHECKOV_SKIPS="CKV_K8S_35,CKV_K8S_43,CKV_K8S_15"

ensure_venv() {
    if [[ -x "$VENV/bin/kubernetes-validate" && -x "$VENV/bin/checkov" && -x "$VENV/bin/yamllint" ]]; then
        return 0
    fi
    command -v python3 >/dev/null 2>&1 || josh_apt_install python3 python3-venv
    josh_info "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION, checkov $CHECKOV_VERSION, yamllint $YAMLLINT_VERSION into $VENV"
    python3 -m venv "$VENV" || josh_die "python3 -m venv failed (install python3-venv)"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION" "checkov==$CHECKOV_VERSION" \
        "yamllint==$YAMLLINT_VERSION" || josh_die "pip install of the manifest checkers failed"
}

# Sets RENDER to a command that renders a kustomization directory.
ensure_renderer() {
    if command -v kustomize >/dev/null 2>&1; then
        RENDER=(kustomize build)
    elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
        RENDER=(kubectl kustomize)
    elif command -v go >/dev/null 2>&1; then
        josh_info "installing kustomize $KUSTOMIZE_VERSION with go install"
        GOBIN="$VENV/bin" go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" ||
            josh_die "go install kustomize failed (it needs Go 1.22+)"
        RENDER=("$VENV/bin/kustomize" build)
    else
        josh_die "no kustomize renderer: install kubectl or kustomize (or Go 1.22+ to build it)"
    fi
    josh_info "renderer: ${RENDER[*]}"
}

lint_yaml() {
    "$VENV/bin/yamllint" -s -d '{extends: default, rules: {line-length: {max: 180}, document-start: disable,
        truthy: {check-keys: false}, comments: {min-spaces-from-content: 1}, indentation: {indent-sequences: whatever}}}' \
        k8s deploy/compose.yaml
}

# Renders every overlay into $out/<overlay>.yaml. The dev overlay's secret files are gitignored,
# so the overlays are rendered from a copy in which gen-secrets.sh made throwaway ones.
render_overlays() {
    local out="$1" copy overlay name
    copy="$out/src"
    mkdir -p "$copy"
    cp -r k8s "$copy/"
    rm -rf "$copy/k8s/overlays/dev/secrets"
    "$copy/k8s/overlays/dev/gen-secrets.sh" >/dev/null
    for overlay in "$copy"/k8s/overlays/*/; do
        name="$(basename "$overlay")"
        "${RENDER[@]}" "$overlay" >"$out/$name.yaml" || josh_die "rendering overlay $name failed"
        josh_info "rendered $name: $(grep -c '^kind:' "$out/$name.yaml") objects"
    done
}

validate_schemas() {
    local file="$1" report
    report="$("$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" --quiet "$file" 2>&1)" || {
        printf '%s\n' "$report" >&2
        josh_die "$(basename "$file") does not validate against Kubernetes $K8S_VERSION"
    }
    # Warnings name only the CRD kinds; anything else missing a schema is an error.
    if grep -v -E "kind (ExternalSecret|ServiceMonitor|PrometheusRule|PodMonitor) " <<<"$report" | grep -q .; then
        printf '%s\n' "$report" >&2
        josh_die "$(basename "$file"): unexpected schema warnings"
    fi
    josh_info "$(basename "$file"): every object validates against Kubernetes $K8S_VERSION (CRDs excepted)"
}

security_check() {
    local file="$1"
    "$VENV/bin/checkov" -f "$file" --framework kubernetes --skip-check "$CHECKOV_SKIPS" \
        --compact --quiet --skip-download ||
        josh_die "$(basename "$file") fails checkov's Kubernetes checks"
    josh_info "$(basename "$file"): checkov passed (skipped: $CHECKOV_SKIPS)"
}

# A negative control: a Deployment with a misspelt field and a writable, root, privileged
# container must fail both checkers, or they are not really checking anything.
checkers_catch_a_bad_manifest() {
    local bad="$1/bad.yaml"
    cat >"$bad" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: bad}}
  template:
    metadata: {labels: {app: bad}}
    spec:
      containers:
        - name: bad
          image: bad:latest
          imagePullPolicy: Always
          securityContext: {privileged: true, readOnlyRootFilesystem: false}
          livenessProbe: {httpGet: {path: /, port: 80}, failureThresold: 3}
YAML
    if "$VENV/bin/kubernetes-validate" --strict -k "$K8S_VERSION" --quiet "$bad" >/dev/null 2>&1; then
        josh_die "kubernetes-validate accepted a manifest with an unknown field"
    fi
    if "$VENV/bin/checkov" -f "$bad" --framework kubernetes --skip-check "$CHECKOV_SKIPS" \
        --quiet --skip-download >/dev/null 2>&1; then
        josh_die "checkov accepted a privileged container with a writable root filesystem"
    fi
    josh_info "negative control: both checkers reject a bad Deployment"
}

check_alert_rules() {
    local out="$1"
    if ! command -v promtool >/dev/null 2>&1; then
        josh_apt_install prometheus || true
    fi
    if ! command -v promtool >/dev/null 2>&1; then
        josh_warn "promtool unavailable: alert expressions not checked"
        return 0
    fi
    # The PrometheusRule's spec is a plain Prometheus rule file.
    "$VENV/bin/python" - "k8s/components/monitoring/prometheusrule.yaml" "$out/rules.yaml" <<'PY'
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
yaml.safe_dump(doc["spec"], open(sys.argv[2], "w"))
PY
    promtool check rules "$out/rules.yaml" || josh_die "promtool rejects the alert rules"
    josh_info "alert rules: promtool ok"
}

check_compose() {
    local env_file="$1/compose.env" cli=()
    printf 'JOSH_DEV_DB_PASSWORD=ci-only\n' >"$env_file"
    if docker compose version >/dev/null 2>&1; then
        cli=(docker compose)
    elif command -v docker-compose >/dev/null 2>&1; then
        cli=(docker-compose)
    else
        josh_warn "no docker compose CLI: deploy/compose.yaml checked by yamllint only"
        return 0
    fi
    # env_file entries must exist for `config`; point them at a throwaway copy.
    mkdir -p "$1/deploy" "$1/.dev"
    cp deploy/compose.yaml "$1/deploy/"
    cp -r deploy/compose "$1/deploy/"
    cp "$env_file" "$1/.dev/secrets.env"
    "${cli[@]}" --env-file "$env_file" -f "$1/deploy/compose.yaml" config -q ||
        josh_die "${cli[*]} config rejects deploy/compose.yaml"
    josh_info "deploy/compose.yaml: ${cli[*]} config ok"
}

main() {
    ensure_venv
    ensure_renderer
    CHECK_DIR="$(mktemp -d)"
    trap 'rm -rf "$CHECK_DIR"' EXIT
    local out="$CHECK_DIR"
    lint_yaml
    josh_info "yamllint ok"
    render_overlays "$out"
    local file
    for file in "$out"/*.yaml; do
        validate_schemas "$file"
        security_check "$file"
    done
    checkers_catch_a_bad_manifest "$out"
    check_alert_rules "$out"
    check_compose "$out"
}

main "$@"
