#!/usr/bin/env bash
# Build a Debian bookworm image that runs real systemd as PID 1, for the
# end-to-end test of the systemd unit, with no image registry: debootstrap
# from the Debian mirror, then `docker import`. The build verifies that the
# image boots, that the host's node runs inside it and that a Type=notify unit
# becomes active. sudo is in it because test/systemd.test.ts runs the README's
# install steps, which use it, verbatim.
#
# Usage: test/systemd/build-image.sh [TAG]      (default: mcp-manager-systemd-test:bookworm)
# Env:   FORCE=1         rebuild even if TAG exists with the current recipe
#        MIRROR=URL      Debian mirror (default http://deb.debian.org/debian)
#        LOCK_TIMEOUT=S  seconds to wait for a concurrent build of TAG (default 1800)
#        BOOT_TIMEOUT=S  seconds to wait for the verification boot (default 60)
#
# How a test must start the container (the host has cgroup v1; --privileged
# does not work on this host, and these flags are what is needed instead):
#
#   docker run -d --name NAME \
#     --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
#     --tmpfs /run --tmpfs /run/lock \
#     -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
#     -v "$(readlink -f "$(command -v node)")":/usr/local/bin/node:ro \
#     --stop-signal SIGRTMIN+3 \
#     mcp-manager-systemd-test:bookworm
#
#   - SYS_ADMIN + seccomp=unconfined: systemd mounts filesystems and creates
#     cgroups/namespaces for units; cgroup v1 needs the host hierarchy mounted
#     read-write (systemd only manages the container's own /docker/<id> subtree).
#   - --tmpfs /run, /run/lock: systemd expects /run to be a fresh tmpfs.
#   - node: bind-mount the host's node binary (it needs only libc/libstdc++,
#     which the image has); readlink -f in case `node` is a symlink.
#   - --stop-signal SIGRTMIN+3: systemd ignores SIGTERM as PID 1 (it re-executes
#     itself), so a plain `docker stop` waits 10 s and then kills; SIGRTMIN+3
#     makes it shut down cleanly. `docker rm -f` needs none of this. (The
#     image can't carry it: `docker import --change` rejects STOPSIGNAL.)
#   - Wait for boot: poll `docker exec NAME systemctl is-system-running` until
#     it prints "running" or "degraded" (typically 1-3 s; it prints "starting"
#     before, and docker exec can fail in the first few hundred ms).
#   - Units: put them in /etc/systemd/system (or /run/systemd/system) inside the
#     container, then `systemctl daemon-reload`. A Type=notify unit whose
#     readiness is sent by a child (e.g. `systemd-notify --ready` from a shell)
#     needs NotifyAccess=all.
#   - No network is needed; adding --network none is fine.
set -euo pipefail

readonly DEFAULT_TAG='mcp-manager-systemd-test:bookworm'
readonly SUITE='bookworm'
readonly MIRROR="${MIRROR:-http://deb.debian.org/debian}"
readonly PACKAGES='systemd,systemd-sysv,dbus,procps,python3,sudo'
readonly CHANGES=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV container=docker'
  'CMD ["/lib/systemd/systemd"]'
)
# Units that need hardware, kernel modules, a console, timers that reach the
# network, or privileges a container doesn't have: they only fail or slow boot.
readonly MASKED_UNITS=(
  getty.target console-getty.service getty@tty1.service serial-getty@.service
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
  systemd-modules-load.service kmod-static-nodes.service systemd-remount-fs.service
  systemd-timesyncd.service systemd-journald-audit.socket systemd-firstboot.service
  systemd-binfmt.service proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount
  sys-kernel-config.mount sys-kernel-debug.mount sys-kernel-tracing.mount
  sys-fs-fuse-connections.mount dev-hugepages.mount systemd-pstore.service
  apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer
)
readonly RECIPE_LABEL='org.mcp-server-manager.recipe'
# Bump when the build steps change in a way the variables above don't show.
readonly RECIPE_VERSION=1

TAG="${1:-$DEFAULT_TAG}"
BOOT_TIMEOUT="${BOOT_TIMEOUT:-60}"
VERIFY_CTR=''
IMAGE_NAME=systemd-image
recipe_hash() {
  printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$PACKAGES" "${CHANGES[@]}" "${MASKED_UNITS[@]}" |
    sha256sum | cut -c1-16
}
cleanup_extra() {
  if [[ -n "$VERIFY_CTR" ]]; then docker rm -f "$VERIFY_CTR" >/dev/null 2>&1 || true; fi
}
# shellcheck source-path=SCRIPTDIR source=../../scripts/lib/offline-image.sh
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/offline-image.sh"

