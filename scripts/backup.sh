#!/usr/bin/env bash
# make backup: a consistent dump of the database, taken through the running db
# container, in backups/<db>-<UTC time>.dump (pg_dump's custom format, which
# `make restore` and pg_restore read).
#
# Consistent: pg_dump reads every table in one snapshot, while the app keeps
# writing. Never a half file: the dump goes to a hidden temporary file, is read
# back whole (the row counts printed come from the file itself), flushed to
# disk, and only then given its final name. Dumps hold users' data: they are
# created readable by their owner only.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

BACKUP_DIR="${BACKUP_DIR:-backups}"
resolve_db
umask 077
mkdir -p "$BACKUP_DIR"

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
partial="$(mktemp "$BACKUP_DIR/.$DB_NAME-$stamp.XXXXXX.partial")"
trap 'rm -f "$partial"' EXIT

if ! docker exec "$DB_CONTAINER" pg_dump --format=custom \
        --username="$DB_USER" --dbname="$DB_NAME" >"$partial"; then
    die "pg_dump failed in '$DB_CONTAINER'; no backup was written"
fi
counts="$(dump_row_counts "$partial")" \
    || die "the dump could not be read back; no backup was written"
sync -- "$partial"

# Two backups in the same second get -2, -3, ...: a link never replaces a file.
final="$BACKUP_DIR/$DB_NAME-$stamp.dump"
n=1
until ln -- "$partial" "$final" 2>/dev/null; do
    n=$((n + 1))
    ((n <= 50)) || die "could not name the backup in $BACKUP_DIR"
    final="$BACKUP_DIR/$DB_NAME-$stamp-$n.dump"
done

size="$(stat -c %s -- "$final")"
printf 'Backup of %s (container %s): %s\n' "$DB_NAME" "$DB_CONTAINER" "$final"
printf '  size       %s (%s bytes)\n' "$(numfmt --to=iec-i --suffix=B "$size")" "$size"
print_counts <<<"$counts"
