"""The mode-coverage panel (benchmarks/figures/gans/modes_toy2d.png) from the mode recipes' runs.

Rows: the ring of 8 and the grid of 25 Gaussians; columns: GAN, WGAN-GP, unrolled GAN. Each
panel shows 2,500 samples of the recipe's seed-0 run (the folder `perceptzoo bench NAME`
trained, benchmarks/work/NAME) with the mode centres as red crosses; the title gives the
run's steps and its modes covered / high-quality fraction (`perceptzoo.metrics.modes`, the
scores mode_study reports for that seed). Nothing is trained here.

    .venv/bin/python benchmarks/gan_modes_figure.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from common import WORK
from PIL import Image, ImageDraw

from perceptzoo.core import runner
from perceptzoo.io import atomic_write
from perceptzoo.metrics.modes import mode_centres, mode_coverage

FIGURE = Path(__file__).resolve().parent / "figures" / "gans" / "modes_toy2d.png"
MODELS = ("gan", "wgan_gp", "unrolled_gan")
TOYS = ("8gaussians", "25gaussians")
SIZE, TITLE, LIM = 260, 18, 3.0


def panel(run: Path, toy: str) -> Image.Image:
    """One run's samples over [-LIM, LIM]^2 with the mode centres and a title."""
    model = runner.load(run)
    steps = json.loads((run / "config.json").read_text())["train"]["steps"]
    with torch.no_grad():
        x = model.sample(2500, generator=torch.Generator().manual_seed(1234))
    score = mode_coverage(x, toy)
    img = Image.new("RGB", (SIZE, SIZE + TITLE), "white")
    draw = ImageDraw.Draw(img)
    draw.text((4, 3), f"{run.name.split('-')[0]} seed 0, {steps} steps: "
                      f"{score['modes_covered']}/{score['num_modes']} modes, "
                      f"hq {score['high_quality_fraction']:.2f}", fill="black")

    def to_px(p: torch.Tensor) -> torch.Tensor:
        q = ((p.double() + LIM) / (2 * LIM) * SIZE).clamp(0, SIZE - 1)
        return torch.stack([q[:, 0], TITLE + SIZE - 1 - q[:, 1]], 1)

    for u, v in to_px(x).tolist():
        draw.point((u, v), fill=(30, 60, 160))
    for u, v in to_px(mode_centres(toy)[0]).tolist():
        draw.line((u - 3, v, u + 3, v), fill=(200, 30, 30))
        draw.line((u, v - 3, u, v + 3), fill=(200, 30, 30))
    draw.rectangle((0, TITLE, SIZE - 1, TITLE + SIZE - 1), outline=(190, 190, 190))
    return img


def main() -> None:
    torch.set_num_threads(1)
    sheet = Image.new("RGB", (SIZE * len(MODELS), (SIZE + TITLE) * len(TOYS)), "white")
    for row, toy in enumerate(TOYS):
        for col, name in enumerate(MODELS):
            run = WORK / f"{name}-toy2d_{toy}-modes"
            if not (run / "model.safetensors").exists():
                raise SystemExit(f"no trained run in {run}: perceptzoo bench {run.name}")
            sheet.paste(panel(run, toy), (col * SIZE, row * (SIZE + TITLE)))
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(FIGURE, lambda tmp: sheet.save(tmp, format="PNG"))
    print(f"wrote {FIGURE}")


if __name__ == "__main__":
    main()
