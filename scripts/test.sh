#!/usr/bin/env bash
# Set up from nothing and run the whole test suite, on a fresh Debian machine without a display:
#   1. Debian packages napari needs to draw headless (Xvfb, Mesa OpenGL, xcb), if any is missing;
#   2. a virtual environment in .venv with the package, its test and docs extras;
#   3. lint, the plugin manifest, the documentation site, then pytest under Xvfb.
# TORCH_SPEC picks the torch build (default: the CPU wheel pinned for the project's machines).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0
  libxcb-shape0 libxcb-cursor0 libdbus-1-3 libfontconfig1
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
echo "== installing napari-colorgan with test and docs extras"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "${TORCH_SPEC:-torch==2.13.0}" -e ".[test,docs]"

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== plugin manifest"
.venv/bin/npe2 validate napari-colorgan
# The wheel and the site are only checked, not kept: a CI machine may keep its /tmp between runs.
scratch=$(mktemp -d)
echo "== sdist and wheel"
.venv/bin/python -m build --outdir "$scratch/dist" . > /dev/null
echo "== documentation"
export NO_MKDOCS_2_WARNING=1
.venv/bin/mkdocs build --strict --quiet --site-dir "$scratch/site"
rm -rf "$scratch"
echo "== pytest"
exec xvfb-run -a -s "-screen 0 1280x1024x24" .venv/bin/python -m pytest "$@"
