#!/usr/bin/env bash
# The kind path, for users with Docker: the images, the whole stack on a local kind cluster, its
# UIs through port-forwards, and the end-to-end suite. The Makefile's targets only call this:
#
#   scripts/kind.sh preflight TARGET   stop at once, saying what to run instead, without Docker
#   scripts/kind.sh images             build the four images with the tags the charts default to
#   scripts/kind.sh up                 cluster (if absent), images, kind load, install, rollouts
#   scripts/kind.sh install            the install commands alone (fdc-stack's README quotes them)
#   scripts/kind.sh forward NAME       port-forward grafana, prometheus or alertmanager
#   scripts/kind.sh load [ARGS]        `make load` into the cluster's apps, through port-forwards
#   scripts/kind.sh e2e                up, the Discord stand-in's image, then pytest tests/e2e
#   scripts/kind.sh down               delete the cluster
#
# IMAGE_UV_VERSION (the Makefile's UV_VERSION, the one pin of uv) is passed to every build.
# DISCORD_WEBHOOK_URL, when set, is where the relay posts; without it the relay is a log sink.
# HELM=helm3 runs every helm command below with helm v3 (the e2e workflow's matrix).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

CLUSTER_CONFIG=manifests/kind/cluster.yaml
CLUSTER=$(sed -n 's/^name: *//p' "$CLUSTER_CONFIG")
# The release and namespaces of the install commands below, and of manifests/namespaces.yaml.
RELEASE=fdc
NAMESPACE=monitoring
NODE_EXPORTER_NAMESPACE=monitoring-node-exporter
# Each component chart and the Dockerfile of the image it runs (tests/kind reads this table).
IMAGE_DOCKERFILES=(
  fastdining-api=services/fastdining-api/Dockerfile
  airestaurant=services/airestaurant/Dockerfile
  discord-relay=services/discord-relay/Dockerfile
  sloalert-operator=operator/Dockerfile
)
COMPONENTS=("${IMAGE_DOCKERFILES[@]%%=*}")
# TEST ONLY: the Discord stand-in of testkit, built and loaded by `e2e` alone.
STANDIN_IMAGE=fastdining/discord-standin:e2e
STANDIN_DOCKERFILE=tests/testkit/Dockerfile
# The cluster's own kubeconfig: every command here talks to this cluster and no other.
KIND_KUBECONFIG=$ROOT/.tools/kind/$CLUSTER.kubeconfig

