#!/usr/bin/env bash
# make status: the stack's outputs, the verdict on each of its containers (on a
# swarm: its services, their tasks and nodes; scripts/verdict.py), and whether the
# volume exists. Exits 1 when a part is missing, stopped or unhealthy.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

printf 'Stack outputs\n'
outputs=""
command -v pulumi >/dev/null 2>&1 && outputs="$(stack_outputs)"
if [[ -n "$outputs" ]]; then
    awk '{ key = $0; sub(/=.*/, "", key); printf "  %-16s %s\n", key, substr($0, length(key) + 2) }' \
        <<<"$outputs"
else
    printf '  (pulumi stack output is not available here: the names below are the defaults or your DB_CONTAINER=... settings)\n'
fi

resolve_all
docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"
export DB_CONTAINER MIGRATOR_CONTAINER APP_CONTAINER READER_CONTAINER VOLUME_NAME BACKUP_VOLUME_NAME \
    DB_SERVICE MIGRATOR_SERVICE APP_SERVICE READER_SERVICE

printf '\n'
problems=0
python3 "$here/verdict.py" || problems=1

if [[ -n "$DB_SERVICE" ]]; then
    # The volume is on the database's node: the engine the docker CLI talks to.
    printf '\nVolume (on this engine, the database node)\n'
else
    printf '\nVolume\n'
fi
if docker volume inspect "$VOLUME_NAME" >/dev/null 2>&1; then
    printf '  %s: present (its data outlives the containers)\n' "$VOLUME_NAME"
else
    printf '  %s: missing\n' "$VOLUME_NAME"
    problems=1
fi
exit "$problems"
