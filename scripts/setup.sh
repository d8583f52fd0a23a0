#!/usr/bin/env bash
# Idempotent set-up on Debian: the system packages the service needs (only those that are
# missing, so a second run is quick and needs no network), then .venv with the project.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
need=()
command -v tesseract >/dev/null || need+=(tesseract-ocr)
[ -n "$(find /usr/share/tesseract-ocr -name chi_sim.traineddata 2>/dev/null | head -1)" ] \
  || need+=(tesseract-ocr-chi-sim)
fc-list 2>/dev/null | grep -qi "wenquanyi micro hei" || need+=(fonts-wqy-microhei fontconfig)
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || need+=(python3-venv)
# OpenCV (under RapidOCR) loads libGL and GLib even without a screen.
ldconfig -p | grep -q 'libGL.so.1' || need+=(libgl1)
ldconfig -p | grep -q 'libglib-2.0.so.0' || need+=(libglib2.0-0)
# WeasyPrint (the PDF report) lays text out with Pango.
ldconfig -p | grep -q 'libpangoft2-1.0.so.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
# The browser tests drive Debian's Chromium through Playwright (no browser download).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The round export is checked in a real spreadsheet program (LibreOffice, headless).
command -v soffice >/dev/null || need+=(libreoffice-calc-nogui)
if ((${#need[@]})); then
  echo "setup: installing ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Python packages come from the lock (exact versions, each file's sha256 checked), so every
# machine runs the same code; the project itself goes in editable on top, without resolving
# anything again. The stamp holds the lock's and pyproject's digest: a change to either (a
# pull, `make lock`) re-installs, an unchanged tree skips pip altogether.
lock=requirements/lock.txt
stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
digest=$(cat "$lock" pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
  pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
  "${pip[@]}" --upgrade pip
  "${pip[@]}" --require-hashes -r "$lock"
  "${pip[@]}" --no-deps -e .
  echo "$digest" >"$stamp"
fi
