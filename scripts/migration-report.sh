#!/usr/bin/env bash
# Run by `make up` after `pulumi up`, whatever its outcome: what the migrator did
# to the schema in this up (its "migrations:" log lines since UP_STARTED, seconds
# since the epoch, which make up sets; without it, the migrator's whole log), and
# the backup it wrote before migrating, copied from its backups volume to
# backups/ with how to restore it.
#
# The migrator (db-migracoes) writes that backup with pg_dump into the volume
# mounted at /srv/backups (app/desafio2/migrations/backups.py): a file not yet in backups/
# is copied here, readable by its owner only, never half-written.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

BACKUP_DIR="${BACKUP_DIR:-backups}"
IN_VOLUME=/srv/backups
resolve_all
since=()
[[ -z "${UP_STARTED:-}" ]] || since=(--since "$UP_STARTED")

# Each line once: Docker starting again a migrator whose migration failed repeats
# the same lines, and the latest start may not have got as far as its outcome yet.
migrator="$MIGRATOR_CONTAINER"
if [[ -n "$MIGRATOR_SERVICE" ]]; then
    lines="$(docker service logs --raw "${since[@]}" "$MIGRATOR_SERVICE" 2>&1 | grep '^migrations: ' || true)"
    # Its task runs on the database's node, the engine make up talks to.
    migrator="$(service_container "$MIGRATOR_SERVICE")"
elif docker inspect "$MIGRATOR_CONTAINER" >/dev/null 2>&1; then
    lines="$(docker logs "${since[@]}" "$MIGRATOR_CONTAINER" 2>&1 | grep '^migrations: ' || true)"
else
    printf 'migrations: nothing migrated in this up (%s does not exist)\n' "$MIGRATOR_CONTAINER"
    exit 0
fi
if [[ -n "${lines:-}" ]]; then
    awk '!seen[$0]++' <<<"$lines"
else
    printf 'migrations: nothing migrated in this up (%s logged no migration line since it began)\n' \
        "${MIGRATOR_SERVICE:-$MIGRATOR_CONTAINER}"
fi

# Only a running migrator can be asked for its backups (docker cp would do on a
# stopped one, but a migrator that is not running has written nothing new).
[[ -n "$migrator" && "$(docker inspect --format '{{.State.Status}}' "$migrator" 2>/dev/null)" == running ]] \
    || exit 0
umask 077
mkdir -p "$BACKUP_DIR"
for name in $(docker exec "$migrator" sh -c 'ls -1 "$1" 2>/dev/null' sh "$IN_VOLUME" | grep '\.dump$'); do
    [[ -e "$BACKUP_DIR/$name" ]] && continue
    partial="$(mktemp "$BACKUP_DIR/.$name.XXXXXX.partial")"
    if docker exec "$migrator" cat "$IN_VOLUME/$name" >"$partial" && sync -- "$partial"; then
        mv -- "$partial" "$BACKUP_DIR/$name"
    else
        rm -f -- "$partial"
        die "could not copy $IN_VOLUME/$name out of '$migrator'; it is still there"
    fi
    printf 'Before migrating, the migrator backed up the database: %s\n' "$BACKUP_DIR/$name"
    printf '  (also kept in the volume %s, mounted at %s in %s)\n' \
        "$BACKUP_VOLUME_NAME" "$IN_VOLUME" "${MIGRATOR_SERVICE:-$MIGRATOR_CONTAINER}"
    printf '  To go back to it: make restore FILE=%s YES=1\n' "$BACKUP_DIR/$name"
    printf '  (the migrator then migrates the restored data again; docs/schema.md).\n'
done
