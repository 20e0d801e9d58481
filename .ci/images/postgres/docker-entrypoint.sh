#!/bin/sh
# Entrypoint of the postgres:15-alpine stand-in, written for this project from
# the official image's documented contract, and only the part of it the stack
# and its tests use:
#   - POSTGRES_USER (default postgres), POSTGRES_PASSWORD (required),
#     POSTGRES_DB (default: the user) and POSTGRES_INITDB_ARGS, each also as
#     NAME_FILE, the path of a file holding the value;
#   - on a data directory without a cluster only: initdb, then a server that
#     listens on its unix socket alone runs the scripts of
#     /docker-entrypoint-initdb.d in name order (*.sql with psql, *.sh as
#     programs), and is stopped;
#   - then postgres, in the foreground as PID 1, as the user postgres when the
#     container starts as root. Other commands (psql, bash...) run as given.
# Left out: POSTGRES_HOST_AUTH_METHOD (from outside the container, always a
# scram-sha-256 password; the socket and loopback are trusted, as initdb
# leaves them), POSTGRES_INITDB_WALDIR, compressed *.sql.gz/.xz/.zst scripts,
# sourcing *.sh into this shell (they run in their own, with POSTGRES_USER and
# POSTGRES_DB exported, and POSTGRES_PASSWORD only if it came from the
# environment rather than a file), postgres options given on the
# command line reaching the init-time server, skipping initialisation for
# `postgres --help/--version/-C`, and repairing the ownership of files inside
# an existing data directory.
set -eu

INITDB_DIR=/docker-entrypoint-initdb.d

say() { printf 'docker-entrypoint: %s\n' "$*"; }
die() { say "error: $*" >&2; exit 1; }

# The value of setting $1: from the environment, else from the file that
# $1_FILE names (read here, as root, before privileges are dropped), else $2.
setting() {
    plain="$(printenv "$1" || true)"
    path="$(printenv "$1_FILE" || true)"
    if [ -n "$plain" ] && [ -n "$path" ]; then
        die "$1 and $1_FILE are both set; give one"
    fi
    if [ -n "$path" ]; then
        cat -- "$path"
    else
        printf '%s' "${plain:-$2}"
    fi
}

# Everything that touches the cluster runs as postgres (initdb refuses root):
# $drop prefixes those commands; unquoted, it is nothing when we are not root.
drop=""
if [ "$(id -u)" = 0 ]; then
    drop="setpriv --reuid=postgres --regid=postgres --init-groups --"
fi

sql() {  # psql over the unix socket, stopping at the first error
    $drop psql -X -q -v ON_ERROR_STOP=1 -U "$user" "$@"
}

initialise() {
    password="$(setting POSTGRES_PASSWORD '')"
    [ -n "$password" ] || die "the data directory is empty and POSTGRES_PASSWORD is not set"
    initdb_args="$(setting POSTGRES_INITDB_ARGS '')"

    # Word splitting is wanted: POSTGRES_INITDB_ARGS holds several options.
    # shellcheck disable=SC2086
    $drop initdb --username="$user" -D "$PGDATA" $initdb_args
    # initdb trusts local and loopback connections; from anywhere else, a password.
    printf 'host all all all scram-sha-256\n' >>"$PGDATA/pg_hba.conf"
    printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

    # No TCP until the scripts are done: a health check over TCP stays red.
    $drop pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start

    # The password reaches psql through its environment: never on a command
    # line (which ps shows) nor in a file of ours.
    (
        export POSTGRES_PASSWORD="$password"
        sql -d postgres <<'SQL'
\getenv password POSTGRES_PASSWORD
ALTER ROLE CURRENT_USER PASSWORD :'password';
SQL
    )
    sql -d postgres -v name="$db" <<'SQL'
SELECT format('CREATE DATABASE %I', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SQL

    export POSTGRES_USER="$user" POSTGRES_DB="$db"
    for script in "$INITDB_DIR"/*; do
        case "$script" in
            *.sql) say "running $script"; sql -d "$db" -f "$script" ;;
            *.sh)
                say "running $script"
                if [ -x "$script" ]; then $drop "$script"; else $drop sh "$script"; fi
                ;;
            "$INITDB_DIR/*") ;;  # an empty directory: the pattern stays as written
            *) say "ignoring $script" ;;
        esac
    done

    $drop pg_ctl -D "$PGDATA" -m fast -w stop
    say "initialisation complete"
}

case "${1:-}" in
    "" | -*) set -- postgres "$@" ;;  # no command, or options alone: the server's
esac
if [ "${1:-}" != postgres ]; then
    exec "$@"
fi
shift

if [ "$(id -u)" = 0 ]; then
    # A bind mount or a volume made by root: the cluster's directory must be postgres's.
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
fi

if [ -s "$PGDATA/PG_VERSION" ]; then
    say "$PGDATA holds a cluster: no initialisation"
else
    user="$(setting POSTGRES_USER postgres)"
    db="$(setting POSTGRES_DB "$user")"
    initialise
fi

# The server has no use for a password given in the environment.
unset POSTGRES_PASSWORD
exec $drop postgres "$@"
