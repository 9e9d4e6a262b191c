#!/usr/bin/env bash
# `make pictures`: PNGs of the first page of the extract workbook and of the yearly
# evaluation draft, as LibreOffice prints them, for the README (docs/img/).
# Usage: scripts/pictures.sh <folder holding pctn_indicators_<period>.xlsx> <image folder>
set -euo pipefail
src=${1:?folder with the extract}
dst=${2:?image folder}
workbook=$(ls "$src"/pctn_indicators_*.xlsx | head -n 1)
draft=$(ls "$src"/pctn_bao_cao_danh_gia_*.docx | head -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$dst"
soffice --headless "-env:UserInstallation=file://$tmp/profile" --convert-to pdf --outdir "$tmp" \
    "$workbook" "$draft" >/dev/null
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$tmp/$(basename "${workbook%.xlsx}").pdf" "$dst/extract_first_page"
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$tmp/$(basename "${draft%.docx}").pdf" "$dst/draft_first_page"
echo "$dst/extract_first_page.png $dst/draft_first_page.png"
