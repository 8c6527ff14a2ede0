"""Pictures of episodes: a strip of rendered frames, a path drawn on a grid world, or the
observation traces of a vector-state episode.

    frame_strip(frames, "rollout.png")                   # frames (H, W, 3) uint8, 12 shown
    grid_path(desc, states, "rollout.png")               # desc (H, W) of "S", "F", "H", "G"
    observation_traces(observations, "rollout.png")      # (T, obs_dim) -> one line per dim

Every function writes a PNG atomically and returns its path. They take arrays, not
environments: what to draw is the caller's business (`rl.common.agent.Agent.write_rollouts`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from perceptzoo.io import atomic_write
from perceptzoo.viz.curves import plot_curves

#: Cell colours of a grid world: hole/cliff, goal, start, free.
GRID_COLOURS = {"H": (60, 60, 60), "G": (80, 180, 80), "S": (120, 160, 220),
                "F": (235, 240, 250)}


def _save(image: Image.Image, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: image.save(tmp, format="PNG"))
    return path


def frame_strip(frames: list[np.ndarray], path: str | Path, max_frames: int = 12) -> Path:
    """Up to `max_frames` evenly spaced frames (each (H, W, 3) uint8) side by side."""
    if not frames:
        raise ValueError("frame_strip needs at least one frame")
    idx = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    chosen = [np.asarray(frames[i], np.uint8) for i in idx]
    h, w = chosen[0].shape[:2]
    strip = np.full((h, w * len(chosen), 3), 255, np.uint8)
    for k, f in enumerate(chosen):
        strip[:, k * w:(k + 1) * w] = f[..., :3]
    return _save(Image.fromarray(strip), path)


def grid_path(desc: np.ndarray, states: list[int] | np.ndarray, path: str | Path,
              cell: int = 24) -> Path:
    """A grid world (`desc`: (H, W) letters S/F/H/G) with the visited cells joined by a line.

    `states` are flat cell indices row * W + column, in visiting order.
    """
    desc = np.asarray(desc).astype(str)
    h, w = desc.shape
    image = Image.new("RGB", (w * cell, h * cell), "white")
    draw = ImageDraw.Draw(image)
    for r in range(h):
        for c in range(w):
            draw.rectangle([c * cell, r * cell, (c + 1) * cell - 1, (r + 1) * cell - 1],
                           fill=GRID_COLOURS.get(desc[r, c], "white"), outline=(200, 200, 200))
    points = [((int(s) % w + 0.5) * cell, (int(s) // w + 0.5) * cell)
              for s in np.ravel(states).astype(int)]
    if len(points) > 1:
        draw.line(points, fill=(214, 39, 40), width=3)
    return _save(image, path)


def observation_traces(observations: np.ndarray, path: str | Path, *, title: str = "",
                       max_dims: int = 8) -> Path:
    """One line per observation dimension (the first `max_dims`) against the time step."""
    traces = np.asarray(observations, float).reshape(len(observations), -1)  # (T, obs_dim)
    series = {f"obs[{d}]": (np.arange(len(traces)), traces[:, d])
              for d in range(min(traces.shape[1], max_dims))}
    return plot_curves(series, path, title=title, xlabel="time step", ylabel="observation")
