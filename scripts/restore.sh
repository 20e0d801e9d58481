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
# Afterwards each id sequence continues after the highest restored id.
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

# A lock the app holds must not leave the restore waiting forever.
if ! docker exec -i -e PGOPTIONS='-c lock_timeout=30s' "$DB_CONTAINER" \
        pg_restore --clean --if-exists --single-transaction --exit-on-error \
        --no-owner --no-privileges --username="$DB_USER" --dbname="$DB_NAME" <"$file"; then
    die "the restore failed and was rolled back; the database is as it was"
fi

db_query "
    SELECT setval(pg_get_serial_sequence('usuarios', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM usuarios;
    SELECT setval(pg_get_serial_sequence('logs', 'id'), coalesce(max(id), 1), max(id) IS NOT NULL) FROM logs;
" >/dev/null

printf 'Restored. The database holds:\n'
db_query "$COUNT_ROWS" | print_counts
