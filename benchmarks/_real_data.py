"""Real benchmark data: the Drosophila VNC ssTEM stack and the SDSS NGC 6976 frames.

Neither is part of the package; both are read from ``../shared/data`` (see its README for the
sources and licences) or from a folder given on the command line.

- EM: Gerhard, Funke, Martel, Cardona, Fetter, *Segmented anisotropic ssTEM dataset of neural
  tissue*, figshare 2013, doi:10.6084/m9.figshare.856713 (CC BY-NC-SA 3.0).
- SDSS: Sloan Digital Sky Survey g, r, i frames of NGC 6976 as reprojected for astropy's
  ``make_lupton_rgb`` documentation example (astropy/astropy-data, ``visualization/``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

#: The data folder beside the repository (``<repo>/../shared/data``).
DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Class ids 1..5 of the merged EM labels (0 is kept for "not annotated").
EM_CLASSES = {1: "membrane", 2: "glia", 3: "mitochondria", 4: "synapse", 5: "intracellular"}
#: Grey value of the label PNGs -> class id (four membrane orientations + junction merged).
EM_GREY_TO_CLASS = {0: 1, 32: 1, 64: 1, 96: 1, 128: 1, 159: 2, 191: 3, 223: 4, 255: 5}
#: A fixed, clearly distinguishable palette (hues spread around the Lab chroma plane).
EM_PALETTE = {
    1: (40, 90, 255),  # membrane: blue
    2: (250, 220, 0),  # glia / extracellular: yellow
    3: (0, 200, 70),  # mitochondria: green
    4: (230, 30, 30),  # synapse: red
    5: (0, 200, 220),  # intracellular: cyan
}
#: Sections that carry brush strokes in the "strokes" setting (every third training section).
STROKE_SECTIONS = (0, 3, 6, 9, 12)

#: Lupton et al. (2004) parameters of astropy's NGC 6976 documentation example
#: (``make_lupton_rgb(i, r, g, Q=10, stretch=0.5)``: the one that shows the faint features).
LUPTON = {"Q": 10.0, "stretch": 0.5}

Crop = tuple[slice, slice]


# ---- EM ---------------------------------------------------------------------------------------


def em_dir(root: Path) -> Path:
    """The EM dataset folder, checked."""
    path = root / "em-drosophila-vnc"
    if not (path / "raw").is_dir() or not (path / "labels").is_dir():
        raise FileNotFoundError(
            f"{path} lacks raw/ and labels/: get the dataset as described in "
            f"{root / 'README.md'} (doi:10.6084/m9.figshare.856713)"
        )
    return path


def grey_to_class(grey: np.ndarray) -> np.ndarray:
    """Label PNG grey values to class ids 1..5; unknown grey values are an error."""
    lut = np.zeros(256, np.uint8)
    for value, cls in EM_GREY_TO_CLASS.items():
        lut[value] = cls
    out = lut[grey]
    if (out == 0).any():
        bad = sorted(set(np.unique(grey[out == 0]).tolist()))
        raise ValueError(f"unexpected grey values in a label image: {bad[:10]}")
    return out


def load_em(root: Path, sections: list[int], crop: Crop | None = None) -> tuple[np.ndarray, ...]:
    """Raw sections (z, y, x) uint8 and their class ids (z, y, x) uint8 in 1..5.

    ``raw/NN.tif`` pairs with ``labels/labels000000NN.png`` (same section number NN).
    """
    import imageio.v3 as iio
    import tifffile

    path = em_dir(root)
    crop = crop or (slice(None), slice(None))
    raws, classes = [], []
    for k in sections:
        raw = tifffile.imread(path / "raw" / f"{k:02d}.tif")
        grey = iio.imread(path / "labels" / f"labels{k:08d}.png")
        if grey.ndim == 3:  # an RGB(A) PNG: the classes are grey, any channel will do
            grey = grey[..., 0]
        if raw.shape != grey.shape or raw.dtype != np.uint8:
            raise ValueError(f"section {k}: raw {raw.shape} {raw.dtype} vs labels {grey.shape}")
        raws.append(raw[crop])
        classes.append(grey_to_class(grey)[crop])
    return np.stack(raws), np.stack(classes)


# ---- simulated brush strokes -------------------------------------------------------------------


@dataclass
class StrokeStats:
    """How many pixels the simulated strokes labelled, per class, over the stroked sections."""

    labelled: dict[int, int] = field(default_factory=dict)
    area: dict[int, int] = field(default_factory=dict)
    pixels: int = 0
    strokes: int = 0

    def add(self, labels: np.ndarray, classes: np.ndarray, strokes: int) -> None:
        """Count one stroked section."""
        self.pixels += classes.size
        self.strokes += strokes
        for c in EM_CLASSES:
            self.labelled[c] = self.labelled.get(c, 0) + int((labels == c).sum())
            self.area[c] = self.area.get(c, 0) + int((classes == c).sum())

    def to_dict(self) -> dict[str, object]:
        """JSON form: per-class labelled pixels, % of the section and % of the class's area."""
        total = sum(self.labelled.values())
        return {
            "strokes": self.strokes,
            "labelled_pixels": total,
            "labelled_percent": 100 * total / max(self.pixels, 1),
            "per_class": {
                EM_CLASSES[c]: {
                    "pixels": self.labelled[c],
                    "percent_of_sections": 100 * self.labelled[c] / max(self.pixels, 1),
                    "percent_of_class": 100 * self.labelled[c] / max(self.area[c], 1),
                    "share_of_labels": 100 * self.labelled[c] / max(total, 1),
                }
                for c in EM_CLASSES
            },
        }


