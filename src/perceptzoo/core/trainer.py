"""One readable training loop for every `Trainable` model.

Per step: draw a batch (a seeded permutation per epoch, so the order is a function of the step
and resuming needs no loader state), `model.loss(batch)`, backward, clip the gradient norm,
AdamW step, LR schedule step, EMA update. A model with `train_step(batch, optimizers)` (GANs)
does its own update and the Trainer only schedules, logs and checkpoints around it.

Every `log_every` steps the loss is appended to `metrics.jsonl`; every `eval_every` steps the
validation loss (and NLL for density models) is; every `checkpoint_every` steps a checkpoint
with model, optimizer, scheduler, EMA, the torch RNG state and the step is written atomically.
`resume` reloads all of it, so on CPU a resumed run's losses equal the uninterrupted run's.

Early stopping (`keep_best`, `patience`): after each evaluation that improves the validation NLL
(or loss, for models without a likelihood), the weights are written to `model.safetensors`, so the
run keeps its best-validation weights rather than its last; with `patience` the loop also stops
after that many evaluations without improvement (Germain et al. 2015 stop MADE after 30 epochs
without improvement, their "look-ahead"). The best value and the count are in the checkpoint.

Scale: launched by `torchrun --nproc_per_node N -m perceptzoo.cli train ...` (or any launcher
that sets RANK / WORLD_SIZE / MASTER_ADDR), the same loop runs data-parallel with
DistributedDataParallel: every rank draws the same global batch and takes its 1/N slice,
gradients are averaged across ranks (NCCL on GPUs, gloo on CPUs), and rank 0 alone writes the
run folder. The global batch is `batch_size` whatever N is, so a run's trajectory does not depend
on the number of processes (up to floating-point summation order).
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from perceptzoo.core.ema import EMA
from perceptzoo.core.runs import RunDir
from perceptzoo.errors import Diverged, Interrupted, UserError


@dataclass
class TrainConfig:
    steps: int = 2000
    """number of optimizer steps (ignored if `epochs` is set)"""
    epochs: int | None = None
    """train for this many passes over the training split instead of `steps`"""
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    """clip the global gradient norm to this value; None turns clipping off"""
    schedule: str = "cosine"
    """learning-rate schedule after warm-up: constant | cosine | linear (to zero) | step
    (halved at 50 % and 75 % of the steps)"""
    warmup_steps: int = 0
    ema_decay: float | None = None
    """keep an exponential moving average of the weights with this decay (e.g. 0.999)"""
    log_every: int = 10
    eval_every: int = 500
    eval_examples: int = 2000
    checkpoint_every: int = 500
    num_samples: int = 64
    keep_best: bool = False
    """keep the weights of the best validation evaluation (early stopping) instead of the last"""
    patience: int | None = None
    """with keep_best: stop after this many evaluations without a better validation value"""
    seed: int = 0
    device: str = "auto"
    """auto (cuda if available) | cpu | cuda"""
    progress: bool = True
    tensorboard: bool = True
    """also log scalars to `<run>/tensorboard` when the `tensorboard` package is installed"""
    on_nan: str = "stop"
    """a non-finite loss or gradient: stop (the last checkpoint stays) | skip (drop the step and
    halve the learning rate)"""
    precision: str = "fp32"
    """fp32 | bf16 (autocast of the loss forward, CPU or GPU) | fp16 (autocast with a gradient
    scaler, GPU only); weights and optimizer state stay float32"""
    compile: bool = False
    """torch.compile the loss forward (falls back to eager, with a message, if it fails)"""
    channels_last: bool = False
    """keep the model's 4-D weights and the image batches in channels-last memory format"""

    def __post_init__(self) -> None:
        """Every option checked where it enters, with the option, the value and what is allowed."""
        def bad(name: str, allowed: str) -> UserError:
            return UserError(f"train option {name}={getattr(self, name)!r} is not allowed: "
                             f"{allowed}")

        for name in ("steps", "batch_size", "log_every", "eval_every", "eval_examples",
                     "checkpoint_every"):
            if getattr(self, name) <= 0:
                raise bad(name, "use a positive whole number")
        for name in ("epochs", "patience"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise bad(name, "use a positive whole number (or leave it unset)")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise bad("lr", "use a finite positive learning rate such as 1e-3")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise bad("weight_decay", "use a finite value >= 0")
        if self.grad_clip is not None and not (math.isfinite(self.grad_clip)
                                               and self.grad_clip > 0):
            raise bad("grad_clip", "use a finite positive norm, or null for no clipping")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise bad("ema_decay", "use a decay in (0, 1) such as 0.999, or null for no EMA")
        if self.warmup_steps < 0 or self.num_samples < 0:
            raise bad("warmup_steps" if self.warmup_steps < 0 else "num_samples", "use 0 or more")
        if self.schedule not in ("constant", "cosine", "linear", "step"):
            raise bad("schedule", "use constant, cosine, linear or step")
        if self.on_nan not in ("stop", "skip"):
            raise bad("on_nan", "use stop or skip")
        if self.precision not in ("fp32", "bf16", "fp16"):
            raise bad("precision", "use fp32, bf16 or fp16 (fp16 on a GPU only)")
        for name in ("compile", "channels_last"):
            if not isinstance(getattr(self, name), bool):
                raise bad(name, "use true or false")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")
                or self.device == "mps"):
            raise bad("device", "use auto, cpu or cuda (cuda:N for one GPU)")


