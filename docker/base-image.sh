#!/usr/bin/env bash
# Build (once) the Debian bookworm base image with debootstrap + `docker import`, and print its tag.
#
# No registry is reachable from our machines, so the image's first layer is made here from the
# Debian mirror this machine's apt already uses. Debootstrap takes minutes: the result is cached
# twice, keyed on every input (suite, variant, mirror, packages, this script, debootstrap's
# version): as a local image tag `s1tiling-cloud-base:bookworm-<key>` and as a tarball in
# $S1TILING_IMAGE_CACHE (default ~/.cache/s1tiling-cloud), which CI can keep between runs.
#
# Usage: docker/base-image.sh        (prints the tag on stdout; progress on stderr)
# Env:   DOCKER (docker CLI), DEBIAN_MIRROR, DEBIAN_SECURITY_MIRROR, S1TILING_IMAGE_CACHE
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
DOCKER=${DOCKER:-docker}
SUITE=bookworm
VARIANT=minbase
# Enough for apt to work over the mirror (https mirrors included); the rest is in the Dockerfile.
INCLUDE=ca-certificates
CACHE=${S1TILING_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/s1tiling-cloud}

say() { echo "base-image: $*" >&2; }

# The mirror this machine's apt uses for Debian (deb822 .sources or one-line .list files).
host_mirror() {  # $1: the suite to look for (bookworm or bookworm-security)
    local suite=$1 file
    for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list; do
        [[ -f $file ]] || continue
        if [[ $file == *.sources ]]; then
            awk -v suite="$suite" '
                /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) hit = 1 }
                /^$/ { if (hit && uri) { print uri; exit } uri = ""; hit = 0 }
                END { if (hit && uri) print uri }' "$file"
        else
            # `deb [options] URI suite …` or `deb URI suite …`
            awk -v suite="$suite" '$1 == "deb" {
                    uri = ($2 ~ /^\[/) ? $3 : $2; dist = ($2 ~ /^\[/) ? $4 : $3
                    if (dist == suite) { print uri; exit } }' "$file"
        fi
    done | head -n 1
}

MIRROR=${DEBIAN_MIRROR:-$(host_mirror "$SUITE")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY=${DEBIAN_SECURITY_MIRROR:-$(host_mirror "$SUITE-security")}
SECURITY=${SECURITY:-http://deb.debian.org/debian-security}

sources() {
    cat <<EOF
Types: deb
URIs: $MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
}

key=$({ echo "$SUITE $VARIANT $INCLUDE $(dpkg --print-architecture)"
        debootstrap --version 2>/dev/null || echo "no debootstrap"
        sources; cat "$0"; } | sha256sum | cut -c1-12)
tag="s1tiling-cloud-base:$SUITE-$key"
tarball="$CACHE/base-$SUITE-$key.tar.gz"

if "$DOCKER" image inspect "$tag" >/dev/null 2>&1; then
    say "reusing $tag"
    echo "$tag"; exit 0
fi
if [[ -s $tarball ]]; then
    say "importing the cached $tarball"
    "$DOCKER" import --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
    echo "$tag"; exit 0
fi

command -v debootstrap >/dev/null || { say "debootstrap is missing (apt-get install debootstrap)"; exit 1; }
[[ $(id -u) -eq 0 ]] || { say "debootstrap needs root"; exit 1; }
mkdir -p "$CACHE"
work=$(mktemp -d "$CACHE/rootfs.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs
say "debootstrap $SUITE ($VARIANT) from $MIRROR (a few minutes, once)"
debootstrap --variant="$VARIANT" --include="$INCLUDE" "$SUITE" "$rootfs" "$MIRROR" > "$work/debootstrap.log" 2>&1 \
    || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }

# apt sources as the image will use them; a small image: no recommends, no docs, no apt lists.
rm -f "$rootfs/etc/apt/sources.list"
sources > "$rootfs/etc/apt/sources.list.d/debian.sources"
cat > "$rootfs/etc/apt/apt.conf.d/90s1tiling" <<'EOF'
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
EOF
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/90s1tiling-nodoc" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
EOF
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/tmp/* "$rootfs"/usr/share/doc/*/changelog* "$rootfs"/usr/share/man/*

tar --numeric-owner --xattrs -C "$rootfs" -czf "$work/base.tar.gz" .
mv "$work/base.tar.gz" "$tarball"
"$DOCKER" import --change 'CMD ["/bin/bash"]' "$tarball" "$tag" >/dev/null
say "built $tag (cached in $tarball)"
echo "$tag"
