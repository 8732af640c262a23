#!/usr/bin/env bash
# What the tests need besides Node.js: a Docker engine answering, gVisor's runsc registered with it
# (the interpreter's suites run under runc and under runsc), and the two test images (built with no
# registry, cached by tag). On a fresh Debian machine, as root, it installs and starts what is
# missing (as .ci/run does); otherwise it says what to install. Quick when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v pkill >/dev/null 2>&1 || missing+=(procps)
command -v runsc >/dev/null 2>&1 || missing+=(runsc)
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

# runsc as a runtime of the engine: merged into /etc/docker/daemon.json (other keys kept), then a
# SIGHUP makes dockerd reload its runtimes. "--network=none": the sandboxes need no network, and
# without it runsc refuses to start here ("cannot run with network enabled in root network
# namespace"). An existing runsc entry is left as it is.
engine_has_runsc() { docker info --format '{{json .Runtimes}}' 2>/dev/null | grep -q '"runsc"'; }
file_has_runsc() { grep -qs '"runsc"' /etc/docker/daemon.json; }
registered=0
# the file too: a dockerd restarted later (ensure-docker.sh, the fault suite) must find it there
if ! engine_has_runsc || { ((EUID == 0)) && ! file_has_runsc; }; then
  if ((EUID != 0)); then
    echo "test-prerequisites: the Docker engine has no runsc runtime: add it to /etc/docker/daemon.json (see scripts/test-prerequisites.sh) as root" >&2
    exit 1
  fi
  changed=$(RUNSC="$(command -v runsc)" node -e '
    const fs = require("node:fs")
    const file = "/etc/docker/daemon.json"
    const config = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8") || "{}") : {}
    config.runtimes ??= {}
    if (config.runtimes.runsc) {
      console.log("no")
    } else {
      config.runtimes.runsc = { path: process.env.RUNSC, runtimeArgs: ["--network=none"] }
      fs.mkdirSync("/etc/docker", { recursive: true })
      fs.writeFileSync(file + ".tmp", JSON.stringify(config, null, 2) + "\n")
      fs.renameSync(file + ".tmp", file)
      console.log("yes")
    }
  ')
  [ "$changed" = yes ] && echo "test-prerequisites: registered runsc in /etc/docker/daemon.json" >&2
  if pid=$(pgrep -o -x dockerd); then
    kill -HUP "$pid"
  else
    echo "test-prerequisites: no local dockerd to reload: restart the Docker engine so it reads /etc/docker/daemon.json" >&2
    exit 1
  fi
  for _ in $(seq 1 60); do
    engine_has_runsc && break
    sleep 0.5
  done
  if ! engine_has_runsc; then
    echo "test-prerequisites: the Docker engine still lists no runsc runtime after reloading /etc/docker/daemon.json" >&2
    exit 1
  fi
  registered=1
fi

docker/build-offline-image.sh
test/systemd/build-image.sh
if ((registered)); then
  # once, right after registering: a runtime that is listed may still be unable to run here
  docker run --rm --runtime runsc --network none mcp-code-interpreter-test:bookworm true >&2 ||
    { echo "test-prerequisites: runsc is registered but cannot run a container here (above)" >&2; exit 1; }
fi
