#!/usr/bin/env bash
# Run by `make up` after `pulumi up`, whatever its outcome: what the app's start
# did to the schema in this up (its "migrations:" log lines since UP_STARTED,
# seconds since the epoch, which make up sets; without it, the app container's
# whole log), and the backup it wrote before migrating, copied from the
# database's volume to backups/ with how to restore it.
#
# The app writes that backup inside the database container (app/desafio2/backups.py),
# in <data directory>/backups: a file not yet in backups/ is copied here, readable
# by its owner only, never half-written.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

BACKUP_DIR="${BACKUP_DIR:-backups}"
resolve_all
# Running and healthy: a database still starting cannot be asked for its backups yet,
# and one that has not started since the up began has migrated nothing.
healthy() {
    [[ "$(docker inspect --format '{{.State.Status}} {{.State.Health.Status}}' "$1" 2>/dev/null)" \
        == "running healthy" ]]
}
since=()
[[ -z "${UP_STARTED:-}" ]] || since=(--since "$UP_STARTED")

# Each line once: Docker starting again an app whose migration failed repeats the
# same lines, and the latest start may not have got as far as its outcome yet.
if [[ -n "$APP_SERVICE" ]]; then
    lines="$(docker service logs --raw "${since[@]}" "$APP_SERVICE" 2>&1 | grep '^migrations: ' || true)"
    restart_app="docker service update --force $APP_SERVICE"
elif docker inspect "$APP_CONTAINER" >/dev/null 2>&1; then
    lines="$(docker logs "${since[@]}" "$APP_CONTAINER" 2>&1 | grep '^migrations: ' || true)"
fi
restart_app="${restart_app:-docker restart $APP_CONTAINER}"
if [[ -n "${lines:-}" ]]; then
    awk '!seen[$0]++' <<<"$lines"
else
    printf 'migrations: nothing migrated in this up (%s logged no migration line since it began)\n' \
        "${APP_SERVICE:-$APP_CONTAINER}"
fi

# One host: no database container healthy, nothing to copy. A swarm's database
# task must be on this engine (make up checked its label): resolve_db says if not.
[[ -n "$DB_SERVICE" ]] || healthy "$DB_CONTAINER" || exit 0
resolve_db
in_volume="$(db_query "SHOW data_directory")/backups"
umask 077
mkdir -p "$BACKUP_DIR"
for name in $(docker exec "$DB_CONTAINER" sh -c 'ls -1 "$1" 2>/dev/null' sh "$in_volume" | grep '\.dump$'); do
    [[ -e "$BACKUP_DIR/$name" ]] && continue
    partial="$(mktemp "$BACKUP_DIR/.$name.XXXXXX.partial")"
    if docker exec "$DB_CONTAINER" cat "$in_volume/$name" >"$partial" && sync -- "$partial"; then
        mv -- "$partial" "$BACKUP_DIR/$name"
    else
        rm -f -- "$partial"
        die "could not copy $in_volume/$name out of '$DB_CONTAINER'; it is still there"
    fi
    printf 'Before migrating, the app backed up the database: %s\n' "$BACKUP_DIR/$name"
    printf '  (also kept in the volume, in container %s: %s)\n' "$DB_CONTAINER" "$in_volume/$name"
    printf '  To go back to it: make restore FILE=%s YES=1, then %s\n' \
        "$BACKUP_DIR/$name" "$restart_app"
    printf '  (the app migrates the restored data again; docs/schema.md).\n'
done
