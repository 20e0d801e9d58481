#!/usr/bin/env bash
# make logs: the four containers' logs (on a swarm: the services'), interleaved as they come, following.
# Each line starts with its container's name. TAIL=n lines of history first (20).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

resolve_all
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"
if [[ -n "$DB_SERVICE" ]]; then
    # On a swarm: every task's log, from whichever node runs it; each line
    # starts with the task and its node.
    pids=()
    for service in "$DB_SERVICE" "$MIGRATOR_SERVICE" "$APP_SERVICE" "$READER_SERVICE"; do
        docker service logs --follow --tail "${TAIL:-20}" "$service" 2>&1 &
        pids+=("$!")
    done
    trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
    wait
    exit 0
fi
containers=("$DB_CONTAINER" "$MIGRATOR_CONTAINER" "$APP_CONTAINER" "$READER_CONTAINER")
width=0
for name in "${containers[@]}"; do ((${#name} > width)) && width=${#name}; done

pids=()
for name in "${containers[@]}"; do
    # sed -u: a line goes out as soon as it comes, not when a buffer fills.
    docker logs --follow --tail "${TAIL:-20}" "$name" \
        > >(sed -u "s/^/$(printf "%-${width}s" "$name") | /") 2>&1 &
    pids+=("$!")
done
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM
wait
