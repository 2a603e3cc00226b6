"""``python -m napari_colorgan.cli``: the same as the ``napari-colorgan`` command."""

import sys

from napari_colorgan.cli import main

sys.exit(main())
