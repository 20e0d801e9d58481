#!/usr/bin/env bash
# Start a Docker engine for CI if none answers. Idempotent.
#  - `docker info` answers      -> nothing to do
#  - dockerd missing            -> apt-get install docker.io
#  - start dockerd in background, log to $DOCKERD_LOG, wait (bounded) for it.
set -euo pipefail

DOCKERD_LOG="${DOCKERD_LOG:-/var/log/dockerd-ci.log}"
DOCKERD_WAIT_SECONDS="${DOCKERD_WAIT_SECONDS:-60}"

docker_answers() { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }

if docker_answers; then
    echo "start-dockerd: docker engine already running ($(docker info --format '{{.ServerVersion}}' 2>/dev/null)); nothing to do"
    exit 0
fi

installed=""
if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends docker.io >/dev/null
    installed="installed docker.io, "
fi

# A dockerd may already be starting (e.g. a previous call timed out): only
# start one if no dockerd process exists.
if pgrep -x dockerd >/dev/null 2>&1; then
    action="waited for an already running dockerd (pid $(pgrep -x dockerd | head -n1))"
else
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    # setsid + nohup: detach from this shell so that dockerd outlives the caller.
    setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
    action="started dockerd (pid $!)"
fi

start=$SECONDS
until docker_answers; do
    if (( SECONDS - start >= DOCKERD_WAIT_SECONDS )); then
        echo "start-dockerd: docker did not answer within ${DOCKERD_WAIT_SECONDS}s; last lines of $DOCKERD_LOG:" >&2
        tail -n 40 "$DOCKERD_LOG" >&2 || true
        exit 1
    fi
    sleep 1
done

echo "start-dockerd: ${installed}${action}, engine $(docker info --format '{{.ServerVersion}}') ready after $((SECONDS - start))s, log in $DOCKERD_LOG"
