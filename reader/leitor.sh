#!/bin/sh
# leitor-dados: reads the API over the stack's network, forever, and prints
# one line per read:
#   2026-11-30T07:00:00Z GET /usuarios status=200 count=3
# count is the number of items returned (for /status: the usuarios it
# reports). When the app cannot be reached the line says status=000 and why,
# and the loop simply carries on.
set -u

: "${API_URL:?API_URL must be set, e.g. http://app:5000}"
INTERVAL="${READ_INTERVAL_SECONDS:-10}"
BODY_FILE="${TMPDIR:-/tmp}/leitor-body.$$"
ERROR_FILE="${TMPDIR:-/tmp}/leitor-error.$$"
trap 'rm -f "$BODY_FILE" "$ERROR_FILE"; exit 0' INT TERM

count_items() {
    case "$1" in
        /status) sed -n 's/.*"usuarios":\([0-9][0-9]*\).*/\1/p' "$BODY_FILE" | head -n 1 ;;
        *) grep -o '"id":' "$BODY_FILE" | wc -l | tr -d ' ' ;;
    esac
}

read_endpoint() {
    path="$1"
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    status=$(curl --silent --show-error --max-time 5 --output "$BODY_FILE" \
        --write-out '%{http_code}' "$API_URL$path" 2>"$ERROR_FILE")
    if [ "$status" = "000" ] || [ -z "$status" ]; then
        echo "$now GET $path status=000 error=\"$(head -n 1 "$ERROR_FILE")\""
        return
    fi
    count=$(count_items "$path")
    echo "$now GET $path status=$status count=${count:-0}"
}

while :; do
    for path in /status /usuarios /logs; do
        read_endpoint "$path"
    done
    sleep "$INTERVAL" &
    wait $!
done
