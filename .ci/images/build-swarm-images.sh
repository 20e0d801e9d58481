#!/usr/bin/env bash
# Build the two images the swarm tests (tests/swarm/) run, in the local engine:
#
#   desafio2-ci/swarm-node:bookworm   <- .ci/images/swarm-node/  (a Docker engine)
#   desafio2-ci/registry:2.8          <- .ci/images/registry/    (Distribution 2.8)
#
# Both are ours (no official image has these names), so there is nothing to
# pull: an image is rebuilt only when its recipe changed. The recipe hash
# covers this script's version, the Debian base's image ID and every file of
# the recipe folder; it is stored as a label on the image and compared at the
# next run (a second run takes about a second).
#
# Needs the Debian base desafio2-ci/debian:bookworm, which
# .ci/images/build-standins.sh makes; run that first.
#
# Environment:
#   SWARM_IMAGES_FORCE=1      rebuild even when up to date
#   SWARM_IMAGES_LOG_DIR      where build logs go (default /var/log/desafio2-ci)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BASE="desafio2-ci/debian:bookworm"
LABEL="desafio2-ci.swarm-recipe"
# Bump when this script changes how the images are built.
VERSION="1"
FORCE="${SWARM_IMAGES_FORCE:-0}"
LOG_DIR="${SWARM_IMAGES_LOG_DIR:-/var/log/desafio2-ci}"
export DOCKER_BUILDKIT=0  # Debian's engine 20.10: the legacy builder

say() { printf 'build-swarm-images: %s\n' "$*"; }
die() { say "ERROR: $*" >&2; exit 1; }

# Not root: logs go to a folder the user may write.
mkdir -p "$LOG_DIR" 2>/dev/null || { LOG_DIR="${TMPDIR:-/tmp}/desafio2-ci"; mkdir -p "$LOG_DIR"; }
# Two sessions on one engine would otherwise build the same tag at once.
exec 8>"/tmp/desafio2-ci-build-swarm-images.lock"
flock -w 1800 8 || die "another build held the lock for 30 minutes"

timeout 10 docker info >/dev/null 2>&1 || die "no Docker engine answers (bash .ci/start-dockerd.sh)"
docker image inspect "$BASE" >/dev/null 2>&1 \
    || die "$BASE is missing: bash .ci/images/build-standins.sh makes it"

hash_of() {  # recipe folder name
    {
        echo "version=$VERSION"
        echo "base=$(docker image inspect --format '{{.Id}}' "$BASE")"
        (cd "$HERE/$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    } | sha256sum | cut -c1-64
}

build() {  # recipe folder name, tag
    local recipe="$1" tag="$2" started=$SECONDS want have old log
    want="$(hash_of "$recipe")"
    have="$(docker image inspect --format "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)"
    if [[ "$FORCE" != 1 && "$have" == "$want" ]]; then
        say "$tag: up to date (recipe ${want:0:12}), skipped"
        return
    fi
    old="$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
    log="$LOG_DIR/build-swarm-$recipe.log"
    if ! docker build --label "$LABEL=$want" -t "$tag" "$HERE/$recipe" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        die "$tag: docker build failed (full log: $log)"
    fi
    # The image this build replaced, unless a container still uses it.
    if [[ -n "$old" && "$old" != "$(docker image inspect --format '{{.Id}}' "$tag")" ]]; then
        docker rmi "$old" >/dev/null 2>&1 || true
    fi
    say "$tag: built in $((SECONDS - started))s ($(docker image inspect --format '{{.Size}}' "$tag" | numfmt --to=iec), log: $log)"
}

build swarm-node desafio2-ci/swarm-node:bookworm
build registry desafio2-ci/registry:2.8
