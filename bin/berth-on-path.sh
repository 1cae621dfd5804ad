#!/bin/sh
# `berth` on the image's PATH (/usr/local/bin/berth), so that `docker exec <container> berth status`
# works as the docs write it: the image's entry point, with the same node flags.
exec /app/bin/entrypoint.sh "$@"
