#!/usr/bin/env bash
# make restore FILE=backups/<file>.dump [YES=1]: replaces the database's data
# with a dump written by `make backup`, in the running stack.
#
#   scripts/restore.sh [--yes] FILE
#
# The file is checked first (pg_restore must read it as a custom-format archive
# holding the usuarios table); anything else is refused before the database is
# touched. Then, unless --yes, the user confirms on the terminal. The restore
# itself is one transaction: it applies whole or, on any error, not at all.
# Afterwards the schema is the dump's: tables and functions the dump lacks (what
# migrations added since it was taken) are gone; the grants the dump holds (to
# the API's role) are kept. Then the migrator (db-migracoes) runs again and
# migrates the restored data, before this script says it is done. Each id
# sequence continues after the highest restored id.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

usage="usage: ${0##*/} [--yes] FILE   (make restore FILE=... [YES=1])"
yes=0
file=""
for arg in "$@"; do
    case "$arg" in
        -y | --yes) yes=1 ;;
        -h | --help) printf '%s\n' "$usage"; exit 0 ;;
        -*) die "unknown option $arg; $usage" ;;
        *) [[ -z "$file" ]] || die "one file at a time; $usage"; file="$arg" ;;
    esac
done
[[ -n "$file" ]] || die "no file given; $usage"
[[ -f "$file" && -r "$file" ]] || die "$file: no such readable file"

resolve_all
resolve_db

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
first_error() { sed -n 's/^pg_restore: //; s/\.$//; 1p' "$errors"; }
# The table of contents, then every row: a damaged file fails here, not halfway through the restore.
toc="$(docker exec -i "$DB_CONTAINER" pg_restore --list <"$file" 2>"$errors")" \
    || die "$file is not a valid dump (pg_dump custom format): $(first_error). Nothing was changed."
grep -q ' TABLE public usuarios ' <<<"$toc" \
    || die "$file is a dump, but not of this application (it has no usuarios table). Nothing was changed."
counts="$(dump_row_counts "$file" 2>"$errors")" \
    || die "$file is damaged, its data cannot be read: $(first_error). Nothing was changed."

printf 'Restore %s into database %s (container %s).\n' "$file" "$DB_NAME" "$DB_CONTAINER"
printf 'The dump holds:\n'
print_counts <<<"$counts"
printf 'The database holds now, and will lose:\n'
db_query "$COUNT_ROWS" 2>/dev/null | print_counts || printf '  (its tables cannot be counted)\n'

if ((yes == 0)); then
    [[ -t 0 ]] || die "no terminal to confirm on; rerun with --yes (make restore FILE=... YES=1). Nothing was changed."
    read -r -p "Replace the data of $DB_NAME with this dump? Type yes to go on: " answer
    [[ "$answer" == yes ]] || { printf 'Cancelled. Nothing was changed.\n'; exit 1; }
fi

# Tables and functions the database has and the dump lacks, i.e. what migrations
# added after the dump was taken (schema_migrations, contagens, ...): dropped in
# the restore's transaction, after it, so that the schema is the dump's again and
# the app's next start migrates it. No CASCADE: whatever else depends on them
# makes the restore fail rather than disappear with them.
names_in_dump() {  # TYPE: the names of the dump's objects of that type in schema public
    awk -v type="$1" '$4 == type && $5 == "public" { sub(/\(.*/, "", $6); print $6 }' <<<"$toc" \
        | paste -sd ' ' -
}
leftovers="$(db_query "
    SELECT format('DROP TABLE public.%I;', tablename) FROM pg_tables
    WHERE schemaname = 'public'
      AND tablename <> ALL (string_to_array('$(names_in_dump TABLE)', ' '))
    UNION ALL
    SELECT format('DROP FUNCTION public.%I(%s);', proname, pg_get_function_identity_arguments(oid))
    FROM pg_proc
    WHERE pronamespace = 'public'::regnamespace
      AND proname <> ALL (string_to_array('$(names_in_dump FUNCTION)', ' '))")"

# One transaction: pg_restore writes the SQL (in the container, owner-only, then
# deleted), psql runs it and the drops, and on any error rolls all of it back. A
# lock the app holds must not leave the restore waiting forever.
# shellcheck disable=SC2016 # expanded by the container's shell
if ! docker exec -i -e PGOPTIONS='-c lock_timeout=30s' "$DB_CONTAINER" sh -c '
        script="$(mktemp)" || exit 1
        pg_restore --clean --if-exists --no-owner --file="$script" &&
            psql -X -q -v ON_ERROR_STOP=1 --single-transaction -U "$1" -d "$2" \
                -f "$script" -c "$3"
        status=$?
        rm -f "$script"
        exit "$status"' sh "$DB_USER" "$DB_NAME" "$leftovers" <"$file"; then
    die "the restore failed and was rolled back; the database is as it was"
fi

db_query "
    SELECT setval(pg_get_serial_sequence('usuarios', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM usuarios;
    SELECT setval(pg_get_serial_sequence('logs', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM logs;
" >/dev/null

printf 'Restored. The database holds:\n'
db_query "$COUNT_ROWS" | print_counts

# The restored schema may be older than the app's: the migrator brings it up to date.
printf 'Migrating the restored data (%s)...\n' "${MIGRATOR_SERVICE:-$MIGRATOR_CONTAINER}"
if [[ -n "$MIGRATOR_SERVICE" ]]; then
    # Waits until the new task runs, i.e. is healthy: it has migrated.
    docker service update --force --quiet "$MIGRATOR_SERVICE" >/dev/null \
        || die "the migrator did not migrate the restored data: docker service logs $MIGRATOR_SERVICE"
else
    docker restart "$MIGRATOR_CONTAINER" >/dev/null
    for ((waited = 0; ; waited++)); do
        health="$(docker inspect --format '{{.State.Health.Status}}' "$MIGRATOR_CONTAINER" 2>/dev/null || true)"
        [[ "$health" != healthy ]] || break
        ((waited < ${MIGRATOR_WAIT_SECONDS:-120})) \
            || die "the migrator did not migrate the restored data in time: docker logs $MIGRATOR_CONTAINER"
        sleep 1
    done
fi
printf 'Migrated: the schema is current.\n'
