"""Line plots of results against steps: training curves, return curves, observation traces.

    plot_curves({"dqn": (steps, returns)}, "runs/dqn/curve.png", smooth=20)
    plot_curves({"ppo": (x, y), "sb3 ppo": (x2, y2)}, "figure.png", title="Pendulum-v1")

The plot is drawn with Pillow (the project does not depend on matplotlib): axes with ticks,
one coloured polyline per series (optionally a trailing moving average), and a legend. The PNG
is written atomically.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from perceptzoo.io import atomic_write

COLOURS = [(31, 119, 180), (214, 39, 40), (44, 160, 44), (255, 127, 14), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127)]


def moving_average(y: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over up to `window` values (same length as y)."""
    y = np.asarray(y, float)
    if window <= 1 or len(y) == 0:
        return y
    c = np.cumsum(np.insert(y, 0, 0.0))
    idx = np.arange(1, len(y) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def _ticks(low: float, high: float, n: int = 5) -> np.ndarray:
    if high <= low:
        high = low + 1.0
    raw = (high - low) / n
    mag = 10 ** np.floor(np.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    return np.arange(np.ceil(low / step) * step, high + 1e-9, step)


def _fmt(v: float) -> str:
    if abs(v) >= 1e4:
        return f"{v / 1000:.0f}k"
    return f"{v:g}" if abs(v) >= 1 or v == 0 else f"{v:.2g}"


def plot_curves(series: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path, *,
                title: str = "", xlabel: str = "environment steps", ylabel: str = "return",
                smooth: int = 1, size: tuple[int, int] = (640, 400),
                ylim: tuple[float, float] | None = None) -> Path:
    """One line per named (x, y) series, y smoothed by a trailing mean of `smooth` points."""
    width, height = size
    left, right, top, bottom = 64, 16, 28, 44
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    data = {k: (np.asarray(x, float), moving_average(np.asarray(y, float), smooth))
            for k, (x, y) in series.items() if len(x)}
    xs = np.concatenate([x for x, _ in data.values()]) if data else np.zeros(1)
    ys = np.concatenate([y for _, y in data.values()]) if data else np.zeros(1)
    x_lo, x_hi = float(xs.min()), float(xs.max()) if xs.max() > xs.min() else float(xs.min()) + 1
    y_lo, y_hi = ylim if ylim else (float(ys.min()), float(ys.max()))
    if y_hi <= y_lo:
        y_hi = y_lo + 1.0

    def px(x, y):
        u = left + (np.asarray(x) - x_lo) / (x_hi - x_lo) * (width - left - right)
        v = height - bottom - (np.clip(y, y_lo, y_hi) - y_lo) / (y_hi - y_lo) * (
            height - top - bottom)
        return u, v

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for t in _ticks(x_lo, x_hi):
        u, _ = px(t, y_lo)
        draw.line([u, height - bottom, u, height - bottom + 4], fill="black")
        draw.text((u - 10, height - bottom + 6), _fmt(t), fill="black", font=font)
    for t in _ticks(y_lo, y_hi):
        _, v = px(x_lo, t)
        draw.line([left - 4, v, left, v], fill="black")
        draw.line([left + 1, v, width - right - 1, v], fill=(230, 230, 230))
        draw.text((4, v - 6), _fmt(t), fill="black", font=font)
    draw.text((width // 2 - 40, height - 16), xlabel, fill="black", font=font)
    draw.text((4, 4), f"{ylabel}   {title}", fill="black", font=font)
    for i, (name, (x, y)) in enumerate(data.items()):
        colour = COLOURS[i % len(COLOURS)]
        u, v = px(x, y)
        draw.line(list(zip(u.tolist(), v.tolist())), fill=colour, width=2)
        draw.text((left + 8, top + 6 + 12 * i), f"- {name}", fill=colour, font=font)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))
    return path
