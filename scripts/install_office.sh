#!/usr/bin/env bash
# LibreOffice (headless), poppler (pdftotext, pdfinfo, pdftoppm) and the fonts metric-compatible
# with Calibri (Carlito) and Times New Roman (Liberation Serif), from Debian's packages: what the
# tests and `make pictures` use to check the extract and the draft as people will print them.
# Needs root (or sudo); does nothing when everything is already there.
set -euo pipefail
need=()
command -v soffice >/dev/null || need+=(libreoffice-calc-nogui libreoffice-writer-nogui)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
fc-list 2>/dev/null | grep -qi carlito || need+=(fonts-crosextra-carlito)
fc-list 2>/dev/null | grep -qi "liberation serif" || need+=(fonts-liberation)
if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
