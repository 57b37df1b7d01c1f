#!/usr/bin/env bash
# A real Kubernetes control plane on loopback, without Docker: etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kwok (fake nodes, so Pods become Ready) and Prometheus.
#
#   cluster.sh up       build what is missing, start what is not running (idempotent)
#   cluster.sh down     stop everything and drop the cluster's data
#   cluster.sh status   what runs, and where
#   cluster.sh stop C   stop one component (tests use it for outages); `up` starts it again
#   cluster.sh start C  start one stopped component again, and wait until it is ready
#
# After `up`, e2e/.run/env sets KUBECONFIG, KUBECTL, HELM, PROMETHEUS_URL, PROMETHEUS_TARGETS_DIR and
# PROMETHEUS_RULES_DIR. With TOLLGATE_CLUSTER=kind the API server comes from a kind cluster instead
# (for machines with Docker); everything else, and the env file, stay the same.
#
# The API server writes an audit log of writes to the objects Tollgate reads and writes (see
# write_audit_policy) to e2e/.run/audit/audit.log, for the soak's invariant checker (e2e/soak/);
# TOLLGATE_AUDIT_LOG=0 turns it off.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=versions.sh
. "$here/versions.sh"

RUN_DIR=${TOLLGATE_RUN_DIR:-$root/e2e/.run}
MODE=${TOLLGATE_CLUSTER:-local}
# Data on tmpfs: etcd fsyncs on every write, and the cluster is disposable anyway.
if [ -z "${TOLLGATE_DATA_DIR:-}" ]; then
  if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    TOLLGATE_DATA_DIR=/dev/shm/tollgate-$(printf '%s' "$root" | cksum | cut -d' ' -f1)
  else
    TOLLGATE_DATA_DIR=$RUN_DIR/data
  fi
fi
DATA_DIR=$TOLLGATE_DATA_DIR

PORT_BASE=${TOLLGATE_PORT_BASE:-26000}
ETCD_PORT=$((PORT_BASE + 379))
ETCD_PEER_PORT=$((PORT_BASE + 380))
APISERVER_PORT=$((PORT_BASE + 443))
KCM_PORT=$((PORT_BASE + 257))
SCHEDULER_PORT=$((PORT_BASE + 259))
KWOK_PORT=$((PORT_BASE + 247))
PROMETHEUS_PORT=$((PORT_BASE + 90))

PKI=$RUN_DIR/pki
LOGS=$RUN_DIR/logs
PIDS=$RUN_DIR/pids
KUBECONFIG_FILE=$RUN_DIR/kubeconfig
TARGETS_DIR=$RUN_DIR/prometheus/targets
RULES_DIR=$RUN_DIR/prometheus/rules
ENV_FILE=$RUN_DIR/env
KUBECTL_BIN=$K8S_BIN_DIR/kubectl
NODE_NAME=kwok-node-0
AUDIT_DIR=$RUN_DIR/audit

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

