#!/usr/bin/env bash
# make status: the stack's outputs and the state and health of its containers
# and volume (on a swarm: its services and the nodes that run them). Exits 1
# when a container is missing, stopped or unhealthy (a service short of tasks).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

printf 'Stack outputs\n'
if command -v pulumi >/dev/null 2>&1 \
        && outputs="$(pulumi stack output --non-interactive ${STACK:+--stack "$STACK"} 2>&1)"; then
    # shellcheck disable=SC2001 # indent every line
    sed 's/^/  /' <<<"$outputs"
else
    printf '  (pulumi stack output is not available here: the names below are the defaults or your DB_CONTAINER=... settings)\n'
fi

resolve_all
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"

problems=0

services() {  # on a swarm: each service's tasks, and the nodes that run them
    printf '\nServices (swarm)\n'
    local service replicas nodes
    for service in "$DB_SERVICE" "$APP_SERVICE" "$READER_SERVICE"; do
        if ! replicas="$(docker service ls --filter "name=$service" --format '{{.Name}} {{.Replicas}}' \
                | awk -v s="$service" '$1 == s { print $2 }')" || [[ -z "$replicas" ]]; then
            printf '  %s: missing\n' "$service"
            problems=$((problems + 1))
            continue
        fi
        nodes="$(docker service ps "$service" --filter desired-state=running \
            --format '{{.Node}} ({{.CurrentState}})' | paste -sd ',' - | sed 's/,/, /g')"
        printf '  %s: %s tasks running, on %s\n' "$service" "$replicas" "${nodes:-no node}"
        [[ "${replicas%%/*}" == "${replicas##*/}" ]] || problems=$((problems + 1))
    done
}

containers() {
    local containers=("$DB_CONTAINER" "$APP_CONTAINER" "$READER_CONTAINER")
    local width=4 name state status health started
    for name in "${containers[@]}"; do ((${#name} > width)) && width=${#name}; done
    printf '\nContainers\n'
    printf "  %-${width}s  %-10s %-10s %s\n" NAME STATE HEALTH STARTED
    for name in "${containers[@]}"; do
        if ! state="$(docker inspect --format \
                '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}-{{end}} {{.State.StartedAt}}' \
                "$name" 2>/dev/null)"; then
            printf "  %-${width}s  %s\n" "$name" missing
            problems=$((problems + 1))
            continue
        fi
        read -r status health started <<<"$state"
        started="${started%%.*}"
        started="${started%Z}Z"
        printf "  %-${width}s  %-10s %-10s %s\n" "$name" "$status" "$health" "$started"
        if [[ "$status" != running || "$health" == unhealthy || "$health" == starting ]]; then
            problems=$((problems + 1))
        fi
    done
}

if [[ -n "$DB_SERVICE" ]]; then
    services
    # The volume is on the database's node: the engine the docker CLI talks to.
    printf '\nVolume (on this engine, the database node)\n'
else
    containers
    printf '\nVolume\n'
fi
if docker volume inspect "$VOLUME_NAME" >/dev/null 2>&1; then
    printf '  %s: present (its data outlives the containers)\n' "$VOLUME_NAME"
else
    printf '  %s: missing\n' "$VOLUME_NAME"
    problems=$((problems + 1))
fi

if ((problems > 0)); then
    printf '\n%d problem(s): see above, and make logs.\n' "$problems"
    exit 1
fi
