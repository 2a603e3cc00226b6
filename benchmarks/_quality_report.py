"""Tables, JSON results and figures of the quality benchmark."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import _real_data as rd
import numpy as np
from _quality_common import Prediction

# ---- output: table, JSON, figures ------------------------------------------------------------------


def _fmt(value: Any, spec: str) -> str:
    """``value`` formatted, or a dash of the same width when missing or infinite."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        width = int("".join(ch for ch in spec.split(".")[0] if ch.isdigit()) or 1)
        return "—".rjust(width)
    return format(value, spec)


def print_strokes(stats: dict[str, Any]) -> None:
    """What the simulated strokes labelled, per class."""
    print(
        f"  strokes: {stats['strokes']} strokes, {stats['labelled_pixels']} px = "
        f"{stats['labelled_percent']:.2f} % of the stroked sections"
    )
    for name, c in stats["per_class"].items():
        print(
            f"    {name:<14} {c['pixels']:>7} px  {c['percent_of_sections']:.3f} % of sections  "
            f"{c['percent_of_class']:.2f} % of the class  {c['share_of_labels']:.1f} % of labels"
        )


def print_table(setting: str, result: dict[str, Any], label: str) -> None:
    """One row per method: PSNR, gain, SSIM, class acc, macro-F1, colourfulness, train time."""
    ref = result["reference"]
    base = ref["mean chroma"]["psnr"]
    rows = [(k, v) for k, v in ref.items()]
    for m, v in result["ours"].items():
        rows.append((f"ours [{label}] @{m:g} min", v))
        if "flips" in v:  # the same model with test-time flips
            rows.append((f"  + {v['flips']['n']} flips", v["flips"] | {"steps": v.get("steps")}))
    head = f"{'method':<28} {'PSNR':>6} {'gain':>6} {'SSIM':>6} {'acc':>6} {'macroF1':>7} {'colourf':>7} {'train s':>8} {'steps':>6}"
    print(f"\n== {setting} ==  (truth colourfulness {ref['truth']['colorfulness']:.1f})")
    print(head)
    for name, r in rows:
        psnr = r.get("psnr")
        gain = None if psnr is None or not np.isfinite(psnr) else psnr - base
        print(
            f"{name:<28} {_fmt(psnr, '6.2f')} {_fmt(gain, '+6.2f')} {_fmt(r.get('ssim'), '6.3f')} "
            f"{_fmt(r.get('class_accuracy'), '6.3f')} {_fmt(r.get('macro_f1'), '7.3f')} "
            f"{_fmt(r.get('colorfulness'), '7.1f')} {_fmt(r.get('train_s'), '8.1f')} {_fmt(r.get('steps'), '6d')}"
        )
    f1_rows = [(n, r["f1"]) for n, r in rows if "f1" in r]
    if f1_rows:
        names = list(rd.EM_CLASSES.values())
        print(f"{'per-class F1':<28} " + " ".join(f"{n[:8]:>8}" for n in names))
        for n, f1 in f1_rows:
            print(f"{n:<28} " + " ".join(_fmt(f1.get(c), "8.3f") for c in names))


def merge_results(
    path: Path,
    setting: str,
    result: dict[str, Any],
    notes: dict[str, Any],
    args: argparse.Namespace,
) -> None:
    """Merge into the JSON file: reference rows replaced, ours[label][budget] added/replaced."""
    data = json.loads(path.read_text()) if path.is_file() else {}
    stamp = args.stamp
    entry = data.setdefault(setting, {})
    entry["data"] = notes
    entry["reference"] = {k: v | {"run": stamp} for k, v in result["reference"].items()}
    runs = entry.setdefault("ours", {}).setdefault(args.label, {})
    for minutes, scores in result["ours"].items():
        runs[f"{minutes:g}"] = scores | {"run": stamp, "overrides": args.config}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=_json_default) + "\n")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def plot_f1(results_path: Path, out: Path) -> None:
    """Macro-F1 against training minutes: ours (a line per label) and the peer (a point)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(results_path.read_text())
    panels = [s for s in ("dense", "strokes") if s in data]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    # One colour per label across both panels, so a variant reads the same everywhere.
    labels = sorted({label for s in panels for label in data[s].get("ours", {})})
    colours = {label: f"C{i}" for i, label in enumerate(labels)}
    for ax, setting in zip(axes[0], panels, strict=True):
        entry = data[setting]
        for label, runs in sorted(entry.get("ours", {}).items()):
            pts = sorted((float(m), r["macro_f1"]) for m, r in runs.items())
            ax.plot(*zip(*pts, strict=True), "o-", color=colours[label], label=f"ours [{label}]")
        ref = entry["reference"]
        peer = ref["peer (RF)"]
        ax.plot(peer["train_s"] / 60, peer["macro_f1"], "s", color="k", label="peer (RF)")
        for name, style in (("truth", ":"), ("mean chroma", "--"), ("gray", "-.")):
            ax.axhline(
                ref[name]["macro_f1"], ls=style, color="gray", lw=1, label=f"{name} (decoded)"
            )
        ax.set(
            title=setting,
            xlabel="training minutes (2 CPU threads)",
            ylabel="macro-F1",
            ylim=(0, 1.03),
        )
        ax.set_xlim(left=0)
        ax.grid(alpha=0.3)
    for ax in axes[0]:
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(
        "Held-out EM sections 14-19 (Gerhard et al. 2013, doi:10.6084/m9.figshare.856713)",
        fontsize=9,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def busiest_crop(classes: np.ndarray, size: int) -> rd.Crop:
    """The size² window (stride size/4) with the most pixels of the small classes."""
    h, w = classes.shape
    size = min(size, h, w)
    rare = np.isin(classes, [2, 3, 4]).astype(np.int64)
    best, where = -1, (0, 0)
    for y in range(0, h - size + 1, max(size // 4, 1)):
        for x in range(0, w - size + 1, max(size // 4, 1)):
            n = int(rare[y : y + size, x : x + size].sum())
            if n > best:
                best, where = n, (y, x)
    y, x = where
    return slice(y, y + size), slice(x, x + size)


def plot_grid(
    gray: np.ndarray,
    preds: dict[str, Prediction],
    crop: rd.Crop,
    out: Path,
    flip: bool,
    caption: str,
) -> None:
    """Input | ours (largest budget) | peer | truth."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ours = [k for k in preds if k.startswith("ours@")][-1]
    panels = [
        ("input", gray),
        (ours, preds[ours].rgb),
        ("peer (RF)", preds["peer (RF)"].rgb),
        ("truth", preds["truth"].rgb),
    ]
    fig, axes = plt.subplots(1, 4, figsize=(13, 3.6))
    for ax, (title, img) in zip(axes, panels, strict=True):
        img = np.asarray(img)[crop]
        img = img[::-1] if flip else img
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    fig.suptitle(caption, fontsize=8)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def em_grid(
    setting: str,
    result_preds: dict[str, Prediction],
    test_raw: np.ndarray,
    classes: np.ndarray,
    section: int,
    folder: Path,
) -> None:
    """The picture grid of one EM setting on its first held-out section."""
    crop = busiest_crop(classes[0], 256)
    first = {k: Prediction(np.asarray(p.rgb)[0]) for k, p in result_preds.items()}
    caption = f"{setting}: held-out section {section}, crop y {crop[0].start}, x {crop[1].start} (Gerhard et al. 2013, CC BY-NC-SA 3.0)"
    plot_grid(test_raw[0], first, crop, folder / f"quality_grid_{setting}.png", False, caption)
