#!/usr/bin/env bash
# Provide the three base images the stack uses, in the local Docker engine:
#
#   postgres:15-alpine      <- .ci/images/postgres/
#   python:3.11-slim        <- .ci/images/python/   (+ wheels for app/requirements.txt)
#   python:3.11-slim-bookworm  the same stand-in, a second tag (app/Dockerfile's FROM:
#                           the stand-in is bookworm, so it is that image too)
#   curlimages/curl:8.4.0   <- .ci/images/curl/
#
# For each tag:
#   1. the tag exists and carries our recipe label with the current recipe hash
#      -> skip (fast path: a second run takes seconds);
#      the tag exists WITHOUT our label -> it is the official image, keep it;
#   2. else `docker pull` of the official image (short timeout) -> use it;
#   3. else build the local stand-in and tag it with the official name.
# Stand-ins are built FROM a Debian bookworm base made once with debootstrap
# (desafio2-ci/debian:bookworm) and reused while present.
#
# Environment knobs:
#   STANDINS_TRY_PULL=0     never try `docker pull` (default 1)
#   STANDINS_PULL_TIMEOUT   seconds for each pull attempt (default 20)
#   STANDINS_FORCE=1        rebuild the stand-ins even if up to date
#   STANDINS_LOG_DIR        where build logs go (default /var/log/desafio2-ci)
#   DEBIAN_MIRROR           default http://deb.debian.org/debian
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$HERE/../.." && pwd)"

BASE_TAG="desafio2-ci/debian:bookworm"
LABEL_KEY="desafio2-ci.recipe"
# Bump when the way images are built changes in this script (not in the
# recipe directories, whose contents are hashed anyway).
SCRIPT_RECIPE_VERSION="1"

TRY_PULL="${STANDINS_TRY_PULL:-1}"
PULL_TIMEOUT="${STANDINS_PULL_TIMEOUT:-20}"
FORCE="${STANDINS_FORCE:-0}"
LOG_DIR="${STANDINS_LOG_DIR:-/var/log/desafio2-ci}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
REQUIREMENTS="$REPO_ROOT/app/requirements.txt"

export DOCKER_BUILDKIT=0          # engine is Debian's 20.10: legacy builder
export DEBIAN_FRONTEND=noninteractive

mkdir -p "$LOG_DIR"
T0=$SECONDS
log() { printf 'build-standins: %s\n' "$*"; }
die() { printf 'build-standins: ERROR: %s\n' "$*" >&2; exit 1; }

# Serialise concurrent runs (several engineers / CI on one engine).
{ exec 9>/run/lock/desafio2-ci-build-standins.lock; } 2>/dev/null || exec 9>/tmp/desafio2-ci-build-standins.lock
if ! flock -n 9; then
    log "another build-standins run holds the lock; waiting (max 30 min)"
    flock -w 1800 9 || die "timed out waiting for the lock"
fi

