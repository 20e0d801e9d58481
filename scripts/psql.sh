#!/usr/bin/env bash
# make psql: psql in the running database container, as the app's user on its database.
# Interactive on a terminal; `echo 'SELECT 1' | make psql` works too.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"

resolve_db
flags=(-i)
[[ -t 0 && -t 1 ]] && flags=(-it)
exec docker exec "${flags[@]}" "$DB_CONTAINER" psql -U "$DB_USER" -d "$DB_NAME" "$@"
