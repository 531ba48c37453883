#!/usr/bin/env bash
# Builds the site's image with rootful podman, as the image smoke test (tests/deploy/test_image.py)
# and docs/deploy.md do it on machines without a Docker engine or a registry (why each step is
# needed: docs/deploy.md, "Building without a registry"):
#   1. installs podman, runc and debootstrap from Debian's packages when missing, and uses a
#      containers.conf of its own through CONTAINERS_CONF (nothing under /etc changes);
#   2. uses the Dockerfile's base image if podman has it or can pull it; otherwise builds a
#      stand-in from Debian with debootstrap and imports it under the same name (cached);
#   3. `podman build --format docker --pull=never --network=host` of the Dockerfile, unchanged.
# Usage: scripts/image-build.sh [--target web|worker] [--tag NAME]
# Prints "IMAGE <name>" and timing lines "FIGURE <name> <seconds>" on stdout.
# Exit status 77 (with one line saying why) where podman cannot run here.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="$ROOT/.cache/image"
TARGET=web
TAG=""
while [ "$#" -gt 0 ]; do
    case "$1" in
        --target) TARGET="$2"; shift 2 ;;
        --tag) TAG="$2"; shift 2 ;;
        *) echo "usage: $0 [--target web|worker] [--tag NAME]" >&2; exit 2 ;;
    esac
done
TAG="${TAG:-localhost/platform-site-$TARGET:smoke}"
SKIP=77
say() { printf '==> %s\n' "$*" >&2; }
skip() { printf 'SKIP %s\n' "$*"; exit "$SKIP"; }
now() { date +%s.%N; }
figure() { awk -v name="$1" -v start="$2" -v end="$(now)" 'BEGIN { printf "FIGURE %s %.1f\n", name, end - start }'; }

[ "$(uname -s)" = Linux ] || skip "podman images need Linux (this is $(uname -s))"
[ "$(id -u)" = 0 ] || skip "rootful podman needs root (uid $(id -u))"

# 1. podman and friends from Debian's packages.
packages=(podman buildah runc debootstrap uidmap fuse-overlayfs slirp4netns)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    command -v apt-get >/dev/null 2>&1 || skip "no apt-get to install ${missing[*]}"
    say "installing ${missing[*]}"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

mkdir -p "$CACHE"
# The three settings these machines need (DEPLOY.md): ulimits podman may set, runc (crun fails
# on hybrid cgroups), cgroupfs; host networking only, never podman's bridge network.
nofile="$(ulimit -Hn)"
[ "$nofile" = unlimited ] && nofile=1048576
cat > "$CACHE/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
netns = "host"
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
export CONTAINERS_CONF="$CACHE/containers.conf"
podman info >/dev/null 2>&1 || skip "podman is installed but does not run here: $(podman info 2>&1 | tail -n 1)"

# 2. The base image named by the Dockerfile's ARG.
base="$(sed -n 's/^ARG PYTHON_IMAGE=//p' "$ROOT/Dockerfile")"
case "$base" in */*) full="$base" ;; *) full="docker.io/library/$base" ;; esac
import_standin() {
    podman import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        "$CACHE/standin-rootfs.tar" "$full" >/dev/null
}
if podman image exists "$full"; then
    say "base image $full: present"
elif [ -f "$CACHE/standin-rootfs.tar" ]; then
    say "base image $full: importing the cached stand-in"
    started="$(now)"; import_standin; figure standin_import_s "$started"
elif [ "${IMAGE_BUILD_TRY_PULL:-1}" = 1 ] && timeout 30 podman pull -q "$full" >/dev/null 2>&1; then
    say "base image $full: pulled"
else
    # No registry: Debian trixie (Python 3.13, like python:3.13-slim) from the host's own mirror.
    mirror="$( { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true; } \
        | awk '$1 ~ /^(URIs:|deb)$/ && $2 ~ /\/debian\/?$/ { print $2; exit }')"
    mirror="${mirror:-http://deb.debian.org/debian}"
    say "base image $full: no registry, building a stand-in with debootstrap from $mirror"
    started="$(now)"
    rootfs="$CACHE/standin-rootfs"
    rm -rf "$rootfs"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
        trixie "$rootfs" "$mirror" >&2
    # Like the official image, pip may install (our Dockerfile installs into a venv anyway).
    rm -f "$rootfs"/usr/lib/python3*/EXTERNALLY-MANAGED
    # Trust the host's CA certificates (an egress proxy may re-sign TLS here); a real base
    # image elsewhere needs none of this, which is why it is not in our Dockerfile.
    if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
        cp /usr/local/share/ca-certificates/*.crt "$rootfs/usr/local/share/ca-certificates/"
        chroot "$rootfs" update-ca-certificates >/dev/null 2>&1
    fi
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$CACHE/standin-rootfs.tar.partial" .
    mv "$CACHE/standin-rootfs.tar.partial" "$CACHE/standin-rootfs.tar"
    rm -rf "$rootfs"
    figure standin_debootstrap_s "$started"
    started="$(now)"; import_standin; figure standin_import_s "$started"
fi

# 3. Our Dockerfile, unchanged.
say "podman build --target $TARGET -t $TAG"
started="$(now)"
podman build --format docker --pull=never --network=host \
    --target "$TARGET" -t "$TAG" -f "$ROOT/Dockerfile" "$ROOT" >&2
figure "build_${TARGET}_s" "$started"
printf 'IMAGE %s\n' "$TAG"