WORK=""
cleanup() { if [[ -n "$WORK" && -d "$WORK" ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

# --- prerequisites ------------------------------------------------------------
if ! timeout 10 docker info >/dev/null 2>&1; then
    bash "$REPO_ROOT/.ci/start-dockerd.sh"
fi

apt_updated=0
apt_install() {
    if [[ $apt_updated == 0 ]]; then apt-get update -qq >/dev/null; apt_updated=1; fi
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }
image_label() {
    docker image inspect --format "{{ index .Config.Labels \"$LABEL_KEY\" }}" "$1" 2>/dev/null || true
}

# --- shared Debian bookworm base -----------------------------------------------
ensure_base() {
    if image_exists "$BASE_TAG"; then
        log "$BASE_TAG: present, reused"
        return
    fi
    local t=$SECONDS
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    [[ -n "$WORK" ]] || WORK="$(mktemp -d /var/tmp/desafio2-standins.XXXXXX)"
    local root="$WORK/rootfs"
    log "$BASE_TAG: debootstrap --variant=minbase bookworm (log: $LOG_DIR/debootstrap.log)"
    if ! debootstrap --variant=minbase bookworm "$root" "$DEBIAN_MIRROR" >"$LOG_DIR/debootstrap.log" 2>&1; then
        tail -n 30 "$LOG_DIR/debootstrap.log" >&2
        die "debootstrap failed"
    fi
    # Same suites as Debian's official images (point release + updates + security).
    local security="${DEBIAN_MIRROR%/debian}/debian-security"
    cat >"$root/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR bookworm main
deb $DEBIAN_MIRROR bookworm-updates main
deb $security bookworm-security main
EOF
    printf 'Acquire::Retries "3";\n' >"$root/etc/apt/apt.conf.d/80-retries"
    # Image layers keep neither the downloaded .debs nor apt's binary caches.
    cat >"$root/etc/apt/apt.conf.d/90-no-cache" <<'EOF'
APT::Keep-Downloaded-Packages "false";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
        "$root"/var/log/bootstrap.log "$root"/etc/resolv.conf "$root"/etc/hostname
    : >"$root/etc/resolv.conf"
    tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -c . \
        | docker import \
            -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            -c 'CMD ["bash"]' \
            -m "debootstrap --variant=minbase bookworm $DEBIAN_MIRROR" \
            - "$BASE_TAG" >/dev/null
    rm -rf "$root"
    log "$BASE_TAG: built in $((SECONDS - t))s"
}

# --- recipe hashes ---------------------------------------------------------------
recipe_hash() {  # $1 = recipe name
    local name="$1" dir="$HERE/$1"
    {
        echo "script-recipe-version=$SCRIPT_RECIPE_VERSION"
        echo "base=$(docker image inspect --format '{{.Id}}' "$BASE_TAG")"
        (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
        if [[ "$name" == python ]]; then
            [[ -f "$REQUIREMENTS" ]] || die "$REQUIREMENTS not found (the python stand-in bundles wheels for it)"
            echo "requirements:"
            cat "$REQUIREMENTS"
        fi
    } | sha256sum | cut -c1-64
}

# --- python wheelhouse -------------------------------------------------------------
host_pip() {
    local py
    for py in python3 python; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
            "$py" -m pip "$@"; return
        fi
    done
    apt_install python3-pip
    python3 -m pip "$@"
}

download_wheels() {  # $1 = destination directory
    local dest="$1"
    local common=(download --disable-pip-version-check --quiet --dest "$dest"
        --only-binary=:all: --python-version 3.11 --implementation cp
        --abi cp311 --abi abi3 --abi none
        --platform manylinux_2_36_x86_64 --platform manylinux_2_34_x86_64
        --platform manylinux_2_31_x86_64 --platform manylinux_2_28_x86_64
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64
        --platform manylinux_2_12_x86_64 --platform manylinux2010_x86_64
        --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64
        --platform any)
    # The app's requirements, plus pip/setuptools/wheel so that
    # `pip install --upgrade pip setuptools wheel` in a Dockerfile finds them offline.
    host_pip "${common[@]}" -r "$REQUIREMENTS" || return 1
    host_pip "${common[@]}" pip setuptools wheel || return 1
}

# --- one image -------------------------------------------------------------------------
ensure_image() {  # $1 = recipe name, $2 = official tag
    local name="$1" tag="$2" t=$SECONDS want have
    want="$(recipe_hash "$name")"
    if image_exists "$tag"; then
        have="$(image_label "$tag")"
        if [[ "$FORCE" != 1 && "$have" == "$want" ]]; then
            log "$tag: up to date (recipe ${want:0:12}), skipped"
            return
        fi
        if [[ "$FORCE" != 1 && ( -z "$have" || "$have" == "<no value>" ) ]]; then
            log "$tag: official image present (no stand-in label), kept"
            return
        fi
    fi

    if [[ "$TRY_PULL" == 1 && "$FORCE" != 1 ]]; then
        if timeout "$PULL_TIMEOUT" docker pull -q "$tag" >"$LOG_DIR/pull-$name.log" 2>&1; then
            log "$tag: pulled the official image in $((SECONDS - t))s"
            return
        fi
        log "$tag: docker pull failed ($(tail -n 1 "$LOG_DIR/pull-$name.log" | cut -c1-100)); building the stand-in"
    fi

    [[ -n "$WORK" ]] || WORK="$(mktemp -d /var/tmp/desafio2-standins.XXXXXX)"
    local ctx="$WORK/ctx-$name"
    rm -rf "$ctx"; mkdir -p "$ctx"
    cp -a "$HERE/$name/." "$ctx/"
    if [[ "$name" == python ]]; then
        mkdir -p "$ctx/wheels"
        download_wheels "$ctx/wheels" || die "$tag: pip download of the wheels for $REQUIREMENTS failed"
        log "$tag: $(find "$ctx/wheels" -name '*.whl' | wc -l) wheels downloaded for $(realpath --relative-to="$REPO_ROOT" "$REQUIREMENTS")"
    fi
    local blog="$LOG_DIR/build-$name.log" old_id
    old_id="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
    if ! docker build --label "$LABEL_KEY=$want" -t "$tag" "$ctx" >"$blog" 2>&1; then
        tail -n 40 "$blog" >&2
        die "$tag: docker build failed (full log: $blog)"
    fi
    rm -rf "$ctx"
    # Drop the stand-in this build replaced (only if nothing else uses it).
    if [[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]]; then
        docker rmi "$old_id" >/dev/null 2>&1 || true
    fi
    log "$tag: stand-in built in $((SECONDS - t))s ($(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec) , log: $blog)"
}

# --- a second name for one image -------------------------------------------------------
ensure_alias() {  # $1 = the tag ensure_image provided, $2 = another name of that image
    local tag="$1" alias="$2" t=$SECONDS have want
    want="$(image_label "$tag")"
    if image_exists "$alias"; then
        have="$(image_label "$alias")"
        if [[ -z "$have" || "$have" == "<no value>" ]]; then
            log "$alias: official image present (no stand-in label), kept"
            return
        fi
        if [[ "$FORCE" != 1 && "$have" == "$want" ]]; then
            log "$alias: up to date (recipe ${want:0:12}), skipped"
            return
        fi
    fi
    if [[ -n "$want" && "$want" != "<no value>" ]]; then
        docker tag "$tag" "$alias"
        log "$alias: tagged from the stand-in $tag"
        return
    fi
    # $tag is the official image, which need not be the release $alias names: pull it.
    if [[ "$TRY_PULL" == 1 ]] \
        && timeout "$PULL_TIMEOUT" docker pull -q "$alias" >"$LOG_DIR/pull-${alias//[:\/]/_}.log" 2>&1; then
        log "$alias: pulled the official image in $((SECONDS - t))s"
        return
    fi
    die "$alias: docker pull failed and $tag is the official image, not necessarily the same release (remove $tag to build the stand-in)"
}

# --- main -----------------------------------------------------------------------------------
ensure_base
ensure_image postgres postgres:15-alpine
ensure_image python python:3.11-slim
ensure_alias python:3.11-slim python:3.11-slim-bookworm
ensure_image curl curlimages/curl:8.4.0
log "done in $((SECONDS - T0))s"
