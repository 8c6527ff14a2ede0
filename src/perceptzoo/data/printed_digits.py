"""Printed digits rendered from the fonts installed on this machine: the second, unpaired
domain of handwritten MNIST <-> printed digits (CycleGAN).

Each image is one character '0'..'9' drawn with Pillow from a TrueType font found under the
system font folders (Debian packages `fonts-dejavu-core` and `fonts-liberation`: DejaVu Sans,
Serif, Mono and Liberation Sans, Serif, Mono, Narrow, in regular, bold, italic and condensed
cuts), at a random size, stroke weight and rotation (+-12 degrees), then normalised the way
MNIST was (LeCun et al. 1998): the glyph's bounding box scaled to fit 20x20 keeping its aspect,
placed in a 28x28 frame so its centre of mass is the frame's centre. Nothing is downloaded;
every split is a pure function of its seed and the fonts found (the font list is sorted).

`load(split)` -> ArrayDataset x (N, 1, 28, 28) uint8 levels 0..255, y the digit. If no font is
found a UserError says which package to install.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo
from perceptzoo.errors import UserError

FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
#: font families used (file-name prefixes): sans, serif, mono and narrow cuts
FAMILIES = ("DejaVuSans", "DejaVuSerif", "LiberationSans", "LiberationSerif", "LiberationMono")
SIZES = {"train": 10000, "valid": 1000, "test": 2000}
SEEDS = {"train": 0, "valid": 1, "test": 2}

INFO = DatasetInfo(
    name="printed_digits", data_shape=(1, 28, 28), num_levels=256, value_range=(0.0, 255.0),
    num_classes=10, split_sizes=dict(SIZES),
    description="digits 0-9 rendered with Pillow from the installed DejaVu and Liberation "
                "fonts (random size, weight, +-12 degree rotation), MNIST-normalised 28x28")


def font_paths() -> list[Path]:
    """The TrueType fonts used, sorted (empty if none is installed)."""
    found: set[Path] = set()
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if root.is_dir():
            found.update(p for p in root.rglob("*.ttf") if p.name.startswith(FAMILIES)
                         and "Math" not in p.name and "ExtraLight" not in p.name)
    return sorted(found)


def _require_fonts() -> list[Path]:
    fonts = font_paths()
    if not fonts:
        raise UserError("no DejaVu or Liberation TrueType font found under "
                        f"{', '.join(FONT_DIRS)}; install them (Debian: apt-get install "
                        "fonts-dejavu-core fonts-liberation) to make the printed_digits data")
    return fonts


def _normalise(glyph: np.ndarray) -> np.ndarray:
    """A glyph (h, w) float in [0, 1] -> 28x28 MNIST-style: fit in 20x20, centre of mass at 14."""
    from PIL import Image

    rows, cols = np.nonzero(glyph > 0.05)
    glyph = glyph[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    h, w = glyph.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    small = Image.fromarray((glyph * 255).astype(np.uint8)).resize((nw, nh), Image.LANCZOS)
    small = np.asarray(small, dtype=np.float64) / 255
    total = small.sum()
    cy = (small.sum(1) * np.arange(nh)).sum() / total
    cx = (small.sum(0) * np.arange(nw)).sum() / total
    top = int(np.clip(round(13.5 - cy), 0, 28 - nh))
    left = int(np.clip(round(13.5 - cx), 0, 28 - nw))
    out = np.zeros((28, 28))
    out[top:top + nh, left:left + nw] = small
    return (out.clip(0, 1) * 255).round().astype(np.uint8)


def render(labels: np.ndarray, seed: int) -> np.ndarray:
    """Digits `labels` (N,) rendered with fonts, sizes, weights, rotations drawn from `seed`:
    (N, 1, 28, 28) uint8."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = _require_fonts()
    rng = np.random.default_rng(seed)
    cache: dict[tuple[int, int], ImageFont.FreeTypeFont] = {}
    out = np.zeros((len(labels), 1, 28, 28), dtype=np.uint8)
    for i, digit in enumerate(labels):
        f, size = int(rng.integers(len(fonts))), int(rng.integers(36, 60))
        if (f, size) not in cache:
            cache[(f, size)] = ImageFont.truetype(str(fonts[f]), size)
        canvas = Image.new("L", (96, 96), 0)
        ImageDraw.Draw(canvas).text((48, 48), str(int(digit)), fill=255, font=cache[(f, size)],
                                    anchor="mm", stroke_width=int(rng.integers(0, 3)),
                                    stroke_fill=255)
        canvas = canvas.rotate(float(rng.uniform(-12, 12)), resample=Image.BILINEAR)
        out[i, 0] = _normalise(np.asarray(canvas, dtype=np.float64) / 255)
    return out


@lru_cache(maxsize=3)
def _split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    rng = np.random.default_rng(1000 + SEEDS[split])
    labels = rng.integers(0, 10, SIZES[split])
    return torch.from_numpy(render(labels, SEEDS[split])), torch.from_numpy(labels)


def load(split: str) -> ArrayDataset:
    x, y = _split(split)
    return ArrayDataset(x.clone(), y.clone(), INFO, split)
