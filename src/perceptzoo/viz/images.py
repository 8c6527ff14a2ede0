"""Image grids and 2D scatter plots as PNG files, with Pillow alone (no torchvision)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from perceptzoo.io import atomic_write


def to_uint8(x: torch.Tensor, num_levels: int | None, value_range=(0.0, 1.0)) -> np.ndarray:
    """Map data-space values to 0..255: integer levels by num_levels, else by value_range."""
    x = x.detach().float().cpu()
    if num_levels is not None:
        x = x / max(num_levels - 1, 1)
    else:
        low, high = value_range
        x = (x - low) / (high - low)
    return (x.clamp(0, 1) * 255).round().to(torch.uint8).numpy()


def make_grid(images: np.ndarray, nrow: int | None = None, pad: int = 1) -> np.ndarray:
    """(N, C, H, W) uint8 -> one (H', W', C) uint8 image, `nrow` images per row."""
    n, c, h, w = images.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol = math.ceil(n / nrow)
    grid = np.zeros((ncol * (h + pad) + pad, nrow * (w + pad) + pad, c), dtype=np.uint8)
    for i in range(n):
        r, col = divmod(i, nrow)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        grid[top : top + h, left : left + w] = images[i].transpose(1, 2, 0)
    return grid


def save_grid(images: np.ndarray, path: str | Path, scale: int = 4, nrow: int | None = None):
    """Save (N, C, H, W) uint8 images as one PNG grid, upscaled `scale` times."""
    grid = make_grid(images, nrow)
    mode = "L" if grid.shape[2] == 1 else "RGB"
    img = Image.fromarray(grid[:, :, 0] if mode == "L" else grid, mode)
    img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    atomic_write(path, lambda tmp: img.save(tmp, format=image_format(path)))


#: Image formats a picture may be written as, by the file's suffix.
FORMATS = {".png": "PNG", ".gif": "GIF", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP",
           ".webp": "WEBP"}


def image_format(path: str | Path) -> str:
    """The Pillow format of `path`'s suffix (a .gif file holds GIF bytes, not PNG)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        from perceptzoo.errors import UserError

        raise UserError(f"cannot write an image to {path}: use one of "
                        f"{', '.join(sorted(FORMATS))}")
    return FORMATS[suffix]


def save_scatter(points: torch.Tensor, path: str | Path, size: int = 400, lim: float = 4.0):
    """Save 2D points (N, 2) as a PNG scatter plot over [-lim, lim]^2."""
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    xy = ((points.detach().float().cpu().numpy() + lim) / (2 * lim) * size).clip(0, size - 1)
    for x, y in xy:
        draw.point((float(x), float(size - 1 - y)), fill=(30, 60, 160))
    atomic_write(path, lambda tmp: img.save(tmp, format=image_format(path)))


def samples_path(path: str | Path, info) -> Path:
    """Where samples of this dataset go: a .wav beside a .png name for audio."""
    path = Path(path)
    return path.with_suffix(".wav") if info.modality == "audio" else path


def save_samples(samples: torch.Tensor, path: str | Path, info) -> Path:
    """Write model samples in data space: a PNG grid (images), a PNG scatter plot (2D points),
    or one WAV of the clips separated by 0.1 s of silence (audio). Returns the path written."""
    path = samples_path(path, info)
    if info.modality == "audio":
        from perceptzoo.data.fsdd import mu_law_decode, write_wav

        clips = mu_law_decode(samples.reshape(len(samples), -1).long(), info.num_levels - 1)
        gap = torch.zeros(len(clips), info.sample_rate // 10)
        audio = torch.cat([clips, gap], 1).flatten()
        atomic_write(path, lambda tmp: write_wav(audio, tmp, info.sample_rate))
        return path
    if info.modality == "points" or (samples.dim() == 2 and samples.shape[1] == 2):
        save_scatter(samples, path)
        return path
    if samples.dim() == 2:
        samples = samples.reshape(-1, *info.data_shape)
    if samples.dim() == 5:  # volumes (N, C, D, H, W): the three axis projections side by side
        samples = volume_projections(samples)
    save_grid(to_uint8(samples, info.num_levels, info.value_range), path)
    return path


def volume_projections(volumes: torch.Tensor) -> torch.Tensor:
    """(N, C, D, H, W) volumes -> (N, C, max(D, H), W + W + H + 3) images: the maximum along
    each axis, side by side (one pixel apart), so a grid of shapes shows their silhouettes."""
    views = [volumes.amax(dim=d) for d in (2, 3, 4)]  # (N, C, H, W), (N, C, D, W), (N, C, D, H)
    height = max(v.shape[-2] for v in views)
    padded = [torch.nn.functional.pad(v.float(), (0, 1, 0, height - v.shape[-2]))
              for v in views]
    return torch.cat(padded, dim=-1)
