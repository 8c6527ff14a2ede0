"""The beta-VAE sweep on sprites: reconstruction against MIG, one dot per beta.

    perceptzoo bench beta_vae-sprites-beta1 beta_vae-sprites-beta2 beta_vae-sprites-beta4 \
        beta_vae-sprites-beta8 beta_vae-sprites-beta16
    python benchmarks/vae_beta_sprites.py

The five recipes (src/perceptzoo/bench/recipes/vae.py) train Higgins et al.'s dSprites model per
beta and score it with `beta_vae_study` (MIG, the beta-VAE metric, reconstruction and KL, a latent
traversal in benchmarks/figures/vae/). This script only draws their trade-off from the results:
benchmarks/figures/vae/sprites-tradeoff.png.

Published reference: Chen et al. 2018 (Figure 5) report MIG ~0.1-0.35 for beta-VAE on dSprites
depending on beta; our sprites are a reduced dSprites grid, so that is a scale, not a target.
"""

from __future__ import annotations

import json

from common import RESULTS
from PIL import Image, ImageDraw

from perceptzoo.io import atomic_write

FIGURES = RESULTS.parent / "figures" / "vae"
BETAS = (1, 2, 4, 8, 16)


def tradeoff_plot(points: list[tuple[float, float, float]], path) -> None:
    """Reconstruction (nats, x) against MIG (y), one labelled dot per beta (Pillow only)."""
    w, h, m = 520, 380, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    xs, ys = [p[1] for p in points], [p[2] for p in points]
    x0, x1 = min(xs) - 5, max(xs) + 5
    y0, y1 = 0.0, max(max(ys) * 1.2, 0.05)

    def at(x, y):
        return m + (x - x0) / (x1 - x0) * (w - 2 * m), h - m - (y - y0) / (y1 - y0) * (h - 2 * m)

    d.line([(m, h - m), (w - m, h - m)], fill="black")
    d.line([(m, h - m), (m, m)], fill="black")
    d.text((w / 2 - 120, h - m + 25), "reconstruction -E log p(x|z) (nats), lower is better",
           fill="black")
    d.text((5, m - 30), "MIG (higher is more disentangled)", fill="black")
    for v in (x0, (x0 + x1) / 2, x1):
        d.text((at(v, 0)[0] - 12, h - m + 5), f"{v:.0f}", fill="black")
    for v in (0.0, y1 / 2, y1):
        d.text((10, at(x0, v)[1] - 6), f"{v:.2f}", fill="black")
    for beta, x, y in points:
        px, py = at(x, y)
        d.ellipse([px - 4, py - 4, px + 4, py + 4], fill=(30, 60, 160))
        d.text((px + 6, py - 14), f"beta={beta:g}", fill="black")
    atomic_write(path, lambda tmp: img.save(tmp, format="PNG"))


def main() -> None:
    points = []
    for beta in BETAS:
        path = RESULTS / f"beta_vae-sprites-beta{beta:g}.json"
        if path.exists():
            m = json.loads(path.read_text())["metrics"]
            points.append((beta, m["test_reconstruction_nats"], m["mig"]))
    if not points:
        raise SystemExit("no beta_vae-sprites-beta*.json result: run the recipes first (see "
                         "this script's docstring)")
    FIGURES.mkdir(parents=True, exist_ok=True)
    tradeoff_plot(points, FIGURES / "sprites-tradeoff.png")
    print(f"wrote {FIGURES / 'sprites-tradeoff.png'} ({len(points)} betas)")


if __name__ == "__main__":
    main()
