#!/bin/sh
# Entrypoint of the curlimages/curl stand-in, from that image's documented use:
# `docker run IMAGE [curl options] URL` runs curl with those arguments, and a
# command the image has (sh, a script) runs as given.
set -eu

if [ "$#" -gt 0 ] && command -v -- "$1" >/dev/null 2>&1; then
    exec "$@"
fi
exec curl "$@"
