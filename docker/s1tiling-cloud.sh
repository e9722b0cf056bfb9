#!/bin/sh
# /usr/local/bin/s1tiling-cloud in the image: the entrypoint and the command every pod runs.
#
# The root filesystem of a pod is read-only, and numba must be able to write into its cache
# folder (it refuses a read-only one). So the kernels compiled at build time (the seed) are
# copied once into $NUMBA_CACHE_DIR (under /tmp, an emptyDir) before the real command starts.
# Nothing is printed: a stage's stdout is its one-line JSON result.
seed=${S1TILING_NUMBA_CACHE_SEED:-}
cache=${NUMBA_CACHE_DIR:-}
if [ -n "$seed" ] && [ -n "$cache" ] && [ -d "$seed" ] && [ ! -e "$cache/.seeded" ]; then
    mkdir -p "$cache" 2>/dev/null && cp -R "$seed/." "$cache/" 2>/dev/null && : > "$cache/.seeded"
fi
exec /opt/s1tiling-cloud/venv/bin/s1tiling-cloud "$@"
