#!/bin/sh
# Builds FOGRA39.icc, the default print output intent, from FOGRA's characterisation data as shipped by
# Debian's icc-profiles-free (/usr/share/color/icc/FOGRA39L.ti3), with ArgyllCMS colprof (Debian: argyll).
# The profile is committed, so builds never need argyll; rerun this only to remake it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp /usr/share/color/icc/FOGRA39L.ti3 "$work/FOGRA39.ti3"
cd "$work"
# -qm medium quality; -kr black generation ramp; -l330 total ink limit of ISO 12647-2 coated paper;
# -A/-M/-D/-C: manufacturer, model, description, copyright written into the profile.
colprof -qm -kr -l330 \
  -A "publish" -M "FOGRA39" \
  -D "FOGRA39 (ISO 12647-2:2004 coated, 60 l/cm), built by colprof from icc-profiles-free FOGRA39L.ti3" \
  -C "Characterisation data FOGRA39L.ti3: Kai-Uwe Behrmann, zlib licence (Debian icc-profiles-free). Profile free to redistribute." \
  FOGRA39
cp FOGRA39.icc "$here/FOGRA39.icc"
