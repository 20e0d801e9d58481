#!/bin/sh
# Same behaviour as upstream curlimages/curl's entrypoint: arguments that
# start with "-", or that are not a command, are arguments to curl.
set -e

if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ]; then
  set -- curl "$@"
fi

exec "$@"
