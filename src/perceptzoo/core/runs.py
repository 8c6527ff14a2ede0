"""Run folders: everything one training run leaves behind, written atomically.

    runs/made-digits/
      config.json         model name, model config, dataset, train config: rebuilds the model
      model.safetensors   the weights to sample and evaluate with (EMA weights if EMA is on)
      checkpoint.pt       model, optimizer, scheduler, EMA, RNG states and step, for --resume
      metrics.jsonl       one JSON object per log / eval event, each with its step
      samples.png         a grid of samples at the end of training

Every file is written to a temporary file in the same folder and renamed into place, so an
interrupted write never leaves a half-written checkpoint or loses the previous one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_model, save_model
from torch import nn

from perceptzoo.errors import UserError
from perceptzoo.io import atomic_write, write_json

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
CHECKPOINT = "checkpoint.pt"
METRICS = "metrics.jsonl"
SAMPLES = "samples.png"


class RunDir:
    """A run folder on disk. `RunDir(path)` opens one; nothing is read until asked."""

    def __init__(self, path: str | Path | RunDir):
        self.path = path.path if isinstance(path, RunDir) else Path(path)

    def file(self, name: str) -> Path:
        """`name` in this folder, refusing links: a run folder from someone else must not make
        us read (or overwrite) a file outside it."""
        file = self.path / name
        if file.is_symlink() or (file.exists()
                                 and file.resolve().parent != self.path.resolve()):
            raise UserError(f"{file} is a link to a file outside the run folder; refusing to "
                            "follow it (copy the real file into the folder if you trust it)")
        return file

    # -- config ---------------------------------------------------------------------------
    def write_config(self, config: dict[str, Any]) -> None:
        write_json(self.path / CONFIG, config)

    def read_config(self) -> dict[str, Any]:
        if not self.path.is_dir():
            raise UserError(f"run folder {self.path} does not exist; pass a folder made by "
                            "`perceptzoo train`")
        file = self.file(CONFIG)
        if not file.exists():
            raise UserError(f"{self.path} is not a run folder (no {CONFIG}); pass a folder made "
                            "by `perceptzoo train`")
        try:
            config = json.loads(file.read_text())
        except json.JSONDecodeError as err:
            raise UserError(f"{file} is corrupt ({err}); retrain or restore the file") from None
        if not isinstance(config, dict) or "model" not in config:
            raise UserError(f"{file} does not describe a model; retrain or restore the file")
        return config

    # -- weights --------------------------------------------------------------------------
    def save_weights(self, model: nn.Module) -> None:
        atomic_write(self.path / WEIGHTS, lambda tmp: save_model(model, tmp))

    def load_weights(self, model: nn.Module) -> nn.Module:
        file = self.file(WEIGHTS)
        if not file.exists():
            raise UserError(f"{self.path} has no {WEIGHTS}: the run did not finish; "
                            f"continue it with `perceptzoo train --resume {self.path}`")
        try:
            load_model(model, str(file))
        except Exception as err:
            raise UserError(f"{file} is corrupt, does not match config.json, or was saved by "
                            "an earlier version of the model's code "
                            f"({str(err).splitlines()[0][:200]}); {self._rewrite_advice()}"
                            ) from None
        return model

    def _rewrite_advice(self) -> str:
        if self.has_checkpoint():
            return (f"`perceptzoo train --resume {self.path}` rewrites it from the run's "
                    "checkpoint")
        return f"train the run again with `perceptzoo train ... --out {self.path}-new`"

    # -- plain tensors (agents: networks, Q tables, policies) ------------------------------
    def save_tensors(self, tensors: dict[str, torch.Tensor]) -> None:
        from safetensors.torch import save_file

        tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
        atomic_write(self.path / WEIGHTS, lambda tmp: save_file(tensors, tmp))

    def load_tensors(self) -> dict[str, torch.Tensor]:
        from safetensors.torch import load_file

        file = self.file(WEIGHTS)
        if not file.exists():
            raise UserError(f"{self.path} has no {WEIGHTS}: the run did not finish; "
                            "train it again with --out NEW_DIR")
        try:
            return load_file(str(file))
        except Exception as err:
            raise UserError(f"{file} is corrupt ({str(err).splitlines()[0][:200]}); train the "
                            "run again with --out NEW_DIR") from None

    # -- training checkpoint --------------------------------------------------------------
    def save_checkpoint(self, state: dict[str, Any]) -> None:
        atomic_write(self.path / CHECKPOINT, lambda tmp: torch.save(state, tmp))

    def has_checkpoint(self) -> bool:
        return (self.path / CHECKPOINT).exists()

    def load_checkpoint(self) -> dict[str, Any]:
        """The training state. Loaded with `weights_only=True` (tensors and plain containers
        only): a file that needs more is refused, never unpickled."""
        file = self.file(CHECKPOINT)
        if not file.exists():
            raise UserError(f"{self.path} has no {CHECKPOINT} to resume from; start a new run")
        try:
            return torch.load(file, map_location="cpu", weights_only=True)
        except Exception:  # torch's message would suggest an unsafe load: not passed on
            raise UserError(f"{file} is corrupt or not a perceptzoo checkpoint (it does not load "
                            "as plain tensors, and is never unpickled); delete it and train again "
                            f"with `perceptzoo train --resume {self.path}` (from the start)"
                            ) from None

    # -- metrics log ----------------------------------------------------------------------
    def append_metrics(self, record: dict[str, Any]) -> None:
        with open(self.path / METRICS, "a") as f:
            f.write(json.dumps(record) + "\n")

    def read_metrics(self) -> list[dict[str, Any]]:
        file = self.path / METRICS
        if not file.exists():
            return []
        records = []
        for line in file.read_text().splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:  # a line cut short by a kill: drop it
                continue
        return records

    def truncate_metrics(self, step: int) -> None:
        """Drop records after `step` (logged by a run that died after its last checkpoint)."""
        kept = [r for r in self.read_metrics() if r.get("step", 0) <= step]

        def write(tmp: str) -> None:
            with open(tmp, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in kept)

        atomic_write(self.path / METRICS, write)
