# shellcheck shell=bash
# Steps shared by the scripts that build images with no registry (debootstrap from the Debian
# mirror, then `docker import`), cached by a recipe label and tagged only once verified.
#
# A script sets IMAGE_NAME (log prefix), TAG, SUITE, MIRROR, PACKAGES, CHANGES (array) and
# RECIPE_LABEL, defines recipe_hash (and optionally cleanup_extra), sources this file, then calls:
#   image_require_engine; image_exit_if_current; image_require_build_tools; image_lock
#   image_debootstrap <tmp-prefix>; …its own steps on $ROOTFS…; image_trim; image_import
#   …its own verification of $NEW_ID…; image_tag

START=$SECONDS
WORKDIR=''
NEW_ID=''
TAGGED=0

log() { printf '[%s +%ss] %s\n' "$IMAGE_NAME" "$((SECONDS - START))" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$IMAGE_NAME" "$*" >&2; exit 1; }

# Prints the recipe label of TAG, or nothing if TAG does not exist.
existing_recipe() {
  docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$TAG" 2>/dev/null || true
}

image_cleanup() {
  local rc=$? mnt
  if declare -F cleanup_extra >/dev/null; then cleanup_extra; fi
  if [[ -n "$WORKDIR" && -d "$WORKDIR" ]]; then
    # debootstrap normally unmounts what it mounted, but not if it was killed;
    # never rm -rf through a live /proc, /sys or /dev bind mount.
    while read -r mnt; do
      umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$WORKDIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$WORKDIR" || log "warning: could not remove $WORKDIR"
  fi
  if [[ -n "$NEW_ID" && "$TAGGED" == 0 ]]; then
    docker image rm "$NEW_ID" >/dev/null 2>&1 || true # failed verification: drop it
  fi
  if ((rc != 0)); then
    printf '[%s] FAILED (exit %s) after %ss; TAG %s was not changed.\n' "$IMAGE_NAME" "$rc" "$((SECONDS - START))" "$TAG" >&2
  fi
}
trap image_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

image_require_engine() {
  command -v docker >/dev/null || die "docker CLI not found (apt-get install docker.io)"
  if ! timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
    die "no Docker engine is answering at ${DOCKER_HOST:-unix:///var/run/docker.sock}.
  Start one, e.g. as root:  scripts/ensure-docker.sh  (or service docker start)
  then check with:  docker info"
  fi
}

# Exits 0 at once when TAG already holds this recipe (unless FORCE=1).
image_exit_if_current() {
  RECIPE="$(recipe_hash)"
  if [[ "${FORCE:-0}" != 1 && "$(existing_recipe)" == "$RECIPE" ]]; then
    log "image $TAG is up to date (recipe $RECIPE); nothing to do (FORCE=1 rebuilds)"
    exit 0
  fi
}

image_require_build_tools() {
  ((EUID == 0)) || die "building needs root (debootstrap); run as root or with sudo"
  local cmd
  for cmd in debootstrap flock tar sha256sum; do
    command -v "$cmd" >/dev/null || die "$cmd not found (apt-get install debootstrap util-linux tar coreutils)"
  done
}

# One build per TAG at a time: a second invocation waits, then uses the image the first one built
# (even with FORCE=1: that image is brand new).
image_lock() {
  local lock_file="/var/tmp/mcp-image-build.${TAG//[^A-Za-z0-9._-]/_}.lock" id_before id_after
  exec 9>"$lock_file"
  if ! flock -n 9; then
    id_before="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
    log "another build of $TAG is running; waiting for it (lock $lock_file)"
    flock -w "${LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for lock $lock_file"
    id_after="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
    if [[ "$(existing_recipe)" == "$RECIPE" && ("${FORCE:-0}" != 1 || "$id_after" != "$id_before") ]]; then
      log "image $TAG was built by the other invocation; done"
      exit 0
    fi
  fi
}

# Bootstraps SUITE with PACKAGES into $ROOTFS (under a fresh $WORKDIR in /var/tmp).
image_debootstrap() {
  OLD_ID="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  WORKDIR="$(mktemp -d "/var/tmp/$1.XXXXXX")"
  ROOTFS="$WORKDIR/rootfs"
  LOG_FILE="$WORKDIR/debootstrap.log"
  log "debootstrap $SUITE (minbase + $PACKAGES) from $MIRROR into $ROOTFS"
  # Show only the phase lines; per-package lines go to the log, shown on failure.
  if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS" "$MIRROR" 2>&1 |
    tee "$LOG_FILE" |
    awk '!/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) / { print "  " $0; fflush() }' >&2; then
    tail -n 40 "$LOG_FILE" >&2 || true
    [[ -f "$ROOTFS/debootstrap/debootstrap.log" ]] && tail -n 40 "$ROOTFS/debootstrap/debootstrap.log" >&2
    die "debootstrap failed (mirror $MIRROR reachable? see the log lines above)"
  fi
  log "debootstrap done"
}

# Drops what an image never needs; extra paths (relative to the root) may be given.
image_trim() {
  log "trimming apt caches, docs, man pages and locales"
  local extra
  rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
    "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* "$ROOTFS"/var/cache/debconf/*-old \
    "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
    "$ROOTFS"/usr/share/locale/* "$ROOTFS"/tmp/*
  for extra in "$@"; do rm -rf "${ROOTFS:?}/$extra"; done
  # Docker supplies these per container; don't bake the build host's into the image.
  : >"$ROOTFS/etc/hostname"
  : >"$ROOTFS/etc/resolv.conf"
}

image_import() {
  log "importing into docker"
  local change_args=() c
  for c in "${CHANGES[@]}" "LABEL $RECIPE_LABEL=$RECIPE"; do change_args+=(--change "$c"); done
  NEW_ID="$(tar --numeric-owner -C "$ROOTFS" -c . | docker import "${change_args[@]}" - | tail -n 1)"
  [[ "$NEW_ID" == sha256:* ]] || die "docker import did not return an image id (got '$NEW_ID')"
  log "imported $NEW_ID"
}

# Tags the verified image and drops the one it replaces.
image_tag() {
  docker tag "$NEW_ID" "$TAG"
  TAGGED=1
  if [[ -n "$OLD_ID" && "$OLD_ID" != "$NEW_ID" ]]; then
    docker image rm "$OLD_ID" >/dev/null 2>&1 || true # if nothing else uses it: rebuilds don't pile up
  fi
  local size
  size="$(docker image inspect --format '{{.Size}}' "$TAG")"
  log "built $TAG ($NEW_ID, $((size / 1000000)) MB) in $((SECONDS - START))s"
}
