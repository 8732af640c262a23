#!/usr/bin/env bash
# Build the code-interpreter sandbox image used by the tests, with no image
# registry: Debian bookworm is bootstrapped from the Debian mirror with
# debootstrap and turned into an image with `docker import`.
#
# Usage: docker/build-offline-image.sh [TAG]      (default: mcp-code-interpreter-test:bookworm)
# Env:   FORCE=1         rebuild even if TAG exists with the current recipe
#        MIRROR=URL      Debian mirror (default http://deb.debian.org/debian)
#        LOCK_TIMEOUT=S  seconds to wait for a concurrent build of TAG (default 1800)
#
# The image holds python3 with numpy, pandas, matplotlib (Agg backend), scipy,
# scikit-learn and seaborn, i.e. the usual data-analysis stack; pip is present
# but Debian marks the system Python "externally managed" (PEP 668) and the
# sandbox has no network, so nothing is meant to be pip-installed at run time.
#
# Caching: the image carries a label with a hash of the recipe below. If TAG
# exists with the same hash the script exits at once (about a second); an
# edited recipe or FORCE=1 rebuilds. The new image is only tagged after it has
# passed verification, so a failed build never leaves a broken TAG behind.
# Needs root (debootstrap), a running Docker engine, and about 1.5 GB in /var/tmp.
set -euo pipefail

readonly DEFAULT_TAG='mcp-code-interpreter-test:bookworm'
readonly SUITE='bookworm'
readonly MIRROR="${MIRROR:-http://deb.debian.org/debian}"
readonly PACKAGES='python3,python3-numpy,python3-pandas,python3-matplotlib,python3-scipy,python3-sklearn,python3-seaborn,python3-pip,ca-certificates'
readonly CHANGES=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  'ENV MPLBACKEND=Agg'
  'ENV LANG=C.UTF-8'
  'ENV PYTHONDONTWRITEBYTECODE=1'
  'CMD ["python3"]'
)
readonly RECIPE_LABEL='org.mcp-server-manager.recipe'
# Bump when the build steps change in a way the variables above don't show.
readonly RECIPE_VERSION=2
readonly VERIFY_CMD='import numpy, pandas, matplotlib; print("ok")'

TAG="${1:-$DEFAULT_TAG}"
START=$SECONDS
WORKDIR=''
NEW_ID=''
TAGGED=0

log() { printf '[build-offline-image +%ss] %s\n' "$((SECONDS - START))" "$*" >&2; }
die() { printf '[build-offline-image] ERROR: %s\n' "$*" >&2; exit 1; }

recipe_hash() {
  printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$PACKAGES" "${CHANGES[@]}" | sha256sum | cut -c1-16
}

# Prints the recipe label of TAG, or nothing if TAG does not exist.
existing_recipe() {
  docker image inspect --format "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$TAG" 2>/dev/null || true
}

