#!/usr/bin/env bash
# Run by `make up` after `pulumi up`, whatever its outcome: what this up did to the
# schema (migration-report.sh), then the verdict on every part of the stack
# (verdict.py), which gives the parts still starting VERDICT_WAIT_SECONDS (60) to
# settle. Exits 1 when a part is not running and healthy, so that an up never
# reports success while a container is not: Pulumi waits for health only when it
# creates a container. The verdict is reached first and printed last: a migrator
# that migrates while the verdict waits for it belongs in this up's report.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

resolve_all
export DB_CONTAINER MIGRATOR_CONTAINER APP_CONTAINER READER_CONTAINER VOLUME_NAME BACKUP_VOLUME_NAME \
    DB_SERVICE MIGRATOR_SERVICE APP_SERVICE READER_SERVICE
# A container that keeps failing waits in Docker's backoff, up to a minute, before
# its next start: start it now, so that one whose cause was mended (a volume put
# right, say) is judged on this start, not on the last failed one.
# One docker call for the four: it prints those that exist.
if [[ -z "$DB_SERVICE" ]]; then
    docker inspect --type container --format '{{.State.Status}} {{slice .Name 1}}' \
        "$DB_CONTAINER" "$MIGRATOR_CONTAINER" "$APP_CONTAINER" "$READER_CONTAINER" 2>/dev/null \
        | while read -r status name; do
            [[ "$status" == restarting ]] || continue
            printf '%s was restarting in a loop: started again now\n' "$name"
            docker restart "$name" >/dev/null || true
        done || true
fi
verdict_status=0
verdict="$(python3 "$here/verdict.py" --wait "${VERDICT_WAIT_SECONDS:-60}")" || verdict_status=$?
"$here/migration-report.sh" || true
printf '\n%s\n' "$verdict"
exit "$verdict_status"
