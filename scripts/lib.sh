# Shared by the everyday scripts (backup, restore, logs, status, psql); sourced, not run.
# shellcheck shell=bash
#
# Which containers to talk to, first match wins:
#   1. the environment: DB_CONTAINER, MIGRATOR_CONTAINER, APP_CONTAINER, READER_CONTAINER,
#      VOLUME_NAME, BACKUP_VOLUME_NAME
#   2. the stack's config file, Pulumi.<STACK>.yaml, with the program's defaults
#      (scripts/stack_names.py); without that file, the stack's outputs, when the
#      Pulumi CLI can read them (STACK selects one)
#   3. the program's defaults
# On a swarm (target swarm: the outputs, or DB_SERVICE, MIGRATOR_SERVICE, APP_SERVICE
# and READER_SERVICE, name services), the database container is its service's
# running task on the engine the docker CLI talks to: the database's node.
# The database user and name come from DB_USER / DB_NAME, else from the db
# container itself (the POSTGRES_USER / POSTGRES_DB it was created with), so a
# stack with other names needs no flags.

die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# What the stack names in Docker, as KEY=value lines keyed as its outputs
# (dbContainer=...), read once per script, and not at all when every name comes
# from the environment (as in the tests): from the stack's config file when it is
# here (scripts/stack_names.py: what the last make up set out to make, even if it
# failed before exporting outputs), else from `pulumi stack output`.
load_names() {
    [[ -z "${STACK_NAMES_LOADED:-}" ]] || return 0
    STACK_NAMES_LOADED=1
    STACK_NAMES=""
    local stack_file="${STACK_FILE:-$LIB_DIR/../Pulumi.${STACK:-dev}.yaml}"
    if [[ -f "$stack_file" ]]; then
        STACK_NAMES="$(python3 "$LIB_DIR/stack_names.py" "$stack_file" 2>/dev/null)" || STACK_NAMES=""
    fi
    if [[ -z "$STACK_NAMES" ]] && command -v pulumi >/dev/null 2>&1; then
        STACK_NAMES="$(stack_outputs)"
    fi
}

stack_outputs() {  # the stack's outputs as KEY=value lines (empty when Pulumi cannot say)
    pulumi stack output --json --non-interactive ${STACK:+--stack "$STACK"} 2>/dev/null \
        | python3 -c 'import json, sys
for key, value in json.load(sys.stdin).items():
    print(f"{key}={value}")' 2>/dev/null || true
}

stack_output() {  # KEY DEFAULT; load_names first, in the calling shell
    local value
    value="$(sed -n "s/^$1=//p" <<<"${STACK_NAMES:-}" | head -n 1)"
    printf '%s\n' "${value:-$2}"
}

container_env() {  # CONTAINER VARIABLE: as the container was configured (env, or a swarm task's env(1) command)
    docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}{{range .Config.Entrypoint}}{{println .}}{{end}}' "$1" 2>/dev/null \
        | sed -n "s/^$2=//p" | head -n 1
}

service_container() {  # SERVICE: its running task's container on this engine, if any
    docker ps -q --filter "label=com.docker.swarm.service.name=$1" --filter status=running \
        | head -n 1
}

resolve_services() {
    # ${X-...}: a value already resolved, even empty (one host), is not asked for again.
    [[ -n "${DB_SERVICE+set}${DB_CONTAINER:-}" ]] || load_names
    DB_SERVICE="${DB_SERVICE-$(stack_output dbService "")}"
    MIGRATOR_SERVICE="${MIGRATOR_SERVICE-$(stack_output migratorService "")}"
    APP_SERVICE="${APP_SERVICE-$(stack_output appService "")}"
    READER_SERVICE="${READER_SERVICE-$(stack_output readerService "")}"
    if [[ -n "$DB_SERVICE" && -z "${DB_CONTAINER:-}" ]]; then
        DB_CONTAINER="$(service_container "$DB_SERVICE")"
    fi
}

resolve_db() {
    docker info >/dev/null 2>&1 || die "the Docker engine does not answer (is dockerd running?)"
    resolve_services
    [[ -z "$DB_SERVICE" || -n "$DB_CONTAINER" ]] \
        || die "no running task of the database service '$DB_SERVICE' on this engine: point the docker CLI at the node labelled for the database (DOCKER_HOST=...)"
    DB_CONTAINER="${DB_CONTAINER:-$(stack_output dbContainer db-postgres)}"
    [[ "$(docker inspect --format '{{.State.Status}}' "$DB_CONTAINER" 2>/dev/null)" == running ]] \
        || die "the database container '$DB_CONTAINER' is not running (make up; or set DB_CONTAINER=...)"
    DB_USER="${DB_USER:-$(container_env "$DB_CONTAINER" POSTGRES_USER)}"
    DB_USER="${DB_USER:-usuario}"
    DB_NAME="${DB_NAME:-$(container_env "$DB_CONTAINER" POSTGRES_DB)}"
    DB_NAME="${DB_NAME:-aplicacao}"
}

resolve_all() {
    [[ -n "${MIGRATOR_CONTAINER:-}" && -n "${APP_CONTAINER:-}" && -n "${READER_CONTAINER:-}" \
        && -n "${VOLUME_NAME:-}" ]] || load_names
    resolve_services
    # On a swarm the database container is its task here, or none (resolve_db says so).
    [[ -n "$DB_SERVICE" ]] || DB_CONTAINER="${DB_CONTAINER:-$(stack_output dbContainer db-postgres)}"
    MIGRATOR_CONTAINER="${MIGRATOR_CONTAINER:-$(stack_output migratorContainer db-migracoes)}"
    APP_CONTAINER="${APP_CONTAINER:-$(stack_output appContainer app-flask)}"
    READER_CONTAINER="${READER_CONTAINER:-$(stack_output readerContainer leitor-dados)}"
    VOLUME_NAME="${VOLUME_NAME:-$(stack_output volumeName dados_postgres)}"
    BACKUP_VOLUME_NAME="${BACKUP_VOLUME_NAME:-$(stack_output backupVolumeName "${VOLUME_NAME}_backups")}"
}

# shellcheck disable=SC2034 # used by the scripts that source this file
COUNT_ROWS="SELECT 'logs', count(*) FROM logs UNION ALL SELECT 'usuarios', count(*) FROM usuarios"

db_query() {  # SQL: unaligned rows, fields separated by a space
    docker exec -i "$DB_CONTAINER" psql -X -q -v ON_ERROR_STOP=1 -At -F ' ' \
        -U "$DB_USER" -d "$DB_NAME" -c "$1"
}

# Rows per table as the dump holds them (not as the database holds them now):
# "usuarios 5" lines, read back from the archive's COPY blocks, one row a line.
dump_row_counts() {  # FILE
    docker exec -i "$DB_CONTAINER" pg_restore --data-only --file=- <"$1" | awk '
        /^COPY / { table = $2; sub(/^public\./, "", table); rows = 0; copying = 1; next }
        copying && $0 == "\\." { print table, rows; copying = 0; next }
        copying { rows++ }' | sort
}

print_counts() {  # "table rows" lines on stdin
    while read -r table rows; do
        printf '  %-10s %s rows\n' "$table" "$rows"
    done
}
