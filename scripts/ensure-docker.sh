#!/usr/bin/env bash
# Make sure a Docker engine answers; start Debian's dockerd when none does (CI machines and fresh
# hosts have only the client). Containers here need no network: the bridge and iptables are off.
# dockerd also reads /etc/docker/daemon.json, where scripts/test-prerequisites.sh registers runsc
# (only "runtimes": a key given here as a flag too would stop dockerd from starting).
set -euo pipefail

if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "ensure-docker: no Docker engine answers and dockerd is not installed (apt-get install docker.io)" >&2
  exit 1
fi
# a dockerd that is still shutting down holds its pid file: wait for it, then drop a stale one
for _ in $(seq 1 120); do
  pgrep -x dockerd >/dev/null || break
  sleep 0.5
done
if [ -f /var/run/docker.pid ] && ! pgrep -x dockerd >/dev/null; then
  rm -f /var/run/docker.pid
fi
echo "ensure-docker: starting dockerd (log: /var/log/dockerd.log)" >&2
nohup dockerd --bridge=none --iptables=false >/var/log/dockerd.log 2>&1 &
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    echo "ensure-docker: engine is up" >&2
    exit 0
  fi
  sleep 0.5
done
echo "ensure-docker: dockerd did not answer within 60 s; last lines of /var/log/dockerd.log:" >&2
tail -n 20 /var/log/dockerd.log >&2
exit 1
