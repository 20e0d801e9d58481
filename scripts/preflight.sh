#!/usr/bin/env bash
# What `make up` (and down, preview, outputs) needs, checked before anything is
# touched: a reachable Docker engine, 20.10 or newer, and the Pulumi CLI, at
# least as new as the pulumi SDK that requirements.txt pins (an older CLI may
# not run what the SDK asks of it); with `target: swarm` in the stack's config,
# an engine that is a swarm manager and carries the database's node label (the
# volume is made on the engine the provider talks to). The first thing missing
# is said in one line, with how to get it; nothing is printed when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

MIN_DOCKER=20.10
MIN_PULUMI="$(sed -n 's/^pulumi==\([0-9.]*\).*/\1/p' requirements.txt)"

missing() { printf 'make: cannot start: %s\n' "$*" >&2; exit 1; }

# True when version $1 >= version $2 (dotted numbers; a suffix such as -ce is ignored).
at_least() { [[ "$(printf '%s\n%s\n' "${1%%[-+]*}" "$2" | sort -V | head -n 1)" == "$2" ]]; }

command -v docker >/dev/null 2>&1 \
    || missing "the docker command is not installed: install Docker Engine $MIN_DOCKER or newer (https://docs.docker.com/engine/install/) or Docker Desktop"
engine="$(docker version --format '{{.Server.Version}}' 2>/dev/null)" \
    || missing "no Docker engine answers${DOCKER_HOST:+ at $DOCKER_HOST}: start it (Docker Desktop, or: sudo systemctl start docker) and check that 'docker version' shows a Server"
at_least "$engine" "$MIN_DOCKER" \
    || missing "Docker Engine $engine is too old: the stack needs $MIN_DOCKER or newer (https://docs.docker.com/engine/install/)"

command -v pulumi >/dev/null 2>&1 \
    || missing "the Pulumi CLI is not installed: install $MIN_PULUMI or newer (https://www.pulumi.com/docs/install/), then run make up again"
cli="$(pulumi version 2>/dev/null)" || missing "'pulumi version' failed: reinstall the Pulumi CLI (https://www.pulumi.com/docs/install/)"
cli="${cli#v}"
at_least "$cli" "$MIN_PULUMI" \
    || missing "Pulumi CLI $cli is older than the SDK this project pins ($MIN_PULUMI): upgrade it (https://www.pulumi.com/docs/install/)"

# The stack's config, when it exists yet (a first `make up` creates it after this),
# read from its file (STACK_FILE): asking the Pulumi CLI costs a fraction of a
# second a key.
setting() {
    sed -n "s/^  desafio2:$1: *//p" "${STACK_FILE:-Pulumi.${STACK:-dev}.yaml}" 2>/dev/null \
        | sed 's/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/' | head -n 1
}
# KEY FIELD: else its one default, the field's in infra/settings.py (`app_replicas: int = 2`).
setting_or_default() {
    local value
    value="$(setting "$1")"
    printf '%s\n' "${value:-$(sed -n "s/^ *$2: [a-z]* = \"\{0,1\}\([^\"]*\)\"\{0,1\}\$/\1/p" infra/settings.py)}"
}
if [[ "$(setting target)" == swarm ]]; then
    [[ "$(docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null)" == true ]] \
        || missing "target is swarm, but the Docker engine${DOCKER_HOST:+ at $DOCKER_HOST} is not a swarm manager: point DOCKER_HOST at one (docs/swarm.md)"
    label="$(setting_or_default dbNodeLabel db_node_label)"
    node="$(docker node inspect self --format '{{.Description.Hostname}}')"
    [[ "$(docker node inspect self --format "{{index .Spec.Labels \"$label\"}}")" == true ]] \
        || missing "target is swarm, but $node, the manager that will hold the database's volume, lacks the label $label=true: docker node update --label-add $label=true $node"
    # A rolling update of the app starts each new task before it stops an old one, on
    # a node without one: a node runs one app task at most, the one that publishes
    # appHostPort (host mode). With as many tasks as nodes that can take one, an update
    # and its rollback would wait for a free node forever.
    replicas="$(setting_or_default appReplicas app_replicas)"
    port="$(setting_or_default appHostPort app_host_port)"
    nodes=0
    while read -r state availability; do
        [[ "$state $availability" != "Ready Active" ]] || nodes=$((nodes + 1))
    done < <(docker node ls --format '{{.Status}} {{.Availability}}')
    if [[ "$replicas" =~ ^[0-9]+$ ]] && (( replicas >= nodes )); then
        fix="add a node"
        (( nodes < 2 )) || fix="pulumi config set appReplicas $((nodes - 1)), or add a node"
        missing "appReplicas is $replicas and the swarm has $nodes nodes ready and active: appReplicas must stay below that, since a rolling update starts each new app task on a node without one (one app task a node, which publishes port $port) before it stops an old one; $fix"
    fi
fi
