"""Learning curves of ``quality.py`` runs: held-out quality against training minutes.

    .venv/bin/python benchmarks/learning_curves.py \
        benchmarks/results/quality_issue26_curves.json \
        benchmarks/results/quality_issue26_balance.json --out docs/benchmarks/learning_curves.png

Reads the JSON results ``quality.py`` writes (any number of files, later files adding labels).
A label ``NAME-sS`` is method ``NAME`` at seed ``S`` (``ours-s0``; ``plain-s1`` is the plain L1
U-Net of ``--method plain``). Colour settings are scored as PSNR gain over mean chroma (dB),
EM settings as held-out class accuracy; the peer forest is a horizontal line (its training time
is not a CPU budget). Prints one row per method, budget and seed, with the steps each run made:
the machine's speed moves by 2x within an hour, so the steps say how much work a minute bought.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

COLOUR = ("hubble", "sdss")
GOALS = {"hubble": 3.0, "sdss": 3.0, "dense": 0.94}
TITLES = {
    "hubble": "Hubble Deep Field, right 40 %",
    "sdss": "SDSS NGC 6976, right 40 %",
    "dense": "EM dense labels, sections 14-19",
}


def score(setting: str, ref: dict[str, Any], run: dict[str, Any]) -> float:
    """The curve's y value of one run: dB over mean chroma, or class accuracy."""
    if setting in COLOUR:
        return float(run["psnr"] - ref["mean chroma"]["psnr"])
    return float(run["class_accuracy"])


#: Label prefixes shown under another name.
NAMES = {"plain": "plain U-Net", "balance0": "ours, plain cross entropy (dense default now)"}


def method_and_seed(label: str) -> tuple[str, int]:
    """``"plain-s1"`` -> ``("plain U-Net", 1)``; a label without ``-sS`` is seed 0."""
    found = re.fullmatch(r"(.*?)-s(\d+)", label)
    name, seed = (found.group(1), int(found.group(2))) if found else (label, 0)
    return NAMES.get(name, name), seed


def collect(paths: list[Path]) -> dict[str, Any]:
    """Per setting: the reference rows and ``{(method, seed, minutes): run}``."""
    out: dict[str, Any] = {}
    for path in paths:
        for setting, entry in json.loads(path.read_text()).items():
            if setting.startswith("_"):
                continue
            slot = out.setdefault(setting, {"reference": entry["reference"], "runs": {}})
            for label, runs in entry.get("ours", {}).items():
                method, seed = method_and_seed(label)
                for minutes, run in runs.items():
                    slot["runs"][(method, seed, float(minutes))] = run
    return out


def print_rows(curves: dict[str, Any]) -> None:
    """One line per setting, method, budget: the value of each seed, flips, colourfulness, steps."""
    for setting, slot in curves.items():
        ref = slot["reference"]
        unit = "dB over mean chroma" if setting in COLOUR else "class accuracy"
        peer = score(setting, ref, ref["peer (RF)"])
        print(f"\n== {setting} ({unit}; peer forest {peer:.3f}) ==")
        for (method, seed, minutes), run in sorted(slot["runs"].items()):
            flips = run.get("flips")
            extra = f"  flips {score(setting, ref, flips):.3f}" if flips else ""
            print(
                f"  {method:<12} {minutes:>4g} min  seed {seed}  {score(setting, ref, run):7.3f}"
                f"{extra}  colourfulness {run['colorfulness']:.1f}  steps {run.get('steps')}"
            )


def _order(method: str) -> tuple[int, str]:
    """Ours first, the plain U-Net next, variants after."""
    return ({"ours": 0, "plain U-Net": 1}.get(method, 2), method)


def _points(setting: str, slot: dict[str, Any], method: str, flips: bool) -> dict[float, list]:
    """``{minutes: [score of each seed]}`` of one method, one pass or with test-time flips."""
    points: dict[float, list[float]] = {}
    for (m, _seed, minutes), run in slot["runs"].items():
        scored = run.get("flips") if flips else run
        if m == method and scored is not None:
            points.setdefault(minutes, []).append(score(setting, slot["reference"], scored))
    return points


def _curve(ax: Any, points: dict[float, list[float]], colour: str, style: str, name: str) -> None:
    """Each seed a dot, a line through their means."""
    if not points:
        return
    xs = sorted(points)
    for x in xs:
        ax.plot([x] * len(points[x]), points[x], ".", color=colour, alpha=0.6)
    means = [sum(points[x]) / len(points[x]) for x in xs]
    ax.plot(xs, means, style, color=colour, label=name)


def plot(curves: dict[str, Any], out: Path) -> None:
    """One panel per setting: a line per method through the seeds' mean, each seed a dot."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    settings = [s for s in ("hubble", "sdss", "dense") if s in curves]
    fig, axes = plt.subplots(1, len(settings), figsize=(4.6 * len(settings), 3.8), squeeze=False)
    methods = sorted({m for s in settings for m, _, _ in curves[s]["runs"]}, key=_order)
    colours = {m: f"C{i}" for i, m in enumerate(methods)}
    for ax, setting in zip(axes[0], settings, strict=True):
        slot = curves[setting]
        ref = slot["reference"]
        for method, colour in colours.items():
            for flips, style in ((False, "-"), (True, "--")):
                points = _points(setting, slot, method, flips)
                name = f"{method} + 8 flips" if flips else method
                _curve(ax, points, colour, style, name)
        ax.axhline(score(setting, ref, ref["peer (RF)"]), color="k", ls="--", lw=1,
                   label="peer forest")  # fmt: skip
        ax.axhline(GOALS[setting], color="C3", ls=":", lw=1, label="issue 26 goal")
        ax.set(
            title=TITLES[setting],
            xlabel="training minutes (2-core CPU)",
            ylabel="gain over mean chroma (dB)" if setting in COLOUR else "class accuracy",
            xscale="log",
        )
        ax.set_xticks([1, 2, 5, 10], labels=["1", "2", "5", "10"])
        ax.set_xlim(0.8, 12)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Print the rows of the given results and draw their curves."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", type=Path, nargs="+", help="quality.py JSON results")
    parser.add_argument("--out", type=Path, help="figure to write (PNG)")
    args = parser.parse_args(argv)
    curves = collect(args.results)
    print_rows(curves)
    if args.out:
        plot(curves, args.out)
        print(f"\nfigure: {args.out}")


if __name__ == "__main__":
    main()