image_require_engine
image_exit_if_current
image_require_build_tools
NODE_BIN="$(command -v node || true)"
[[ -n "$NODE_BIN" ]] || die "node not found on PATH; the verification bind-mounts the host's node"
NODE_BIN="$(readlink -f "$NODE_BIN")"
image_lock

image_debootstrap mcp-systemd-image-build

log "configuring systemd for a container (masking ${#MASKED_UNITS[@]} units)"
for unit in "${MASKED_UNITS[@]}"; do
  ln -sfn /dev/null "$ROOTFS/etc/systemd/system/$unit"
done
ln -sfn /lib/systemd/system/multi-user.target "$ROOTFS/etc/systemd/system/default.target"
# Empty machine-id: systemd gives every container its own transient id at boot.
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
# Keep the journal in memory only (no /var/log/journal growth in test containers).
mkdir -p "$ROOTFS/etc/systemd/journald.conf.d"
printf '[Journal]\nStorage=volatile\n' >"$ROOTFS/etc/systemd/journald.conf.d/container.conf"

# shellcheck disable=SC2119 # nothing to trim beyond the common list
image_trim
image_import

# --- verification: boot it the way a test will (flags documented at the top) ---
VERIFY_CTR="mcp-systemd-verify-$$"
log "verifying: booting $VERIFY_CTR"
docker run -d --name "$VERIFY_CTR" \
  --cap-add SYS_ADMIN --security-opt seccomp=unconfined \
  --tmpfs /run --tmpfs /run/lock \
  -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
  -v "$NODE_BIN":/usr/local/bin/node:ro \
  --stop-signal SIGRTMIN+3 \
  "$NEW_ID" >/dev/null || die "docker run failed"

boot_start=$SECONDS
state=''
while ((SECONDS - boot_start < BOOT_TIMEOUT)); do
  state="$(docker exec "$VERIFY_CTR" systemctl is-system-running 2>/dev/null || true)"
  [[ "$state" == running || "$state" == degraded ]] && break
  if [[ "$(docker inspect --format '{{.State.Running}}' "$VERIFY_CTR" 2>/dev/null)" != true ]]; then
    docker logs --tail 40 "$VERIFY_CTR" >&2 || true
    die "the container exited during boot (systemd could not start; logs above)"
  fi
  sleep 0.5
done
if [[ "$state" != running && "$state" != degraded ]]; then
  docker logs --tail 40 "$VERIFY_CTR" >&2 || true
  docker exec "$VERIFY_CTR" systemctl list-jobs --no-pager >&2 || true
  die "system did not finish booting within ${BOOT_TIMEOUT}s (last state: '${state:-no answer}')"
fi
log "boot finished in ~$((SECONDS - boot_start))s: is-system-running=$state"
docker exec "$VERIFY_CTR" systemd-analyze time 2>/dev/null | sed 's/^/  /' >&2 || true
log "systemctl --failed:"
docker exec "$VERIFY_CTR" systemctl --failed --no-pager --no-legend | sed 's/^/  /' >&2 || true
if [[ "$state" == degraded ]]; then
  log "warning: degraded boot (failed units above); tests still work, but consider masking them"
fi

node_version="$(docker exec "$VERIFY_CTR" node -e 'console.log(process.version)')" ||
  die "the host's node ($NODE_BIN) does not run inside the image"
log "node inside the container: $node_version"

log "starting a Type=notify unit (NotifyAccess=all, ready after 1 s)"
docker exec -i "$VERIFY_CTR" sh -c 'cat >/etc/systemd/system/mcp-verify-notify.service' <<'UNIT'
[Unit]
Description=build-image.sh verification of Type=notify

[Service]
Type=notify
NotifyAccess=all
ExecStart=/bin/sh -c 'sleep 1; systemd-notify --ready; exec sleep infinity'
TimeoutStartSec=20
UNIT
docker exec "$VERIFY_CTR" systemctl daemon-reload
# `systemctl start` of a Type=notify unit returns only once READY=1 arrived.
docker exec "$VERIFY_CTR" timeout 30 systemctl start mcp-verify-notify.service ||
  { docker exec "$VERIFY_CTR" systemctl status --no-pager mcp-verify-notify.service >&2 || true
    die "the Type=notify unit did not start"; }
unit_state="$(docker exec "$VERIFY_CTR" systemctl is-active mcp-verify-notify.service || true)"
[[ "$unit_state" == active ]] || die "the Type=notify unit is '$unit_state', expected 'active'"
log "Type=notify unit is $unit_state"

stop_start=$SECONDS
docker stop -t 20 "$VERIFY_CTR" >/dev/null
log "clean shutdown with SIGRTMIN+3 took $((SECONDS - stop_start))s"
docker rm -f "$VERIFY_CTR" >/dev/null
VERIFY_CTR=''

image_tag
