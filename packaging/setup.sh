#!/usr/bin/env bash
# One-command setup on Debian bookworm: system packages, model files (verified by SHA-256),
# a sample photo, and the build in build/. Idempotent: a second run only checks.
#
# Environment:
#   IDEU_MODELS        model cache (default: models/cache in the checkout)
#   IDEU_MODEL_MIRROR  local folder holding ict-face-light/ (default: ../shared/models if present)
#   IDEU_BUILD_DIR     build folder (default: build)
#   IDEU_SKIP_APT=1    do not touch system packages
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${IDEU_MODELS:-$ROOT/models/cache}
BUILD_DIR=${IDEU_BUILD_DIR:-$ROOT/build}
MANIFEST=$ROOT/models/manifest.json
if [ -z "${IDEU_MODEL_MIRROR:-}" ] && [ -d "$ROOT/../shared/models" ]; then
  IDEU_MODEL_MIRROR=$(cd "$ROOT/../shared/models" && pwd)
fi
MIRROR=${IDEU_MODEL_MIRROR:-}

say() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO=sudo
fi

# ------------------------------------------------------------------ system packages
PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl jq xz-utils
  qt6-base-dev qt6-base-dev-tools libgl-dev
  libtorch-dev libopenblas0-openmp libblas-dev python3-torch
  libopencv-dev libjpeg-dev libeigen3-dev libdlib-dev libdlib-data nlohmann-json3-dev
  libqcustomplot-dev
  xvfb xauth
)
command -v npm >/dev/null || PACKAGES+=(npm)

if [ "${IDEU_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${#missing[@]} Debian package(s): ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "Debian packages present"
  fi
fi

# ------------------------------------------------------------------ build
say "building into $BUILD_DIR"
cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DIDEU_DEFAULT_MODEL_DIR="$CACHE" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"

# ------------------------------------------------------------------ models
IDEU_MODELS="$CACHE" IDEU_MODEL_MIRROR="$MIRROR" IDEU_CLI="$BUILD_DIR/bin/ideudemon-cli" \
  bash "$ROOT/packaging/fetch_models.sh" "$MANIFEST"

# ------------------------------------------------------------------ sample photo
# NASA's public-domain portrait of Eileen Collins, as shipped in Debian's python3-skimage.
SAMPLE=$BUILD_DIR/samples/astronaut.png
if [ ! -f "$SAMPLE" ]; then
  tmp=$(mktemp -d)
  if (cd "$tmp" && apt-get download python3-skimage >/dev/null 2>&1) && dpkg-deb -x "$tmp"/python3-skimage_*.deb "$tmp/x"; then
    mkdir -p "$(dirname "$SAMPLE")"
    cp "$(find "$tmp/x" -path '*skimage/data/astronaut.png' | head -n1)" "$SAMPLE"
    say "sample photo: $SAMPLE"
  else
    say "warning: could not download python3-skimage for the sample photo (any photo works in its place)"
  fi
  rm -rf "$tmp"
fi
say "done"
