# Pinned versions of everything the e2e cluster runs, and where their builds are cached.
# Kubernetes stays at 1.34: newer releases need etcd >= 3.5, and Debian ships 3.4.
K8S_VERSION=${K8S_VERSION:-v1.34.4}
KWOK_VERSION=${KWOK_VERSION:-v0.8.0}
# The CRDs of Istio's and prometheus-operator's APIs come from these Go modules' own files.
ISTIO_API_VERSION=${ISTIO_API_VERSION:-v1.30.8}
PROMETHEUS_OPERATOR_VERSION=${PROMETHEUS_OPERATOR_VERSION:-v0.93.0}
HELM_VERSION=${HELM_VERSION:-v3.22.0}
TOLLGATE_CACHE=${TOLLGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tollgate}
K8S_BIN_DIR="$TOLLGATE_CACHE/bin/kubernetes-$K8S_VERSION"
KWOK_BIN_DIR="$TOLLGATE_CACHE/bin/kwok-$KWOK_VERSION"
HELM_BIN_DIR="$TOLLGATE_CACHE/bin/helm-$HELM_VERSION"
