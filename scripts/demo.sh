#!/usr/bin/env bash
# Set up from nothing and run the demo on the bundled sample data (CPU, a few minutes):
# trains small colorizers on a synthetic EM stack and the Hubble Deep Field, colorizes held-out
# data into OME-Zarr stores, writes side-by-side PNGs and prints the metrics.
# Arguments go to `napari-colorgan demo` (e.g. --minutes 6, --out DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" -e .
exec .venv/bin/napari-colorgan demo "$@"
