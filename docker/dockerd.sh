#!/usr/bin/env bash
# Make sure a Docker daemon answers; start Debian's `dockerd` in the background when none does.
#
# Our machines (and CI) have no init system running dockerd, no iptables rules to spare and
# maybe no bridge: the daemon is started without iptables and without the default bridge
# (containers use `--network host`), with overlay2, else vfs when the kernel refuses overlay.
# The daemon keeps running after this script ends; stop it with `kill $(cat $DOCKERD_PIDFILE)`.
# When this script started it, its last line on stdout is `started PID` (the caller stops it).
#
# Env: DOCKER (docker CLI), DOCKERD_LOG, DOCKERD_PIDFILE, DOCKERD_STORAGE_DRIVER, DOCKERD_WAIT_S
set -euo pipefail
DOCKER=${DOCKER:-docker}
LOG=${DOCKERD_LOG:-/var/log/s1tiling-dockerd.log}
PIDFILE=${DOCKERD_PIDFILE:-/var/run/s1tiling-dockerd.pid}
WAIT_S=${DOCKERD_WAIT_S:-30}

say() { echo "dockerd: $*" >&2; }
answers() { "$DOCKER" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

answers && exit 0
command -v dockerd >/dev/null || { say "no dockerd on PATH (apt-get install docker.io)"; exit 1; }
[[ $(id -u) -eq 0 ]] || { say "no daemon answers, and starting one needs root"; exit 1; }

start() {  # $1: storage driver
    say "starting dockerd (storage driver $1), log in $LOG"
    nohup dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver="$1" \
        --pidfile "$PIDFILE" >>"$LOG" 2>&1 &
    local pid=$! deadline=$((SECONDS + WAIT_S))
    while ((SECONDS < deadline)); do
        answers && { say "dockerd answers (pid $pid)"; echo "started $pid"; return 0; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    say "dockerd with $1 did not come up; last lines of $LOG:"
    tail -n 15 "$LOG" >&2
    return 1
}

mkdir -p "$(dirname "$LOG")"
if [[ -n ${DOCKERD_STORAGE_DRIVER:-} ]]; then
    start "$DOCKERD_STORAGE_DRIVER"
else
    start overlay2 || start vfs
fi