def _walk(
    inside: np.ndarray, start: tuple[int, int], rng: np.random.Generator, max_len: int
) -> list[tuple[int, int]]:
    """A persistent random walk from ``start`` that stays on ``inside`` (True pixels).

    Each step keeps roughly the current heading (a small random turn); where that would leave
    the region a few new headings are tried, so strokes follow thin structures like membranes.
    """
    h, w = inside.shape
    y, x = float(start[0]), float(start[1])
    heading = rng.uniform(0, 2 * math.pi)
    path = [start]
    for _ in range(max_len):
        for attempt in range(8):
            turn = rng.normal(0, 0.35) if attempt == 0 else rng.uniform(-math.pi, math.pi)
            new = heading + turn
            ny, nx = y + math.sin(new), x + math.cos(new)
            iy, ix = round(ny), round(nx)
            if 0 <= iy < h and 0 <= ix < w and inside[iy, ix]:
                heading, y, x = new, ny, nx
                if (iy, ix) != path[-1]:
                    path.append((iy, ix))
                break
        else:
            break
    return path


def _paint(
    labels: np.ndarray, region: np.ndarray, path: list[tuple[int, int]], cls: int, width: int
) -> int:
    """Draw ``path`` ``width`` pixels wide, clipped to ``region``; returns new pixels labelled."""
    r = width // 2
    ys, xs = np.array(path).T
    y0, y1 = max(ys.min() - r, 0), min(ys.max() + r + 1, labels.shape[0])
    x0, x1 = max(xs.min() - r, 0), min(xs.max() + r + 1, labels.shape[1])
    stroke = np.zeros((y1 - y0, x1 - x0), bool)
    stroke[ys - y0, xs - x0] = True
    if r:
        stroke = ndimage.binary_dilation(stroke, np.ones((width, width), bool))
    window = labels[y0:y1, x0:x1]
    new = stroke & region[y0:y1, x0:x1] & (window == 0)
    window[new] = cls
    return int(new.sum())


def class_budgets(classes: np.ndarray, fraction: float) -> dict[int, float]:
    """Pixels to label per class: ``fraction`` of the plane, shared ∝ sqrt(class area).

    Square-root shares mimic an annotator who paints more in large classes but still gives
    small ones (synapses, mitochondria) a few strokes; no class gets more than half its area.
    """
    areas = {c: int((classes == c).sum()) for c in EM_CLASSES}
    weights = {c: math.sqrt(a) for c, a in areas.items()}
    total = sum(weights.values())
    budget = fraction * classes.size
    return {c: min(budget * weights[c] / total, 0.5 * areas[c]) for c in EM_CLASSES}


def simulate_strokes(
    classes: np.ndarray,
    rng: np.random.Generator,
    fraction: float = 0.01,
    width: int = 3,
    max_len: int = 60,
) -> tuple[np.ndarray, int]:
    """Brush strokes on one section: labels (y, x) uint8 (0 = unannotated), strokes drawn.

    Thin random walks (``width`` px wide, up to ``max_len`` steps) start at random points inside
    each class region and stay inside it, until the class's share of ``fraction`` of the
    section's pixels is labelled. Every class present in the section gets strokes.
    """
    labels = np.zeros_like(classes, dtype=np.uint8)
    strokes = 0
    for cls, target in class_budgets(classes, fraction).items():
        region = classes == cls
        if not region.any():
            continue
        core = ndimage.binary_erosion(region, iterations=width // 2) if width > 1 else region
        inside = core if core.any() else region
        ys, xs = np.nonzero(inside)
        painted, tries = 0, 0
        while painted < max(target, 1) and tries < 20_000:
            i = int(rng.integers(ys.size))
            path = _walk(inside, (int(ys[i]), int(xs[i])), rng, max_len)
            painted += _paint(labels, region, path, cls, width)
            strokes += 1
            tries += 1
    return labels, strokes


def stroke_labels(
    classes: np.ndarray, sections: list[int], seed: int, fraction: float = 0.01
) -> tuple[np.ndarray, StrokeStats]:
    """Strokes on the sections in :data:`STROKE_SECTIONS`; other sections stay unannotated.

    ``classes`` is (z, y, x) for the section numbers ``sections``. Seeded per section number, so
    a section's strokes do not depend on which other sections are loaded.
    """
    labels = np.zeros_like(classes, dtype=np.uint8)
    stats = StrokeStats()
    for z, section in enumerate(sections):
        if section in STROKE_SECTIONS:
            rng = np.random.default_rng([seed, section])
            labels[z], n = simulate_strokes(classes[z], rng, fraction)
            stats.add(labels[z], classes[z], n)
    if not labels.any():
        raise ValueError(f"none of the sections {sections} is a stroke section {STROKE_SECTIONS}")
    return labels, stats


# ---- SDSS ---------------------------------------------------------------------------------------


def load_sdss(root: Path) -> dict[str, np.ndarray]:
    """The g, r, i frames as native-endian float32 (y, x)."""
    from astropy.io import fits

    path = root / "astro-sdss-ngc6976"
    bands = {}
    for band in "gri":
        file = path / f"reprojected_sdss_{band}.fits.bz2"
        if not file.is_file():
            raise FileNotFoundError(f"{file} not found: see {root / 'README.md'}")
        bands[band] = np.asarray(fits.getdata(file), dtype=np.float32)
    return bands


def lupton_truth(bands: dict[str, np.ndarray]) -> np.ndarray:
    """The colour ground truth: ``make_lupton_rgb(i, r, g, Q=10, stretch=0.5)``, uint8 RGB."""
    from astropy.visualization import make_lupton_rgb

    return np.asarray(make_lupton_rgb(bands["i"], bands["r"], bands["g"], **LUPTON), np.uint8)