kubectl() { "$KUBECTL_BIN" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

pid_of() { [ -f "$PIDS/$1.pid" ] && cat "$PIDS/$1.pid" || true; }
running() {
  local pid
  pid=$(pid_of "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Starts a component in its own session, so `down` can stop it and everything it spawned.
# start NAME PORT COMMAND...: refuses to start when another process holds the port (another checkout's
# cluster, say), rather than waiting on a health check that someone else's server would answer.
start() {
  local name=$1 port=$2; shift 2
  if running "$name"; then log "$name already running (pid $(pid_of "$name"))"; return; fi
  if port_in_use "$port"; then
    die "port $port for $name is taken by another process; stop it or choose other ports with TOLLGATE_PORT_BASE"
  fi
  mkdir -p "$LOGS" "$PIDS"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
  log "$name started (pid $!, log $LOGS/$name.log)"
}

stop() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    log "$name stopped"
  fi
  rm -f "$PIDS/$name.pid"
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND until it succeeds; on timeout shows the log's tail.
wait_for() {
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -f "$PIDS/$name.pid" ] && ! running "$name"; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name exited during start-up (log: $LOGS/$name.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 30 "$LOGS/$name.log" >&2 || true
      die "$name not ready after ${timeout}s (log: $LOGS/$name.log)"
    fi
    sleep 0.3
  done
}

ensure_packages() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v promtool >/dev/null || missing+=(prometheus)
  command -v openssl >/dev/null || missing+=(openssl)
  command -v curl >/dev/null || missing+=(curl)
  command -v setsid >/dev/null || missing+=(util-linux)
  [ ${#missing[@]} -eq 0 ] && return
  [ "$(id -u)" -eq 0 ] || die "missing packages ${missing[*]}: run 'apt-get install ${missing[*]}' as root"
  log "installing ${missing[*]} from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian's packages start their services where an init system runs; this cluster runs its own.
  pkill -x etcd 2>/dev/null || true
  pkill -x prometheus 2>/dev/null || true
}

ensure_pki() {
  [ -f "$PKI/serving.crt" ] && [ -f "$PKI/sa.key" ] && [ -f "$PKI/tokens.csv" ] && return
  mkdir -p "$PKI"
  log "generating certificates, service-account keys and the admin token"
  (
    cd "$PKI"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=tollgate-e2e-ca" \
      -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" -keyout serving.key -out serving.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n' >serving.ext
    openssl x509 -req -in serving.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile serving.ext -out serving.crt 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    token=$(openssl rand -hex 24)
    # A single admin in system:masters: the simplest credential that RBAC lets do everything.
    printf '%s,tollgate-admin,tollgate-admin,"system:masters"\n' "$token" >tokens.csv
    chmod 600 ./*.key tokens.csv
  )
}

admin_token() { cut -d, -f1 "$PKI/tokens.csv"; }

write_kubeconfig() {
  local ca
  ca=$(base64 -w0 <"$PKI/ca.crt")
  cat >"$KUBECONFIG_FILE" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: tollgate-e2e
  cluster:
    server: https://127.0.0.1:$APISERVER_PORT
    certificate-authority-data: $ca
users:
- name: tollgate-admin
  user:
    token: $(admin_token)
contexts:
- name: tollgate-e2e
  context: {cluster: tollgate-e2e, user: tollgate-admin}
current-context: tollgate-e2e
EOF
  chmod 600 "$KUBECONFIG_FILE"
}

apiserver_ready() {
  curl -sf --cacert "$PKI/ca.crt" -H "Authorization: Bearer $(admin_token)" \
    "https://127.0.0.1:$APISERVER_PORT/readyz" | grep -q '^ok$'
}

start_etcd() {
  mkdir -p "$DATA_DIR/etcd"
  start etcd $ETCD_PORT etcd --name tollgate-e2e --data-dir "$DATA_DIR/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "tollgate-e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync --quota-backend-bytes 4294967296 --log-level warn
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

# The audit log: who wrote what, when, as the API server saw it. Writes only (create, update, patch,
# delete; never a read or a watch), and only to Deployments, profiles and their status, the Istio
# objects, HPAs and Leases (with the object written: RequestResponse, managedFields left out), and the
# Events service accounts create. The control plane's own chatter (status subresources, ReplicaSets,
# Pods, Nodes, kube-system and node leases) is not logged. Rotated at 100 MB, five files kept.
write_audit_policy() {
  mkdir -p "$AUDIT_DIR"
  cat >"$RUN_DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
omitManagedFields: true
rules:
  - level: None
    verbs: [get, list, watch]
  - level: None
    namespaces: [kube-system, kube-node-lease]
  - level: None
    resources:
      - {group: apps, resources: [deployments/status, replicasets, replicasets/status]}
      - {group: autoscaling, resources: [horizontalpodautoscalers/status]}
  - level: RequestResponse
    verbs: [create, update, patch, delete]
    resources:
      - {group: apps, resources: [deployments, deployments/scale]}
      - {group: tollgate.dev, resources: [performanceprofiles, performanceprofiles/status]}
      - {group: networking.istio.io, resources: [virtualservices, destinationrules]}
      - {group: autoscaling, resources: [horizontalpodautoscalers]}
      - {group: coordination.k8s.io, resources: [leases]}
  - level: Request
    verbs: [create, update, patch]
    userGroups: [system:serviceaccounts]
    resources:
      - {group: "", resources: [events]}
  - level: None
EOF
}

audit_flags() {
  [ "${TOLLGATE_AUDIT_LOG:-1}" = 0 ] && return
  write_audit_policy
  printf '%s\n' --audit-policy-file="$RUN_DIR/audit-policy.yaml" --audit-log-path="$AUDIT_DIR/audit.log" \
    --audit-log-format=json --audit-log-maxsize=100 --audit-log-maxbackup=5
}

# WatchList=false: streamed lists need etcd progress notifications, which Debian's etcd 3.4 cannot give;
# clients that ask for them (kwok's newer client-go) then retry for tens of seconds before each event.
# With the feature off, the server says so and they fall back to plain list and watch.
start_apiserver() {
  local audit
  mapfile -t audit < <(audit_flags)
  start kube-apiserver $APISERVER_PORT "$K8S_BIN_DIR/kube-apiserver" \
    --advertise-address=127.0.0.1 --bind-address=127.0.0.1 --secure-port="$APISERVER_PORT" \
    --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
    --tls-cert-file="$PKI/serving.crt" --tls-private-key-file="$PKI/serving.key" --client-ca-file="$PKI/ca.crt" \
    --requestheader-client-ca-file="$PKI/ca.crt" \
    --token-auth-file="$PKI/tokens.csv" --authorization-mode=RBAC \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$PKI/sa.pub" --service-account-signing-key-file="$PKI/sa.key" \
    --service-cluster-ip-range=10.0.0.0/24 --allow-privileged=true \
    --enable-priority-and-fairness=false --profiling=false --v=1 \
    --feature-gates=WatchList=false "${audit[@]}"
  wait_for kube-apiserver 90 apiserver_ready
}

start_controller_manager() {
  start kube-controller-manager $KCM_PORT "$K8S_BIN_DIR/kube-controller-manager" \
    --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=127.0.0.1 --secure-port="$KCM_PORT" --leader-elect=false \
    --controllers='*,-nodeipam,-bootstrap-signer-controller,-token-cleaner-controller' \
    --service-account-private-key-file="$PKI/sa.key" --root-ca-file="$PKI/ca.crt" \
    --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
    --use-service-account-credentials=false --concurrent-deployment-syncs=10 --concurrent-replicaset-syncs=10 \
    --horizontal-pod-autoscaler-sync-period=5s --profiling=false --v=1
  wait_for kube-controller-manager 60 curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
}

start_scheduler() {
  start kube-scheduler $SCHEDULER_PORT "$K8S_BIN_DIR/kube-scheduler" \
    --kubeconfig="$KUBECONFIG_FILE" --authentication-kubeconfig="$KUBECONFIG_FILE" \
    --authorization-kubeconfig="$KUBECONFIG_FILE" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --leader-elect=false --profiling=false --v=1
  wait_for kube-scheduler 60 curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz"
}

node_ready() {
  kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' | grep -q True
}

# kwok's own "fast" stages (nodes Ready at once with lease heartbeats, pods Ready once scheduled), read
# from the pinned kwok module the build downloaded.
write_kwok_stages() {
  local src
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  [ -d "$src" ] || (cd /tmp && go mod download "sigs.k8s.io/kwok@$KWOK_VERSION")
  local f first=1
  : >"$RUN_DIR/kwok-stages.yaml"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
    [ -f "$src/$f" ] || die "kwok stage $f not found under $src"
    [ $first -eq 1 ] || echo "---" >>"$RUN_DIR/kwok-stages.yaml"
    cat "$src/$f" >>"$RUN_DIR/kwok-stages.yaml"
    first=0
  done
}

start_kwok() {
  write_kwok_stages
  start kwok "$KWOK_PORT" "$KWOK_BIN_DIR/kwok" --kubeconfig="$KUBECONFIG_FILE" --config="$RUN_DIR/kwok-stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake \
    --cidr=10.244.0.0/16 --node-ip=127.0.0.1 --node-lease-duration-seconds=40 \
    --server-address="127.0.0.1:$KWOK_PORT"
  # A node with room for every test's pods; kwok marks it Ready and runs whatever is scheduled onto it.
  kubectl apply --server-side --field-manager=tollgate-e2e -f - >/dev/null <<EOF
apiVersion: v1
kind: Node
metadata:
  name: $NODE_NAME
  annotations:
    kwok.x-k8s.io/node: fake
    node.alpha.kubernetes.io/ttl: "0"
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/hostname: $NODE_NAME
    kubernetes.io/os: linux
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: ""
    type: kwok
status:
  allocatable: {cpu: "64", memory: 256Gi, pods: "500"}
  capacity: {cpu: "64", memory: 256Gi, pods: "500"}
EOF
  wait_for kwok 60 node_ready
}

# module_dir MODULE@VERSION: where the Go module cache holds that module, downloading it on first use.
module_dir() {
  local dir
  dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "could not download Go module $1 (go mod download -json $1)"
  printf '%s\n' "$dir"
}

# The CRDs of the APIs Tollgate writes besides its own, exactly as their projects publish them: Istio's
# (the VirtualService and DestinationRule of canaries and traffic policy) and prometheus-operator's
# (PrometheusRule for recording rules; ServiceMonitor and PodMonitor for the chart's monitors).
install_crds() {
  local istio prom files=() f
  istio=$(module_dir "istio.io/api@$ISTIO_API_VERSION")
  prom=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
  files+=("$istio/kubernetes/customresourcedefinitions.gen.yaml")
  for f in prometheusrules servicemonitors podmonitors; do
    files+=("$prom/example/prometheus-operator-crd/monitoring.coreos.com_$f.yaml")
  done
  for f in "${files[@]}"; do
    [ -f "$f" ] || die "CRD file $f not found"
    kubectl apply --server-side --force-conflicts --field-manager=tollgate-e2e -f "$f" >/dev/null
    log "applied ${f#"$(go env GOMODCACHE)/"}"
  done
  # kubectl wait fails outright on a CRD whose status has no conditions yet, as a just-created one may.
  local deadline=$((SECONDS + 60))
  until kubectl wait --for=condition=Established --timeout=60s crd --all >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "CRDs not Established within 60 s"
    sleep 1
  done
}

write_prometheus_config() {
  mkdir -p "$TARGETS_DIR" "$RULES_DIR" "$DATA_DIR/prometheus"
  cat >"$RUN_DIR/prometheus/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES_DIR/*.yaml
  - $RULES_DIR/*.yml
scrape_configs:
  # Any process becomes a target by dropping a file_sd JSON file into the targets directory.
  - job_name: file-sd
    honor_labels: true
    file_sd_configs:
      - files: ['$TARGETS_DIR/*.json']
        refresh_interval: 1s
EOF
}

start_prometheus() {
  write_prometheus_config
  start prometheus $PROMETHEUS_PORT prometheus --config.file="$RUN_DIR/prometheus/prometheus.yml" \
    --storage.tsdb.path="$DATA_DIR/prometheus" --storage.tsdb.retention.time=1d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle --web.enable-admin-api \
    --log.level=warn
  wait_for prometheus 60 curl -sf "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"
}

write_env() {
  cat >"$ENV_FILE" <<EOF
# Written by e2e/cluster/cluster.sh up; source it to talk to the e2e cluster.
export KUBECONFIG=$KUBECONFIG_FILE
export KUBECTL=$KUBECTL_BIN
export PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
export PROMETHEUS_TARGETS_DIR=$TARGETS_DIR
export PROMETHEUS_RULES_DIR=$RULES_DIR
export HELM=$HELM_BIN_DIR/helm
export TOLLGATE_CLUSTER_MODE=$MODE
EOF
}

up_local() {
  bash "$here/build.sh" all
  ensure_pki
  write_kubeconfig
  start_etcd
  start_apiserver
  start_controller_manager
  start_scheduler
  start_kwok
}

up_kind() {
  command -v kind >/dev/null || die "TOLLGATE_CLUSTER=kind needs kind on the PATH"
  [ -x "$KUBECTL_BIN" ] || KUBECTL_BIN=$(command -v kubectl) || die "kind mode needs kubectl"
  bash "$here/build.sh" helm
  if ! kind get clusters 2>/dev/null | grep -qx tollgate-e2e; then
    kind create cluster --name tollgate-e2e --wait 120s
  fi
  mkdir -p "$RUN_DIR"
  kind get kubeconfig --name tollgate-e2e >"$KUBECONFIG_FILE"
}

cmd_up() {
  local t0=$SECONDS
  mkdir -p "$RUN_DIR" "$LOGS" "$PIDS"
  ensure_packages
  case "$MODE" in
    local) up_local ;;
    kind) up_kind ;;
    *) die "TOLLGATE_CLUSTER must be local or kind, not $MODE" ;;
  esac
  install_crds
  start_prometheus
  write_env
  log "cluster up in $((SECONDS - t0))s: source $ENV_FILE"
}

cmd_down() {
  local name
  for name in prometheus kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do stop "$name"; done
  if [ "$MODE" = kind ] && command -v kind >/dev/null; then kind delete cluster --name tollgate-e2e || true; fi
  rm -rf "$DATA_DIR" "$ENV_FILE" "$AUDIT_DIR"
  log "cluster down"
}

cmd_status() {
  local name state rc=0
  for name in etcd kube-apiserver kube-controller-manager kube-scheduler kwok prometheus; do
    if running "$name"; then state="running (pid $(pid_of "$name"))"; else state="stopped"; rc=1; fi
    printf '%-24s %s\n' "$name" "$state"
  done
  [ -f "$ENV_FILE" ] && { echo; cat "$ENV_FILE"; }
  return $rc
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  stop)
    case "${2:-}" in
      etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kwok | prometheus) stop "$2" ;;
      *) echo "usage: $0 stop etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|prometheus" >&2; exit 2 ;;
    esac
    ;;
  start)
    [ "$MODE" = local ] || die "start COMPONENT needs the local cluster"
    [ -f "$PKI/tokens.csv" ] || die "no cluster to start ${2:-} in: run '$0 up' first"
    case "${2:-}" in
      etcd) start_etcd ;;
      kube-apiserver) start_apiserver ;;
      kube-controller-manager) start_controller_manager ;;
      kube-scheduler) start_scheduler ;;
      kwok) start_kwok ;;
      prometheus) start_prometheus ;;
      *) echo "usage: $0 start etcd|kube-apiserver|kube-controller-manager|kube-scheduler|kwok|prometheus" >&2; exit 2 ;;
    esac
    ;;
  *) echo "usage: $0 up|down|status|stop|start COMPONENT" >&2; exit 2 ;;
esac