cleanup() {
  local rc=$? mnt
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
    printf '[build-offline-image] FAILED (exit %s) after %ss; TAG %s was not changed.\n' \
      "$rc" "$((SECONDS - START))" "$TAG" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

command -v docker >/dev/null || die "docker CLI not found (apt-get install docker.io)"
if ! timeout 20 docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; then
  die "no Docker engine is answering at ${DOCKER_HOST:-unix:///var/run/docker.sock}.
  Start one, e.g. as root:  service docker start
  or, where there is no init system:  nohup dockerd --bridge=none --iptables=false >/var/log/dockerd.log 2>&1 &
  then check with:  docker info"
fi

RECIPE="$(recipe_hash)"
if [[ "${FORCE:-0}" != 1 && "$(existing_recipe)" == "$RECIPE" ]]; then
  log "image $TAG is up to date (recipe $RECIPE); nothing to do (FORCE=1 rebuilds)"
  exit 0
fi

((EUID == 0)) || die "building needs root (debootstrap); run as root or with sudo"
for cmd in debootstrap flock tar sha256sum; do
  command -v "$cmd" >/dev/null || die "$cmd not found (apt-get install debootstrap util-linux tar coreutils)"
done

# One build per TAG at a time: a second invocation waits, then uses the image
# the first one built (even with FORCE=1: that image is brand new).
LOCK_FILE="/var/tmp/mcp-image-build.${TAG//[^A-Za-z0-9._-]/_}.lock"
exec 9>"$LOCK_FILE"
if ! flock -n 9; then
  id_before="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  log "another build of $TAG is running; waiting for it (lock $LOCK_FILE)"
  flock -w "${LOCK_TIMEOUT:-1800}" 9 || die "timed out waiting for lock $LOCK_FILE"
  id_after="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
  if [[ "$(existing_recipe)" == "$RECIPE" && ("${FORCE:-0}" != 1 || "$id_after" != "$id_before") ]]; then
    log "image $TAG was built by the other invocation; done"
    exit 0
  fi
fi

avail_kb="$(df -Pk /var/tmp | awk 'NR == 2 { print $4 }')"
((avail_kb > 1500000)) || log "warning: only $((avail_kb / 1024)) MB free in /var/tmp; the build needs about 1.5 GB"

OLD_ID="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
WORKDIR="$(mktemp -d /var/tmp/mcp-code-interpreter-build.XXXXXX)"
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

# python3-scipy Depends on python3-pythran, which drags in g++, boost headers,
# python3-dev and BLAS headers (~500 MB) that scipy never uses at run time
# (pythran only compiled some of its modules). Drop that one dependency from
# dpkg's record, then let apt purge everything not needed by the requested
# packages or the base system (Recommends included), so dpkg/apt stay consistent.
log "pruning build-only dependencies (pythran, compilers, -dev packages)"
mount -t proc proc "$ROOTFS/proc"
sed -i '/^Package: python3-scipy$/,/^$/ s/ python3-pythran\( ([^)]*)\)\?,//' "$ROOTFS/var/lib/dpkg/status"
# shellcheck disable=SC2016 # ${Package} etc. are dpkg-query fields, not shell
mapfile -t all_pkgs < <(chroot "$ROOTFS" dpkg-query -W -f '${Package}\n')
# shellcheck disable=SC2016
mapfile -t base_pkgs < <(chroot "$ROOTFS" dpkg-query -W -f '${Package} ${Priority} ${Essential}\n' |
  awk '$2 == "required" || $3 == "yes" { print $1 }')
((${#all_pkgs[@]} > 0 && ${#base_pkgs[@]} > 0)) || die "could not list the packages in $ROOTFS"
IFS=, read -r -a wanted_pkgs <<<"$PACKAGES"
chroot "$ROOTFS" apt-mark auto "${all_pkgs[@]}" >/dev/null
chroot "$ROOTFS" apt-mark manual apt "${wanted_pkgs[@]}" "${base_pkgs[@]}" >/dev/null
if ! chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get -y -q \
  -o APT::AutoRemove::RecommendsImportant=false -o APT::AutoRemove::SuggestsImportant=false \
  autoremove --purge >>"$LOG_FILE" 2>&1 || ! chroot "$ROOTFS" apt-get check >>"$LOG_FILE" 2>&1; then
  tail -n 30 "$LOG_FILE" >&2
  die "pruning packages failed"
fi
chroot "$ROOTFS" dpkg-query -W python3-pythran >/dev/null 2>&1 &&
  log "warning: python3-pythran is still installed; the image will be ~500 MB larger"
log "$(chroot "$ROOTFS" dpkg-query -W -f '.\n' | wc -l) packages left"

# Pre-build matplotlib's font cache so each sandbox run doesn't pay for it;
# a failure here only costs speed, the verification below is what counts.
chroot "$ROOTFS" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin MPLBACKEND=Agg \
  python3 -c 'import matplotlib.pyplot' >/dev/null 2>&1 ||
  log "warning: could not pre-build the matplotlib font cache"
umount "$ROOTFS/proc"

log "trimming apt caches, docs, man pages and locales"
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin \
  "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
  "$ROOTFS"/usr/share/locale/* "$ROOTFS"/tmp/* "$ROOTFS"/root/.cache/pip
# The libraries' own unit tests (~160 MB) are never imported at run time.
find "$ROOTFS"/usr/lib/python3/dist-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} +
# Docker supplies these per container; don't bake the build host's into the image.
: >"$ROOTFS/etc/hostname"
: >"$ROOTFS/etc/resolv.conf"

log "importing into docker"
change_args=()
for c in "${CHANGES[@]}" "LABEL $RECIPE_LABEL=$RECIPE"; do change_args+=(--change "$c"); done
NEW_ID="$(tar --numeric-owner -C "$ROOTFS" -c . | docker import "${change_args[@]}" - | tail -n 1)"
[[ "$NEW_ID" == sha256:* ]] || die "docker import did not return an image id (got '$NEW_ID')"
log "imported $NEW_ID"

log "verifying: python3 -c '$VERIFY_CMD' (then scipy/sklearn/seaborn and an Agg PNG)"
out="$(docker run --rm --network none "$NEW_ID" python3 -c "$VERIFY_CMD")" || die "verification run failed"
[[ "$out" == ok ]] || die "verification printed '$out', expected 'ok'"
out="$(docker run --rm --network none "$NEW_ID" python3 -c '
import io, matplotlib, matplotlib.pyplot as plt, numpy as np, pandas as pd, seaborn
import scipy.stats, scipy.signal, scipy.optimize, scipy.interpolate, scipy.sparse
import sklearn.linear_model, sklearn.ensemble, sklearn.cluster, sklearn.model_selection
x = np.arange(20.0); df = pd.DataFrame({"x": x, "y": 2 * x + 1})
assert abs(scipy.stats.linregress(df.x, df.y).slope - 2) < 1e-9
assert abs(sklearn.linear_model.LinearRegression().fit(df[["x"]], df.y).coef_[0] - 2) < 1e-9
seaborn.lineplot(data=df, x="x", y="y"); buf = io.BytesIO(); plt.savefig(buf, format="png")
assert buf.getvalue()[:4] == b"\x89PNG", "not a PNG"
print("ok", matplotlib.get_backend())')" || die "extended verification failed"
log "verification output: $out"

docker tag "$NEW_ID" "$TAG"
TAGGED=1
if [[ -n "$OLD_ID" && "$OLD_ID" != "$NEW_ID" ]]; then
  # Drop the superseded image if nothing else uses it, so rebuilds don't pile up.
  docker image rm "$OLD_ID" >/dev/null 2>&1 || true
fi
size="$(docker image inspect --format '{{.Size}}' "$TAG")"
log "built $TAG ($NEW_ID, $((size / 1000000)) MB) in $((SECONDS - START))s"
