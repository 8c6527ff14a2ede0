"""Free Spoken Digit Dataset (FSDD): real 8 kHz speech as mu-law codes, for WaveNet-style models.

3,000 recordings of spoken digits 0-9 by 6 speakers (Jackson et al., "Free Spoken Digit
Dataset", doi:10.5281/zenodo.1342401; CC BY-SA 4.0), read from `fsdd.npz` in the data folder
(`PERCEPTZOO_DATA`; see the shared data README for its provenance and checksum).

Each clip (16-bit PCM, scaled to [-1, 1)) is mu-law companded and quantised to 256 levels
(ITU-T G.711; van den Oord et al. 2016, "WaveNet", eq. 1):

    f(x) = sign(x) ln(1 + mu |x|) / ln(1 + mu),   mu = 255,   code = round((f(x) + 1) / 2 * 255),

then cut into non-overlapping windows of `WINDOW` samples (a clip's remainder shorter than a
window is dropped). `x` is (N, 1, 1, WINDOW) uint8 codes, so `num_levels` = 256 and the
per-example shape (1, 1, WINDOW) also passes through the image-grid writer (one row per clip);
`y` is the spoken digit, for global conditioning.

Splits by recording index (the official rule puts indices 0-4 in test): test = 0-4, valid =
5-9, train = 10-49.

    >>> from perceptzoo.data import fsdd
    >>> codes = fsdd.mu_law_encode(torch.tensor([-1.0, 0.0, 0.5]))
    >>> fsdd.mu_law_decode(codes).round(decimals=2)
    tensor([-1.0000,  0.0000,  0.5000])
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from perceptzoo.data.base import ArrayDataset, DatasetInfo, check_once, data_dir, file_sha256
from perceptzoo.errors import UserError

SAMPLE_RATE = 8000
WINDOW = 1024
MU = 255
SIZES = {"train": 7017, "valid": 887, "test": 860}
INFO = DatasetInfo(
    name="fsdd",
    data_shape=(1, 1, WINDOW),
    num_levels=MU + 1,
    value_range=(0.0, float(MU)),
    num_classes=10,
    split_sizes=SIZES,
    description=f"Free Spoken Digit Dataset, 8 kHz speech, mu-law 256 codes, windows of "
                f"{WINDOW} samples, split by recording index (test 0-4, valid 5-9)",
    modality="audio",
    sample_rate=SAMPLE_RATE,
)


def mu_law_encode(audio: torch.Tensor, mu: int = MU) -> torch.Tensor:
    """Audio in [-1, 1] -> integer codes 0..mu (long)."""
    audio = audio.clamp(-1.0, 1.0)
    f = torch.sign(audio) * torch.log1p(mu * audio.abs()) / math.log1p(mu)
    return ((f + 1) / 2 * mu + 0.5).floor().long()


def mu_law_decode(codes: torch.Tensor, mu: int = MU) -> torch.Tensor:
    """Codes 0..mu -> audio in [-1, 1] (the inverse of the companding at the bin centres)."""
    f = codes.double() / mu * 2 - 1
    return (torch.sign(f) * ((1 + mu) ** f.abs() - 1) / mu).float()


def write_wav(audio: torch.Tensor, path: str | Path, sample_rate: int = SAMPLE_RATE) -> None:
    """Write mono audio in [-1, 1] (a 1-D tensor) as a 16-bit PCM WAV file."""
    import wave

    pcm = (audio.detach().cpu().clamp(-1, 1).numpy() * 32767).astype("<i2")
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())


#: sha256 of the shared data's fsdd.npz (see the data README).
SHA256 = "4c037041fe73d8c5d1e54f144ea4fde7668d1726ca810c27278ce8713f1f606b"


@lru_cache(maxsize=2)
def _windows(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    check_once(path, lambda: None if file_sha256(path) == SHA256 else
               "its sha256 is not the pinned one")
    try:
        with np.load(path) as f:
            audio, offsets, digit, index = f["audio"], f["offsets"], f["digit"], f["index"]
    except Exception as err:
        raise UserError(f"{path} is not a readable fsdd.npz ({type(err).__name__}); copy an "
                        "intact file there (see the data README)") from None
    codes = mu_law_encode(torch.from_numpy(audio.astype(np.float32) / 32768.0)).numpy()
    codes = codes.astype(np.uint8)
    out: dict[str, tuple[list, list]] = {"train": ([], []), "valid": ([], []), "test": ([], [])}
    for i in range(len(digit)):
        split = "test" if index[i] <= 4 else "valid" if index[i] <= 9 else "train"
        clip = codes[offsets[i] : offsets[i + 1]]
        for k in range(len(clip) // WINDOW):
            out[split][0].append(clip[k * WINDOW : (k + 1) * WINDOW])
            out[split][1].append(int(digit[i]))
    return {s: (np.stack(x)[:, None, None, :], np.array(y, dtype=np.int64))
            for s, (x, y) in out.items()}


def load(split: str, root: Path | str | None = None) -> ArrayDataset:
    path = data_dir(root) / "fsdd.npz"
    if not path.exists():
        raise UserError(f"{path} not found: put fsdd.npz (the Free Spoken Digit Dataset, see "
                        "the data README) there, or point PERCEPTZOO_DATA at a folder with it")
    x, y = _windows(str(path))[split]
    return ArrayDataset(torch.from_numpy(x), torch.from_numpy(y), INFO, split)