say() { printf '\n== %s\n' "$*"; }
die() {
  printf '%s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Without Docker: stop before anything else runs.

preflight() {
  local target=${1:-up} why="" answer
  if ! command -v docker >/dev/null 2>&1; then
    why="the docker command is not on PATH"
  elif ! answer=$(docker version --format '{{.Server.Version}}' 2>&1); then
    why="no Docker daemon answers at ${DOCKER_HOST:-unix:///var/run/docker.sock} ($(tail -n 1 <<<"$answer"))"
  elif ! docker buildx version >/dev/null 2>&1; then
    why="docker has no buildx (BuildKit), which reads the .dockerignore beside each Dockerfile"
  fi
  if [[ -n $why ]]; then
    cat >&2 <<EOF
make $target needs a Docker engine (to build the images and run the kind cluster), and $why.
Install and start Docker with buildx to run the stack on kind; without Docker, run instead:
  make local   # the whole stack as processes on 127.0.0.1, no cluster
  make test    # every test that needs no cluster
EOF
    exit 2
  fi
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool not found: run \`make setup\` (it installs kind, helm and kubectl into .tools/bin)"
  done
}

# `HELM=helm3`: the literal `helm` of the commands below is helm v3, through a one-link PATH dir.
select_helm() {
  local helm=${HELM:-helm} dir
  [[ $helm == helm ]] && return
  dir=$ROOT/.tools/kind/helm-$helm
  mkdir -p "$dir"
  ln -sf "$(command -v "$helm" || die "$helm not found: run \`make setup\`")" "$dir/helm"
  PATH=$dir:$PATH
}

# ---------------------------------------------------------------------------------------------
# Images

dockerfile_of() {
  local entry
  for entry in "${IMAGE_DOCKERFILES[@]}"; do
    [[ ${entry%%=*} == "$1" ]] && echo "${entry#*=}"
  done
}

image_of() { uv run --frozen --no-sync python scripts/chart_image.py "$1"; }

build() { # IMAGE DOCKERFILE
  : "${IMAGE_UV_VERSION:?the uv pin is the Makefile\'s UV_VERSION: run this through make}"
  say "docker buildx build $1 ($2)"
  # --load: into the local image store that `kind load` reads, whatever buildx's driver.
  docker buildx build --load --file "$2" --build-arg "UV_VERSION=$IMAGE_UV_VERSION" --tag "$1" .
}

images() {
  local component
  IMAGES=()
  for component in "${COMPONENTS[@]}"; do
    IMAGES+=("$(image_of "$component")")
    build "${IMAGES[-1]}" "$(dockerfile_of "$component")"
  done
}

# ---------------------------------------------------------------------------------------------
# The cluster

cluster_exists() { kind get clusters 2>/dev/null | grep -qxF "$CLUSTER"; }

use_cluster() {
  cluster_exists || die "no kind cluster named $CLUSTER: run \`make up\` first"
  mkdir -p "$(dirname "$KIND_KUBECONFIG")"
  kind get kubeconfig --name "$CLUSTER" >"$KIND_KUBECONFIG"
  export KUBECONFIG=$KIND_KUBECONFIG
}

ensure_cluster() {
  if cluster_exists; then
    say "kind cluster $CLUSTER exists: upgrading in place"
  else
    say "kind create cluster ($CLUSTER_CONFIG)"
    kind create cluster --config "$CLUSTER_CONFIG" --wait 180s
  fi
  use_cluster
}

# BEGIN install commands (charts/fdc-stack/README.md quotes every command line; a test checks).
# helm returns once the objects are written: wait_rollouts below waits for them to run.
install_dependencies() {
  helm repo add prometheus-community https://prometheus-community.github.io/helm-charts
  helm dependency build charts/fdc-stack
}
create_namespaces() {
  kubectl apply -f manifests/namespaces.yaml
}
install_log_sink() {
  helm upgrade --install fdc charts/fdc-stack --namespace monitoring --create-namespace
}
install_with_webhook() {
  helm upgrade --install fdc charts/fdc-stack -n monitoring --set discord-relay.discord.webhookUrl="$DISCORD_WEBHOOK_URL"
}
# END install commands

install() {
  say "helm dependency build, namespaces, helm upgrade --install $RELEASE"
  install_dependencies
  create_namespaces
  if [[ -n ${DISCORD_WEBHOOK_URL:-} ]]; then
    echo "the relay posts to the webhook in DISCORD_WEBHOOK_URL"
    install_with_webhook
  else
    echo "DISCORD_WEBHOOK_URL is not set: the relay logs each message instead of posting it"
    install_log_sink
  fi
}

# An image rebuilt under the same tag changes no pod spec: roll out what runs an older build.
restart_rebuilt() {
  local component image id deployment
  for component in "${COMPONENTS[@]}"; do
    image=$(image_of "$component")
    id=$(docker image inspect --format '{{.Id}}' "$image")
    deployment=$(kubectl -n "$NAMESPACE" get deployment -o name \
      -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/name=$component")
    [[ -n $deployment ]] || continue
    kubectl -n "$NAMESPACE" patch "$deployment" --type merge \
      -p "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"fastdining.dev/image-id\":\"$id\"}}}}}"
  done
}

wait_rollouts() {
  say "waiting for every rollout"
  # prometheus-operator creates these StatefulSets after helm is done: wait for the objects first.
  kubectl -n "$NAMESPACE" wait --for=condition=Available --timeout=10m prometheus --all
  kubectl -n "$NAMESPACE" wait --for=condition=Available --timeout=10m alertmanager --all
  local namespace workload
  for namespace in "$NAMESPACE" "$NODE_EXPORTER_NAMESPACE"; do
    for workload in $(kubectl -n "$namespace" get deployment,statefulset,daemonset -o name); do
      kubectl -n "$namespace" rollout status "$workload" --timeout=10m
    done
  done
}

next_steps() {
  cat <<EOF

fdc-stack is running on the kind cluster "$CLUSTER" (kubectl context kind-$CLUSTER), namespace $NAMESPACE.
Next:
  make grafana        # Grafana on http://127.0.0.1:3000 (prints how to read the admin password)
  make prometheus     # Prometheus on http://127.0.0.1:9090
  make alertmanager   # Alertmanager on http://127.0.0.1:9093
  kubectl --context kind-$CLUSTER -n $NAMESPACE get slo      # READY and SELECTED for each SLOAlert
  kubectl --context kind-$CLUSTER apply -n default -f manifests/slo/fastapi-latency.yaml   # one of yours
  make e2e            # the end-to-end suite against this cluster
  make down           # delete the cluster
EOF
}

up() {
  local upgrade=""
  require_tools kind kubectl "${HELM:-helm}"
  select_helm
  ensure_cluster
  images
  say "kind load docker-image (${#IMAGES[@]} images)"
  kind load docker-image --name "$CLUSTER" "${IMAGES[@]}"
  helm status "$RELEASE" --namespace "$NAMESPACE" >/dev/null 2>&1 && upgrade=yes
  install
  # A first install runs the images just loaded; an upgrade may still run the previous build.
  [[ -z $upgrade ]] || restart_rebuilt
  wait_rollouts
  next_steps
}

# ---------------------------------------------------------------------------------------------
# Port-forwards (Services named as fdc-stack's NOTES.txt names them)

forward() {
  local service port target
  case ${1:-} in
    grafana) service=svc/$RELEASE-grafana port=${PORT:-3000} target=80 ;;
    prometheus) service=svc/prometheus-operated port=${PORT:-9090} target=9090 ;;
    alertmanager) service=svc/alertmanager-operated port=${PORT:-9093} target=9093 ;;
    *) die "usage: scripts/kind.sh forward grafana|prometheus|alertmanager" ;;
  esac
  require_tools kind kubectl
  use_cluster
  echo "$1: http://127.0.0.1:$port   (Ctrl-C stops the port-forward)"
  if [[ $1 == grafana ]]; then
    echo "user admin; the password (generated at install, kept in a Secret):"
    echo "  kubectl --context kind-$CLUSTER -n $NAMESPACE get secret $RELEASE-grafana -o jsonpath='{.data.admin-password}' | base64 -d; echo"
  fi
  exec kubectl -n "$NAMESPACE" port-forward --address 127.0.0.1 "$service" "$port:$target"
}

# `make load` against the cluster: port-forwards on free loopback ports, stopped on exit.
FORWARD_PIDS=()
stop_forwards() { [[ ${#FORWARD_PIDS[@]} -eq 0 ]] || kill "${FORWARD_PIDS[@]}" 2>/dev/null || true; }

forward_in_background() { # SERVICE PORT: sets FORWARD_URL
  local log=$ROOT/.tools/kind/port-forward-$1.log port=""
  kubectl -n "$NAMESPACE" port-forward --address 127.0.0.1 "svc/$1" ":$2" >"$log" 2>&1 &
  FORWARD_PIDS+=("$!")
  for _ in {1..100}; do
    port=$(sed -n 's/^Forwarding from 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$log" | head -n 1)
    if [[ -n $port ]]; then
      FORWARD_URL=http://127.0.0.1:$port
      return
    fi
    sleep 0.1
  done
  die "kubectl port-forward svc/$1 did not start: $(cat "$log")"
}

load() {
  local urls=() target
  require_tools kind kubectl
  use_cluster
  trap stop_forwards EXIT
  for target in fastapi="$RELEASE-fastdining-api 8000" django="$RELEASE-airestaurant 8900" \
    prometheus="prometheus-operated 9090" alertmanager="alertmanager-operated 9093"; do
    # shellcheck disable=SC2086 # "service port", split on purpose
    forward_in_background ${target#*=}
    urls+=("--${target%%=*}-url" "$FORWARD_URL")
  done
  uv run --frozen --no-sync python -m testkit.load_stack "${urls[@]}" "$@"
}

# ---------------------------------------------------------------------------------------------
# The end-to-end suite

e2e() {
  up
  build "$STANDIN_IMAGE" "$STANDIN_DOCKERFILE"
  kind load docker-image --name "$CLUSTER" "$STANDIN_IMAGE"
  say "pytest tests/e2e"
  FDC_E2E=1 FDC_E2E_KUBECONFIG=$KIND_KUBECONFIG FDC_E2E_STANDIN_IMAGE=$STANDIN_IMAGE \
    uv run --frozen --no-sync pytest tests/e2e -p no:cacheprovider
}

down() {
  require_tools kind
  if cluster_exists; then kind delete cluster --name "$CLUSTER"; else echo "no kind cluster named $CLUSTER"; fi
}

case ${1:-} in
  preflight) preflight "${2:-up}" ;;
  images | up | e2e | down | install)
    preflight "$1"
    ;;&
  forward) preflight "${2:-forward}" ;;&
  load) preflight load-kind ;;&
  images) images ;;
  up) up ;;
  install)
    require_tools kind kubectl "${HELM:-helm}"
    select_helm
    use_cluster
    install
    wait_rollouts
    ;;
  forward) forward "${2:-}" ;;
  load) load "${@:2}" ;;
  e2e) e2e ;;
  down) down ;;
  *) die "usage: scripts/kind.sh preflight TARGET|images|up|install|forward NAME|load|e2e|down" ;;
esac
