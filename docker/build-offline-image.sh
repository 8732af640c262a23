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
IMAGE_NAME=build-offline-image
recipe_hash() {
  printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$PACKAGES" "${CHANGES[@]}" | sha256sum | cut -c1-16
}
# shellcheck source-path=SCRIPTDIR source=../scripts/lib/offline-image.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/offline-image.sh"

image_require_engine
image_exit_if_current
image_require_build_tools
image_lock

avail_kb="$(df -Pk /var/tmp | awk 'NR == 2 { print $4 }')"
((avail_kb > 1500000)) || log "warning: only $((avail_kb / 1024)) MB free in /var/tmp; the build needs about 1.5 GB"

image_debootstrap mcp-code-interpreter-build

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

image_trim root/.cache/pip
# The libraries' own unit tests (~160 MB) are never imported at run time.
find "$ROOTFS"/usr/lib/python3/dist-packages -mindepth 2 -type d -name tests -prune -exec rm -rf {} +

image_import

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

image_tag
