#!/usr/bin/env bash
# Builds the control-plane binaries the e2e cluster runs, once per version, into a cache outside the
# checkout. k8s.io/kubernetes cannot be `go install`ed directly: it requires its staging modules at
# v0.0.0 with local replaces, so a throwaway module pins each staging module to the matching v0.x.y tag.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

log() { printf '[build %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

build_kubernetes() {
  local out="$K8S_BIN_DIR"
  local want=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
  local missing=()
  for b in "${want[@]}"; do [ -x "$out/$b" ] || missing+=("$b"); done
  if [ ${#missing[@]} -eq 0 ]; then log "kubernetes $K8S_VERSION cached in $out"; return; fi

  local work="$TOLLGATE_CACHE/build/kubernetes-$K8S_VERSION"
  mkdir -p "$work" "$out"
  log "kubernetes $K8S_VERSION: resolving staging modules"
  local gomod
  gomod=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  local minor_patch=${K8S_VERSION#v1.}
  {
    echo "module tollgate.local/kubernetes-build"
    echo
    echo "go 1.24.0"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n '/^replace (/,/^)/p' "$gomod" | grep -oE 'k8s\.io/[a-z0-9-]+ => \./staging' | awk '{print $1}' |
      while read -r m; do printf '\t%s => %s v0.%s\n' "$m" "$m" "$minor_patch"; done
    echo ")"
  } >"$work/go.mod"
  cat >"$work/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
  (cd "$work" && go mod tidy -e >/dev/null 2>&1 || true)
  (cd "$work" && GOFLAGS=-mod=mod go get "k8s.io/kubernetes@$K8S_VERSION" >/dev/null)
  local minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  for b in "${missing[@]}"; do
    log "kubernetes $K8S_VERSION: building $b"
    local t0=$SECONDS
    (cd "$work" && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -tags selinux,notest \
      -ldflags "$ldflags" -o "$out/$b.tmp" "k8s.io/kubernetes/cmd/$b")
    mv "$out/$b.tmp" "$out/$b"
    log "kubernetes $K8S_VERSION: built $b in $((SECONDS - t0))s"
  done
}

build_kwok() {
  if [ -x "$KWOK_BIN_DIR/kwok" ]; then log "kwok $KWOK_VERSION cached in $KWOK_BIN_DIR"; return; fi
  mkdir -p "$KWOK_BIN_DIR"
  log "kwok $KWOK_VERSION: building"
  local t0=$SECONDS
  GOBIN="$KWOK_BIN_DIR" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  log "kwok $KWOK_VERSION: built in $((SECONDS - t0))s"
}

build_helm() {
  if [ -x "$HELM_BIN_DIR/helm" ]; then log "helm $HELM_VERSION cached in $HELM_BIN_DIR"; return; fi
  mkdir -p "$HELM_BIN_DIR"
  log "helm $HELM_VERSION: building"
  local t0=$SECONDS
  # What helm's own release build sets: its version, and the Kubernetes version it assumes when no
  # cluster is asked (helm template, helm lint), read from the client-go it is built with. Without them a
  # chart's kubeVersion constraint is checked against Kubernetes 1.20.
  local gomod minor
  gomod=$(cd /tmp && go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  minor=$(sed -n 's/^\s*k8s.io\/client-go v0\.\([0-9]*\)\..*/\1/p' "$gomod" | head -n1)
  [ -n "$minor" ] || { log "cannot read helm's client-go version from $gomod"; exit 1; }
  local ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  local pkg
  for pkg in pkg/lint/rules pkg/chartutil; do
    ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$minor"
  done
  GOBIN="$HELM_BIN_DIR" CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm $HELM_VERSION: built in $((SECONDS - t0))s"
}

case "${1:-all}" in
  kubernetes) build_kubernetes ;;
  kwok) build_kwok ;;
  helm) build_helm ;;
  all) build_kubernetes; build_kwok; build_helm ;;
  *) echo "usage: $0 [all|kubernetes|kwok|helm]" >&2; exit 2 ;;
esac
