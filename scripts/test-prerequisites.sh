#!/usr/bin/env bash
# What the tests need besides Node.js: a Docker engine answering, and the two test images (built
# with no registry, cached by tag). On a fresh Debian machine, as root, it installs and starts
# what is missing (as .ci/run does); otherwise it says what to install. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v pkill >/dev/null 2>&1 || missing+=(procps)
if ((${#missing[@]} > 0)); then
  if ((EUID != 0)); then
    echo "test-prerequisites: the tests need ${missing[*]}: install them (sudo apt-get install ${missing[*]}) or run .ci/run as root" >&2
    exit 1
  fi
  echo "test-prerequisites: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends "${missing[@]}" ca-certificates >&2
fi
if ! docker info >/dev/null 2>&1; then
  if ((EUID != 0)); then
    echo "test-prerequisites: no Docker engine answers; start one (sudo scripts/ensure-docker.sh)" >&2
    exit 1
  fi
  scripts/ensure-docker.sh
fi
docker/build-offline-image.sh
test/systemd/build-image.sh
