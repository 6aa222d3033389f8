#!/bin/bash
# Experiment (nothing changed in the app): are the grey 150-pixel TV stills' extra years and
# gender misses a matter of grey or of size? Builds, from the colour photos of ../shared/faces
# (every person but the bbt_ ones), a set turned black and white at full size (GREY_DIR) and a
# set scaled so the detected face box is 130 px like the stills', each photo in colour (<person>_c)
# and in black and white (<person>_g) (SMALL_DIR), then evaluates both at 0 and 0.5, seeds 1-6.
# Reports of one run: grey-set.json, small-set.json (code a747e9d).
# Usage: grey-and-small-sets.sh FACES_DIR CLI OUT_DIR   (ImageMagick's convert is needed)
set -euo pipefail
faces=$1 cli=$2 out=$3
mkdir -p "$out/grey" "$out/small"
for dir in "$faces"/*/; do
  person=$(basename "$dir")
  case $person in bbt_*) continue ;; esac
  mkdir -p "$out/grey/$person" "$out/small/${person}_c" "$out/small/${person}_g"
  for photo in "$dir"*; do
    name=$(basename "$photo")
    convert "$photo" -colorspace Gray -type Grayscale "$out/grey/$person/$name"
    width=$("$cli" detect "$photo" 2>/dev/null | sed -n 's/.*face 0: box x=[0-9]* y=[0-9]* w=\([0-9]*\).*/\1/p')
    [ -z "$width" ] && continue
    percent=$(awk -v w="$width" 'BEGIN { p = 13000 / w; print (p > 100 ? 100 : p) }')
    small="$out/small/${person}_c/${name%.*}.png"
    convert "$photo" -resize "${percent}%" "$small"
    convert "$small" -colorspace Gray -type Grayscale "$out/small/${person}_g/${name%.*}.png"
  done
done
"$cli" evaluate "$out/grey" -o "$out/grey-report" --seeds 6 --scales 0,0.5
"$cli" evaluate "$out/small" -o "$out/small-report" --seeds 6 --scales 0,0.5
