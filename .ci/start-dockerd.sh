#!/usr/bin/env bash
# Start the Docker engine in the background when it is not already answering, then wait for it.
#
# There is no systemd on the CI machine, so dockerd is launched directly (as root) with its own
# session so it outlives this script. Idempotent: when `docker info` already answers, nothing is done.
#
# Usage:   sudo .ci/start-dockerd.sh            (or as root)
# Env:     DOCKERD_LOG       log file           (default /var/log/agentcore-dockerd.log)
#          DOCKERD_WAIT_S    seconds to wait    (default 60)
#          DOCKERD_ARGS      extra dockerd args (default none)
set -euo pipefail

log=${DOCKERD_LOG:-/var/log/agentcore-dockerd.log}
wait_s=${DOCKERD_WAIT_S:-60}

if docker info >/dev/null 2>&1; then
    echo "start-dockerd: docker is already running"
    exit 0
fi

command -v dockerd >/dev/null || { echo "start-dockerd: dockerd not installed (apt-get install docker.io)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    echo "start-dockerd: must run as root to start dockerd" >&2
    exit 1
fi

if ! pgrep -x dockerd >/dev/null; then
    # A stale pid file from a killed daemon stops a new one from starting.
    if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
        rm -f /var/run/docker.pid
    fi
    echo "start-dockerd: starting dockerd (log: $log)"
    # shellcheck disable=SC2086
    setsid nohup dockerd ${DOCKERD_ARGS:-} >>"$log" 2>&1 </dev/null &
fi

for _ in $(seq 1 $((wait_s * 4))); do
    if docker info >/dev/null 2>&1; then
        echo "start-dockerd: docker is ready"
        exit 0
    fi
    sleep 0.25
done
echo "start-dockerd: dockerd did not answer within ${wait_s}s; last log lines:" >&2
tail -n 30 "$log" >&2 || true
exit 1
