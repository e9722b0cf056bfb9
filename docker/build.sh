#!/usr/bin/env bash
# Build the s1tiling-cloud image offline (no registry) and print its content-keyed tag.
#
#   docker/build.sh [--force] [--start-daemon]
#
# 1. the base image: debootstrap bookworm + docker import, cached (docker/base-image.sh);
# 2. the build context (docker/context.py): dependencies pinned to the tested .venv, the source;
# 3. `docker build` with BuildKit, the machine's CA bundle ($PIP_CERT) and pip index settings
#    as build secrets (never in a layer, never a build argument), the network of the host.
# The image is tagged `s1tiling-cloud:<version>-<key>` (key: sha256 of the base image's tag, the
# Dockerfile and the context) and `s1tiling-cloud:<version>`: with the same inputs, an image
# already built is reused without running docker build at all (unless --force).
#
# Env: DOCKER (docker CLI), IMAGE_NAME (default s1tiling-cloud), PIP_CERT, PIP_* (pip settings),
#      HTTP(S)_PROXY / NO_PROXY (passed on), S1TILING_IMAGE_CACHE (base image tarballs).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
IMAGE_NAME=${IMAGE_NAME:-s1tiling-cloud}
force=0 start_daemon=0
for arg in "$@"; do
    case $arg in
        --force) force=1 ;;
        --start-daemon) start_daemon=1 ;;
        *) echo "usage: docker/build.sh [--force] [--start-daemon]" >&2; exit 2 ;;
    esac
done
say() { echo "build: $*" >&2; }

# A docker CLI that can drive BuildKit: one with buildx, or a pre-23 client whose classic
# `docker build` runs the daemon's built-in BuildKit (Debian's docker.io 20.10).
pick_docker() {
    local cli major
    for cli in ${DOCKER:-} docker /usr/bin/docker; do
        command -v "$cli" >/dev/null 2>&1 || continue
        if "$cli" buildx version >/dev/null 2>&1; then echo "$cli buildx"; return; fi
        major=$("$cli" version --format '{{.Client.Version}}' 2>/dev/null | cut -d. -f1 || true)
        if [[ $major =~ ^[0-9]+$ ]] && ((major < 23)); then echo "$cli classic"; return; fi
    done
    say "no docker CLI with BuildKit: install docker-buildx, or Debian's docker.io (20.10)"
    exit 1
}
read -r DOCKER mode < <(pick_docker)
export DOCKER
if ((start_daemon)); then
    bash docker/dockerd.sh >&2  # its "started PID" line is not this script's output
fi
"$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1 \
    || { say "no Docker daemon answers (docker/build.sh --start-daemon, or docker/dockerd.sh)"; exit 1; }

base=$(bash docker/base-image.sh)
version=$(python3 -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["version"])')
workdir=build/docker
mkdir -p "$workdir"
secrets=$(mktemp -d)
trap 'rm -rf "$secrets"' EXIT
chmod 700 "$secrets"
key=$(python3 docker/context.py "$workdir/context" --pip-conf "$secrets/pip.conf")
key=$(printf '%s %s\n' "$base" "$key" | sha256sum | cut -c1-16)
tag="$IMAGE_NAME:$version-$key"

if ((!force)) && "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
    say "reusing $tag (same inputs)"
    "$DOCKER" tag "$tag" "$IMAGE_NAME:$version"
    echo "$tag"; exit 0
fi

cert=${PIP_CERT:-}
if [[ -z $cert || ! -s $cert ]]; then
    cert=$secrets/empty-cert  # no CA bundle to add: the secret is empty, pip uses its own
    : > "$cert"
fi
args=(--network host --build-arg "BASE_IMAGE=$base" --build-arg "VERSION=$version"
      --secret "id=pipcert,src=$cert" --secret "id=pipconf,src=$secrets/pip.conf"
      --label "org.opencontainers.image.s1tiling.inputs=$key"
      -f docker/Dockerfile -t "$tag" -t "$IMAGE_NAME:$version")
for name in HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
    [[ -n ${!name:-} ]] && args+=(--build-arg "$name")  # predefined: kept out of the history
done
say "building $tag from $base ($DOCKER, $mode BuildKit)"
started=$SECONDS
if [[ $mode == buildx ]]; then
    "$DOCKER" buildx build --load --progress plain "${args[@]}" "$workdir/context" >&2
else
    DOCKER_BUILDKIT=1 "$DOCKER" build --progress plain "${args[@]}" "$workdir/context" >&2
fi
say "built $tag in $((SECONDS - started)) s"
echo "$tag"