def _lr_lambda(cfg: TrainConfig, total: int):
    def factor(step: int) -> float:
        if step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        progress = (step - cfg.warmup_steps) / max(1, total - cfg.warmup_steps)
        if cfg.schedule == "cosine":
            return 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
        if cfg.schedule == "linear":
            return max(0.0, 1 - progress)
        if cfg.schedule == "step":
            return 0.5 ** sum(progress >= f for f in (0.5, 0.75))
        return 1.0

    if cfg.schedule not in ("constant", "cosine", "linear", "step"):
        raise UserError(f"unknown schedule {cfg.schedule!r}; use constant, cosine, linear or "
                        "step")
    return factor


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("device cuda was asked for but no GPU is visible; use --device cpu")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UserError(f"unknown device {name!r}; use auto, cpu or cuda") from None


def init_distributed(device: str = "auto") -> tuple[int, int]:
    """(rank, world size); joins the process group when launched with WORLD_SIZE > 1
    (NCCL when the run is on CUDA devices, gloo otherwise)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if resolve_device(device).type == "cuda" else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class _LossForward(nn.Module):
    """DDP synchronises gradients through `forward`: this makes `loss` the forward."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, batch):
        return self.model.loss(batch)


class _Compiled(nn.Module):
    """`torch.compile` of the loss forward; if compiling fails (no compiler, an unsupported op)
    the first call says so once and the run continues eagerly."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = module
        self.compiled = None
        self.failed: str | None = None
        try:
            self.compiled = torch.compile(module)
        except Exception as exc:  # noqa: BLE001 - any failure means: run eagerly
            self._fall_back(exc)

    def _fall_back(self, exc: BaseException) -> None:
        import warnings

        self.failed = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        warnings.warn(f"train.compile=true: torch.compile is unavailable here ({self.failed}); "
                      "training continues without compilation", stacklevel=2)
        self.compiled = None

    def forward(self, batch):
        if self.compiled is not None:
            try:
                return self.compiled(batch)
            except Exception as exc:  # noqa: BLE001
                self._fall_back(exc)
        return self.module(batch)


class Trainer:
    """Fit `model` on `train_set`, writing everything to `run`. `fit()` runs to the end."""

    def __init__(self, model: nn.Module, train_set, valid_set, cfg: TrainConfig, run: RunDir):
        self.model, self.train_set, self.valid_set, self.cfg, self.run = (
            model, train_set, valid_set, cfg, run,
        )
        self.source = hasattr(train_set, "batch_at")  # the model draws its own batches
        if not self.source and len(train_set) < cfg.batch_size:
            raise UserError(f"batch size {cfg.batch_size} exceeds the {len(train_set)} training "
                            "examples; pass a smaller --batch-size")
        self.rank, self.world_size = init_distributed(cfg.device)
        if self.source and self.world_size > 1:
            raise UserError("models that draw their own batches train in one process; "
                            "launch without torchrun")
        self.device = resolve_device(cfg.device)
        if self.device.type == "cuda" and self.world_size > 1:
            self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        self.model.to(self.device)
        if cfg.precision == "fp16" and self.device.type != "cuda":
            raise UserError("train.precision=fp16 needs a GPU (its gradient scaler is CUDA's); "
                            "use bf16 on CPU")
        if cfg.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.scaler = (torch.amp.GradScaler("cuda") if cfg.precision == "fp16" else None)
        self.loss_module: nn.Module = _LossForward(model)
        if self.world_size > 1:
            if cfg.batch_size % self.world_size:
                raise UserError(f"batch size {cfg.batch_size} must divide evenly over "
                                f"{self.world_size} processes")
            from torch.nn.parallel import DistributedDataParallel

            self.loss_module = DistributedDataParallel(
                self.loss_module, device_ids=[self.device] if self.device.type == "cuda" else None
            )
        if cfg.compile:
            self.loss_module = _Compiled(self.loss_module)
        self.steps_per_epoch = max(1, len(train_set) // cfg.batch_size)
        self.total_steps = cfg.epochs * self.steps_per_epoch if cfg.epochs else cfg.steps
        if hasattr(model, "configure_optimizers"):
            self.optimizers = model.configure_optimizers(cfg)
        else:
            self.optimizers = [
                torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            ]
        if not isinstance(self.optimizers, (list, tuple)):
            self.optimizers = [self.optimizers]
        self.schedulers = [
            torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg, self.total_steps))
            for opt in self.optimizers
        ]
        self.ema = EMA(model, cfg.ema_decay) if cfg.ema_decay else None
        self.step = 0
        self.best_valid, self.evals_since_best = math.inf, 0
        self.train_seconds = 0.0  # wall time spent in fit, summed over resumes
        self._perm, self._perm_epoch = torch.empty(0, dtype=torch.long), -1

    # -- data order: a pure function of (seed, step) ------------------------------------
    def batch_at(self, step: int, shard: bool = True):
        """The batch of `step`: this process's slice of it, or the global batch if not shard."""
        if self.source:
            return _to_device(self.train_set.batch_at(step), self.device)
        epoch, within = divmod(step, self.steps_per_epoch)
        if self._perm_epoch != epoch:  # one permutation per epoch, cached
            g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
            self._perm, self._perm_epoch = torch.randperm(len(self.train_set), generator=g), epoch
        perm = self._perm
        index = perm[within * self.cfg.batch_size : (within + 1) * self.cfg.batch_size]
        if shard:  # this process's share of the global batch
            index = index[self.rank :: self.world_size]
        x, y = self.train_set[index]
        x = x.to(self.device)
        if self.cfg.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, None if y is None else y.to(self.device)

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        state = {
            "step": self.step,
            "model": self.model.state_dict(),
            "optimizers": [o.state_dict() for o in self.optimizers],
            "schedulers": [s.state_dict() for s in self.schedulers],
            "torch_rng": torch.get_rng_state(),
            "best_valid": self.best_valid,
            "evals_since_best": self.evals_since_best,
            "train_seconds": self.train_seconds,
        }
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state_all()
        if self.ema is not None:
            state["ema"] = self.ema.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        for o, s in zip(self.optimizers, state["optimizers"]):
            o.load_state_dict(s)
        for sch, s in zip(self.schedulers, state["schedulers"]):
            sch.load_state_dict(s)
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if self.ema is not None and "ema" in state:
            self.ema.load_state_dict(state["ema"])
        self.step = int(state["step"])
        self.best_valid = float(state.get("best_valid", math.inf))
        self.evals_since_best = int(state.get("evals_since_best", 0))
        self.train_seconds = float(state.get("train_seconds", 0.0))

    def checkpoint(self) -> None:
        if self.rank == 0:
            self.run.save_checkpoint(self.state_dict())

    # -- the loop ---------------------------------------------------------------------------
    def train_one_step(self, batch) -> dict[str, float | torch.Tensor] | None:
        """One update; None if it was skipped for a non-finite loss (`on_nan="skip"`). The
        metrics may hold detached 0-dim tensors (`LossOutput`): floats when logged."""
        self.model.train()
        if hasattr(self.model, "train_step"):
            metrics = self.model.train_step(batch, self.optimizers)
            bad = {k: v for k, v in metrics.items() if not math.isfinite(float(v))}
            if bad:  # the model stepped already: nothing to skip, so stop
                raise self._diverged("train_step metrics", bad)
            return metrics
        with self.autocast():
            out = self.loss_module(batch)
        loss = out.loss.detach().float()
        if not torch.isfinite(loss):
            return self._non_finite("loss", {"loss": loss.item(), **out.metrics})
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        if self.scaler is not None:  # fp16: scaled loss, gradients unscaled before the clip
            self.scaler.scale(out.loss).backward()
            for opt in self.optimizers:
                self.scaler.unscale_(opt)
        else:
            out.loss.backward()
        metrics = {"loss": self._mean_over_ranks(loss), **out.metrics}
        clip = self.cfg.grad_clip if self.cfg.grad_clip is not None else math.inf
        norm = nn.utils.clip_grad_norm_(self.model.parameters(), clip)
        if self.scaler is not None and not torch.isfinite(norm):
            for opt in self.optimizers:  # fp16 overflow: the scaler skips the step, lowers scale
                self.scaler.step(opt)
            self.scaler.update()
            return None
        if not torch.isfinite(norm):
            return self._non_finite("gradient", {**metrics, "grad_norm": float(norm)})
        if self.cfg.grad_clip is not None:
            metrics["grad_norm"] = float(norm)
        for opt in self.optimizers:
            if self.scaler is not None:
                self.scaler.step(opt)
            else:
                opt.step()
        if self.scaler is not None:
            self.scaler.update()
        return metrics

    def autocast(self):
        """The precision context of the loss forward (`train.precision`)."""
        if self.cfg.precision == "fp32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.cfg.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def _non_finite(self, what: str, terms: dict[str, float]) -> None:
        if self.cfg.on_nan != "skip":
            raise self._diverged(what, terms)
        for opt in self.optimizers:  # drop the step, halve the learning rate from here on
            opt.zero_grad(set_to_none=True)
        for sch in self.schedulers:
            sch.base_lrs = [lr / 2 for lr in sch.base_lrs]
        if self.rank == 0:
            self.run.append_metrics({"step": self.step, "kind": "skipped", "what": what,
                                     **_finite_or_str(terms)})
        return None

    def _diverged(self, what: str, terms: dict[str, float]) -> Diverged:
        listed = ", ".join(f"{k}={float(v):.4g}" for k, v in terms.items())
        last = "no checkpoint yet" if not self.run.has_checkpoint() else \
            "the last checkpoint is intact"
        return Diverged(f"non-finite {what} at step {self.step} ({listed}); {last}. Lower the "
                        "learning rate (--lr) or clip gradients (--set train.grad_clip=1), or "
                        "skip such steps with --set train.on_nan=skip")

    def _to_tensorboard(self, record: dict[str, Any]) -> None:
        """Live TensorBoard scalars `<kind>/<name>` (only with the package and on rank 0)."""
        if not self.cfg.tensorboard or self.rank != 0:
            return
        if not hasattr(self, "_tb"):
            import importlib.util

            self._tb = None
            if importlib.util.find_spec("tensorboard") is not None:
                from torch.utils.tensorboard import SummaryWriter

                self._tb = SummaryWriter(log_dir=str(self.run.path / "tensorboard"))
        if self._tb is None:
            return
        for key, value in record.items():
            if key not in ("step", "kind") and isinstance(value, (int, float)) \
                    and math.isfinite(value):
                self._tb.add_scalar(f"{record['kind']}/{key}", value, record["step"])
        self._tb.flush()

    def _mean_over_ranks(self, value: torch.Tensor) -> float:
        if self.world_size > 1:
            import torch.distributed as dist

            value = value.clone()
            dist.all_reduce(value)
            value /= self.world_size
        return value.item()

    @torch.no_grad()
    def evaluate(self) -> dict[str, float]:
        """Mean loss (and NLL for density models) on up to `eval_examples` validation examples."""
        from perceptzoo.metrics.evaluate import mean_over_batches

        if self.valid_set is None or self.rank != 0:
            return {}
        with self.ema_weights():
            self.model.eval()
            n = min(len(self.valid_set), self.cfg.eval_examples)
            x, y = self.valid_set[torch.arange(n)]
            return {
                f"valid_{k}": float(v)
                for k, v in mean_over_batches(self.model, x, y, self.cfg.batch_size, self.device)
                .items()
            }

    def stopped_early(self) -> bool:
        return self.cfg.patience is not None and self.evals_since_best >= self.cfg.patience

    def track_best(self, valid: dict[str, float]) -> None:
        """Early stopping: on a better validation value, write these weights as the run's."""
        value = valid.get("valid_nll_nats", valid.get("valid_loss"))
        if not self.cfg.keep_best or value is None or self.rank != 0:
            return
        if value < self.best_valid:
            self.best_valid, self.evals_since_best = value, 0
            with self.ema_weights():
                self.run.save_weights(self.model)
        else:
            self.evals_since_best += 1

    @contextlib.contextmanager
    def ema_weights(self):
        """Inside the block the model holds the EMA weights (if EMA is on)."""
        if self.ema is not None:
            self.ema.swap()
        try:
            yield
        finally:
            if self.ema is not None:
                self.ema.swap()

    def fit(self) -> dict[str, float]:
        """Train to the end. SIGINT or SIGTERM stops after the current step with a checkpoint
        (raising `Interrupted`, whose message says how to resume)."""
        with _stop_on_signals() as stop:
            return self._fit(stop)

    def _fit(self, stop: list[int]) -> dict[str, float]:
        cfg = self.cfg
        bar = progress_bar(self.total_steps, self.run.path.name, initial=self.step,
                           disable=not cfg.progress or self.rank != 0)
        start, last_eval = time.time(), {}
        resumed_seconds = self.train_seconds
        while self.step < self.total_steps and not self.stopped_early():
            if stop:
                self.checkpoint()
                bar.close()
                raise Interrupted(f"stopped by signal {stop[0]} at step {self.step} with a "
                                  f"checkpoint; continue with `perceptzoo train --resume "
                                  f"{self.run.path}`")
            metrics = self.train_one_step(self.batch_at(self.step))
            if metrics is None:  # skipped (on_nan="skip"): the step counts, its batch is dropped
                self.step += 1
                bar.update(1)
                continue
            for sch in self.schedulers:
                sch.step()
            if self.ema is not None:
                self.ema.update()
            self.step += 1
            self.train_seconds = resumed_seconds + time.time() - start
            bar.update(1)
            bar.set_postfix(loss=f"{metrics.get('loss', float('nan')):.4f}", refresh=False)
            if self.rank == 0 and (self.step % cfg.log_every == 0 or self.step == self.total_steps):
                lr = self.schedulers[0].get_last_lr()[0]
                record = {"step": self.step, "kind": "train", "lr": lr,
                          **{k: float(v) for k, v in metrics.items()},  # tensors: synced here
                          "time_s": round(self.train_seconds, 3)}
                self.run.append_metrics(record)
                self._to_tensorboard(record)
            if self.step % cfg.eval_every == 0 or self.step == self.total_steps:
                last_eval = self.evaluate()
                if last_eval:
                    record = {"step": self.step, "kind": "valid", **last_eval}
                    self.run.append_metrics(record)
                    self._to_tensorboard(record)
                    self.track_best(last_eval)
            if (self.step % cfg.checkpoint_every == 0 or self.step == self.total_steps
                    or self.stopped_early()):
                self.checkpoint()
        bar.close()
        if self.rank != 0:
            return {}
        if cfg.keep_best and self.best_valid < math.inf:  # the best weights are the run's
            self.run.load_weights(self.model)
            self.model.eval()
            self.run.append_metrics({"step": self.step, "kind": "best",
                                     "best_valid": self.best_valid,
                                     "stopped_early": self.stopped_early()})
            return {"train_time_s": time.time() - start, "best_valid": self.best_valid}
        with self.ema_weights():
            self.model.eval()
            self.run.save_weights(self.model)
        return {"train_time_s": time.time() - start, **last_eval}


def progress_bar(total: int, desc: str, *, initial: int = 0, disable: bool = False) -> tqdm:
    """A progress bar that fits a terminal and a log: redrawn ten times a second on a TTY,
    one line every 30 s otherwise (a 20-epoch run logged 1.8 MB of bars before)."""
    import sys

    tty = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, disable=disable, desc=desc, dynamic_ncols=tty,
                mininterval=0.1 if tty else 30.0, ncols=None if tty else 100)


@contextlib.contextmanager
def _stop_on_signals():
    """Inside the block SIGINT and SIGTERM only set a flag (the loop checkpoints and stops)."""
    import signal
    import threading

    stop: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop:  # a second signal: stop now
            raise KeyboardInterrupt
        stop.append(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _finite_or_str(terms: dict[str, float]) -> dict[str, Any]:
    return {k: (float(v) if math.isfinite(float(v)) else str(float(v))) for k, v in terms.items()}


def _to_device(batch: Any, device: torch.device) -> Any:
    """A batch (a tensor, or tuples, lists and dicts of them) on `device`."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: _to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(_to_device(v, device) for v in batch)
    return batch
