"""One run path for every model: train, resume, evaluate, sample and load a run folder.

The registry spec of a model names its runner (see `perceptzoo.core.contracts`):

- "trainer": the Trainer fits `loss(batch)` (or `train_step`) on a `data` dataset;
- "field":   the Trainer fits an implicit field on batches the model draws itself
             (`model.data_source(...)`); evaluation scores extracted surfaces;
- "agent":   `agent.learn(env, steps)` (the algorithm's own loop); evaluation plays episodes.

Every runner writes the same run folder (see `perceptzoo.core.runs`): one `config.json`
schema, written by `run_config` below, and metrics records `{"step", "kind", ...}`.

    run = runner.train("made", dataset="digits", train_config={"steps": 500})
    runner.evaluate(run, split="test")          # {"test_nll_nats": ..., "frechet_distance": ...}
    runner.sample(run, num_samples=64)          # writes run/samples.png
    model = runner.load(run, device="cuda")
"""

from __future__ import annotations

import dataclasses
import platform
import time
from pathlib import Path
from typing import Any

import torch

from perceptzoo.core import registry
from perceptzoo.core.config import apply_overrides, from_dict, parse_overrides, to_dict
from perceptzoo.core.runs import CONFIG, WEIGHTS, RunDir
from perceptzoo.core.trainer import (
    TrainConfig,
    Trainer,
    init_distributed,
    progress_bar,
    resolve_device,
)
from perceptzoo.errors import RunFinished, UserError
from perceptzoo.io import remove_orphans

#: The config.json format this version writes and reads.
FORMAT = 2
#: Episode seeds of each split for agents (never scored on the seeds it trained on).
SPLIT_SEEDS = {"train": 0, "valid": 5_000, "test": 10_000}
#: TrainConfig fields an agent takes from the command line when its config has them.
AGENT_FLAGS = ("lr", "batch_size", "seed", "device")
#: `perceptzoo train`'s end-of-run evaluation draws what fits in this fraction of the training
#: time (`--full-eval`: every sample asked for); fewer than EVAL_MIN_SAMPLES draws none.
EVAL_FRACTION = 0.2
EVAL_MIN_SAMPLES = 100


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("perceptzoo")
    except PackageNotFoundError:  # run from a source tree that was never installed
        ours = "unknown"
    return {"perceptzoo": ours, "torch": torch.__version__,
            "python": platform.python_version()}


def run_config(spec: registry.ModelSpec, dataset: str, data_dir: Any, model_cfg: Any,
               train_cfg: TrainConfig) -> dict[str, Any]:
    """The one config.json schema: it rebuilds the model and reruns the training."""
    return {"format": FORMAT, "model": spec.name, "family": spec.family,
            "runner": spec.runner, "dataset": dataset,
            "data_dir": None if data_dir is None else str(data_dir),
            "model_config": to_dict(model_cfg), "train": to_dict(train_cfg),
            "seed": train_cfg.seed, "versions": versions()}


def read_config(run: RunDir) -> dict[str, Any]:
    """A run's config.json, checked against this version's schema."""
    config = run.read_config()
    if config.get("format") != FORMAT:
        raise UserError(
            f"{run.path} was written by an older perceptzoo (config.json format "
            f"{config.get('format', 1)}, this version reads {FORMAT}); train it again with "
            f"`perceptzoo train {config.get('model', 'NAME')} --out NEW_DIR`")
    return config


def train_config_for(spec: registry.ModelSpec,
                     train_config: TrainConfig | dict[str, Any] | None) -> TrainConfig:
    """The model's Trainer options: TrainConfig defaults, the spec's, then the caller's."""
    if isinstance(train_config, TrainConfig):
        return train_config
    values = dict(spec.train_defaults)
    values.update(train_config or {})
    return apply_overrides(TrainConfig(), values)


def model_config_for(spec: registry.ModelSpec, dataset: str, data_dir: Any,
                     overrides: dict[str, Any], train_cfg: TrainConfig,
                     explicit: set[str]) -> Any:
    from perceptzoo import data

    if spec.runner == "trainer":
        return registry.make_config(spec.name, data.info(dataset, data_dir), **overrides)
    fields = {f.name for f in dataclasses.fields(spec.config_class)}
    values = dict(overrides)
    if spec.runner == "agent":
        values.setdefault("env_id", dataset)
        for key in AGENT_FLAGS:
            if key in explicit and key not in fields and key not in ("seed", "device"):
                raise UserError(f"--{key.replace('_', '-')} does not apply to {spec.name}; set "
                                f"its options with --set key=value ({', '.join(sorted(fields))})")
            if key in fields and (key in explicit or key in ("seed", "device")):
                values.setdefault(key, getattr(train_cfg, key))
        if "steps" in explicit and "total_steps" in fields:  # --steps: environment steps
            values.setdefault("total_steps", train_cfg.steps)
    return registry.make_config(spec.name, None, **values)


# -- train / resume -------------------------------------------------------------------------
def train(name: str, *, dataset: str | None = None, out: str | Path | None = None,
          train_config: TrainConfig | dict[str, Any] | None = None,
          model_overrides: dict[str, Any] | list[str] | None = None,
          data_dir: str | Path | None = None) -> Path:
    """Train model `name` on `dataset` (its default if None) into a new run folder.

    `train_config`: a TrainConfig, or a dict of the options the caller sets (the rest are the
    model's `train_defaults`, then TrainConfig's defaults). Returns the run folder.
    """
    spec = registry.get_spec(name)
    dataset = dataset or spec.default_dataset
    explicit = set(train_config) if isinstance(train_config, dict) else set()
    cfg = train_config_for(spec, train_config)
    if not isinstance(model_overrides, dict):
        model_overrides = parse_overrides(model_overrides or [])
    model_cfg = model_config_for(spec, dataset, data_dir, model_overrides, cfg, explicit)
    if not out:
        out = Path("runs") / f"{name}-{dataset.replace(':', '_').replace('/', '_')}"
    out = Path(out)
    run = RunDir(out)
    if (out / CONFIG).exists():
        raise UserError(f"{out} already holds a run; pass --out NEW_DIR, or --resume {out}")
    if spec.runner == "agent" and hasattr(model_cfg, "total_steps"):  # one number of steps
        cfg = dataclasses.replace(cfg, steps=model_cfg.total_steps)
    config = run_config(spec, dataset, data_dir, model_cfg, cfg)
    if spec.runner == "agent":
        return _learn(run, spec, model_cfg, cfg, config)
    return _fit(run, spec, model_cfg, dataset, cfg, data_dir, config=config)


def resume(run_dir: str | Path) -> Path:
    """Continue an interrupted run from its last checkpoint.

    A folder whose run never reached its first checkpoint starts from the beginning; a run
    that already finished raises `RunFinished` (evaluate it instead); a finished run whose
    weights file is missing or corrupt gets it rewritten from the checkpoint.
    """
    import sys

    run = RunDir(run_dir)
    config = read_config(run)
    spec = registry.get_spec(config["model"])
    model_cfg = _model_cfg(spec, config, run)
    cfg = from_dict(TrainConfig, config["train"])
    remove_orphans(run.path)
    if spec.runner == "agent":
        # an agent's run is finished once its weights are written: they come after its record
        if (run.path / WEIGHTS).exists():
            raise RunFinished(f"{run.path} holds a finished run of agent {spec.name}; evaluate "
                              f"it with `perceptzoo eval {run.path}`")
        run.truncate_metrics(-1)  # a record written before a kill: learn() starts again
        return _learn(run, spec, model_cfg, cfg, config)
    if not run.has_checkpoint():
        print(f"{run.path}: no checkpoint yet; starting the run from step 0", file=sys.stderr)
        run.truncate_metrics(-1)  # records of the steps that were lost with the process
        return _fit(run, spec, model_cfg, config["dataset"], cfg, config.get("data_dir"),
                    config=config)
    step = int(run.load_checkpoint()["step"])
    total = _total_steps(cfg, spec, config)
    if step >= total and _weights_load(spec, model_cfg, run):
        raise RunFinished(f"{run.path} finished at step {step}; evaluate it with "
                          f"`perceptzoo eval {run.path}` or sample with `perceptzoo sample "
                          f"{run.path}`")
    print(f"{run.path}: resuming from step {step} of {total}", file=sys.stderr)
    return _fit(run, spec, model_cfg, config["dataset"], cfg, config.get("data_dir"),
                config=None)


def _total_steps(cfg: TrainConfig, spec, config: dict) -> int:
    if not cfg.epochs:
        return cfg.steps
    from perceptzoo import data

    size = data.info(config["dataset"], config.get("data_dir")).split_sizes.get("train", 0)
    return cfg.epochs * max(1, size // cfg.batch_size)


def _weights_load(spec, model_cfg, run: RunDir) -> bool:
    try:
        run.load_weights(registry.build_from_config(spec.name, model_cfg))
        return True
    except UserError:
        return False


def _model_cfg(spec: registry.ModelSpec, config: dict, run: RunDir) -> Any:
    try:
        return from_dict(spec.config_class, config.get("model_config", {}))
    except UserError as err:
        raise UserError(f"{run.path}/{CONFIG} does not fit model {spec.name}: {err}") from None


def _sources(spec, model, dataset: str, cfg: TrainConfig, data_dir):
    from perceptzoo import data

    if spec.runner == "field":
        return model.data_source(dataset, "train", data_dir, cfg.seed, cfg.batch_size), None
    return data.load(dataset, "train", data_dir), data.load(dataset, "valid", data_dir)


def _fit(run: RunDir, spec, model_cfg, dataset: str, cfg: TrainConfig, data_dir, *,
         config: dict | None) -> Path:
    """Build, (re)load and fit a trainer or field model; write the run's end products."""
    torch.manual_seed(cfg.seed)
    model = registry.build_from_config(spec.name, model_cfg)
    warn_if_large(spec.name, dataset, model)
    train_set, valid_set = _sources(spec, model, dataset, cfg, data_dir)
    if spec.runner == "trainer" and hasattr(model, "check_data"):
        model.check_data(train_set.info)
    trainer = Trainer(model, train_set, valid_set, cfg, run)
    if config is not None:  # a new run: the folder appears only once everything is checked
        if trainer.rank == 0:
            run.write_config(config)
        if hasattr(model, "initialize"):  # data-dependent init (ActNorm): same on every rank
            model.initialize(trainer.batch_at(0, shard=False))
    else:
        try:
            trainer.load_state_dict(run.load_checkpoint())
        except (RuntimeError, ValueError, KeyError) as err:  # tensors of another build
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UserError(
                f"the checkpoint in {run.path} does not fit {spec.name} as the code builds it "
                f"now ({first}): its code or its config changed since the checkpoint was "
                "written. Start the run again in a new folder (or delete this one; `perceptzoo "
                "bench NAME --force` does that for a recipe)") from None
        if trainer.rank == 0:
            run.truncate_metrics(trainer.step)
    trainer.fit()
    if trainer.rank == 0:
        model.eval()
        try:
            written = _write_samples(spec, model, run, config or read_config(run),
                                     num_samples=cfg.num_samples, out=None, seed=cfg.seed)
            if written:
                run.append_metrics({"step": trainer.step, "kind": "samples", "written": written})
        except UserError as err:  # e.g. no surface yet: say so in the log, keep the run
            run.append_metrics({"step": trainer.step, "kind": "samples", "error": str(err)})
    return run.path


#: Models with more parameters than this get a warning before training starts.
LARGE_MODEL_PARAMS = 50_000_000


def warn_if_large(name: str, dataset: str, model: Any) -> None:
    """Say before training that a model is large (`made` on MNIST with 256 levels: 10^8
    weights), with its size in memory and on disk, so a user can stop and shrink it."""
    import sys

    count = sum(p.numel() for p in model.parameters())
    if count > LARGE_MODEL_PARAMS and init_distributed()[0] == 0:
        gib = count * 4 / 2**30
        print(f"warning: {name} on {dataset} has {count / 1e6:.0f}M parameters ({gib:.1f} GiB "
              f"of weights, about {3 * gib:.1f} GiB with the optimizer state in checkpoints); "
              "shrink it with --set (see its options in the model's config), or stop now",
              file=sys.stderr)


def _learn(run: RunDir, spec, model_cfg, cfg: TrainConfig, config: dict) -> Path:
    """An agent's run: `learn` for `steps` environment steps, then its tensors and curve."""
    agent = spec.model_class(model_cfg)
    # agents with a total_steps option learn for it (--steps set it); others (planners) for
    # --steps if given, else their own default (0)
    steps = 0 if hasattr(model_cfg, "total_steps") else (
        cfg.steps if cfg.steps != TrainConfig.steps else 0)
    run.write_config(config)
    start = time.time()
    total = int(steps or getattr(model_cfg, "total_steps", 0))
    bar = progress_bar(total, f"{spec.name} {getattr(model_cfg, 'env_id', '')}".strip(),
                       disable=not cfg.progress or total <= 0 or init_distributed()[0] != 0)

    def on_episode(info: dict) -> None:  # after each episode: environment steps so far
        bar.update(max(0, min(total, int(info.get("step", bar.n))) - bar.n))
        if "episode_return" in info:
            bar.set_postfix_str(f"return {float(info['episode_return']):.3g}", refresh=False)

    try:
        agent.learn(None, steps, callback=on_episode)
        bar.update(max(0, total - bar.n))
    finally:
        bar.close()
    wall = time.time() - start
    record: dict[str, Any] = {"step": int(steps or getattr(model_cfg, "total_steps", 0)),
                              "kind": "train", "time_s": round(wall, 3)}
    if hasattr(agent, "training_summary"):
        record.update(agent.training_summary(run.path))
    run.append_metrics(record)  # before the weights: weights present means the run finished
    run.save_tensors(agent.state_tensors())
    return run.path


# -- load / evaluate / sample -----------------------------------------------------------------
def load(run_dir: str | Path, device: str | torch.device | None = None) -> Any:
    """The trained model (or agent) of a run folder, in eval mode, on `device` (default CPU)."""
    run = RunDir(run_dir)
    config = read_config(run)
    spec = registry.get_spec(config["model"])
    model_cfg = _model_cfg(spec, config, run)
    target = resolve_device(str(device)) if device is not None else torch.device("cpu")
    if spec.runner == "agent":
        if "device" in {f.name for f in dataclasses.fields(model_cfg)}:
            model_cfg = dataclasses.replace(model_cfg, device=str(target))
        agent = spec.model_class(model_cfg)
        agent.load_state_tensors(run.load_tensors())
        return agent
    model = registry.build_from_config(spec.name, model_cfg)
    run.load_weights(model)
    return model.to(target).eval()


def training_seconds(run_dir: str | Path | RunDir) -> float | None:
    """The training time a run logged (its last `time_s`, summed over resumes), or None."""
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir)
    logged = [r["time_s"] for r in run.read_metrics() if "time_s" in r]
    return float(logged[-1]) if logged else None


def affordable_samples(draw, seconds: float, wanted: int, *, probe: int = 8,
                       minimum: int = 0) -> int:
    """How many samples fit in `seconds`: times `draw(probe)` once and returns
    min(wanted, what fits), 0 when fewer than max(probe, minimum) fit."""
    start = time.perf_counter()
    draw(probe)
    per_sample = max(time.perf_counter() - start, 1e-9) / probe
    fits = int(seconds / per_sample)
    return min(wanted, fits) if fits >= max(probe, minimum) else 0


def evaluate(run_dir: str | Path, *, split: str = "test", num_samples: int = 1000,
             num_episodes: int = 100, num_shapes: int = 16, data_dir: str | Path | None = None,
             device: str | None = None, full: bool = False,
             budget_s: float | None = None, seed: int = 0,
             overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A run's metrics on `split`; appended to its metrics.jsonl as a record of kind "eval".

    num_samples: samples for sample-based metrics (trainer models; 0: likelihoods only);
    num_episodes: seeded episodes (agents); num_shapes: shapes scored (fields); full: the
    papers' full evaluation protocol where a runner has a quicker default (fields);
    budget_s: seconds a trainer model's sampling may take (`perceptzoo train` gives it
    EVAL_FRACTION of the training time unless --full-eval): the draws are cut to what fits,
    none when fewer than EVAL_MIN_SAMPLES fit, and `eval_num_samples` says how many;
    seed: every random draw of the evaluation (a flow's dequantization noise, the samples), so
    a run evaluates to the same numbers each time (the caller's random state is kept);
    overrides: sampling-time options for this evaluation only (see `sample`), recorded in the
    metrics as `sampling_options`.
    """
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return _evaluate(run_dir, split=split, num_samples=num_samples,
                         num_episodes=num_episodes, num_shapes=num_shapes, data_dir=data_dir,
                         device=device, full=full, budget_s=budget_s, seed=seed,
                         overrides=overrides)


def _evaluate(run_dir: str | Path, *, split: str, num_samples: int, num_episodes: int,
              num_shapes: int, data_dir: str | Path | None, device: str | None, full: bool,
              budget_s: float | None, seed: int,
              overrides: dict[str, Any] | None) -> dict[str, Any]:
    from perceptzoo.metrics.evaluate import evaluate as evaluate_model

    run = RunDir(run_dir)
    config = read_config(run)
    spec = registry.get_spec(config["model"])
    data_dir = data_dir or config.get("data_dir")
    model = load(run, device=device)
    set_sampling_options(spec, model, overrides)
    if spec.runner == "agent":
        metrics = model.evaluate_episodes(num_episodes, SPLIT_SEEDS.get(split, 10_000))
        metrics = {"split": split, **metrics}
    elif spec.runner == "field":
        metrics = model.evaluate_shapes(config["dataset"], split, data_dir,
                                        num_shapes=num_shapes, full=full)
    else:
        sized = budget_s is not None and num_samples > 0 and hasattr(model, "sample")
        if sized:
            dev = next(iter(model.parameters())).device

            def draw(k: int) -> None:
                with torch.no_grad():
                    model.sample(k, generator=torch.Generator(device=dev).manual_seed(0))

            num_samples = affordable_samples(draw, budget_s, num_samples, probe=2,
                                             minimum=EVAL_MIN_SAMPLES)
        metrics = evaluate_model(model, config["dataset"], split, data_dir=data_dir,
                                 num_samples=num_samples, seed=seed)
        if sized:
            metrics["eval_num_samples"] = num_samples
    if overrides:
        metrics["sampling_options"] = dict(overrides)
    steps = [r.get("step", 0) for r in run.read_metrics() if isinstance(r.get("step"), int)]
    run.append_metrics({"step": max(steps, default=0), "kind": "eval", "split": split,
                        **metrics})
    return metrics


def sample(run_dir: str | Path, *, num_samples: int = 64, out: str | Path | None = None,
           seed: int = 0, inpaint: bool = False,
           overrides: dict[str, Any] | list[str] | None = None) -> str:
    """Write samples of a run (an image grid, a WAV, meshes, rollouts) into the run folder
    (or `out`); returns a line saying what was written. `inpaint`: fill a hidden region of
    held-out test images instead (models with `inpaint(x, mask)`), as a grid of rows
    masked input / filled in / original.

    `overrides`: sampling-time options for this call only, the run's config.json unchanged
    (`perceptzoo sample RUN --set sampler=ddim sample_steps=20`): a model whose config has
    `with_sampling` (the diffusion models: sampler, sample_steps, ddim_eta, heun_churn,
    sample_spacing, and ddpm_cfg's guidance_scale) takes them checked; any other model, or an
    option it does not have, is a UserError naming what it accepts."""
    run = RunDir(run_dir)
    config = read_config(run)
    spec = registry.get_spec(config["model"])
    model = load(run)
    if overrides is not None and not isinstance(overrides, dict):
        overrides = parse_overrides(overrides)
    set_sampling_options(spec, model, overrides)
    if inpaint:
        return _write_inpainting(spec, model, run, config, num_samples=num_samples, out=out,
                                 seed=seed)
    said = _write_samples(spec, model, run, config, num_samples=num_samples, out=out, seed=seed)
    if overrides and said:
        said += " with " + " ".join(f"{k}={v}" for k, v in overrides.items())
    return said


def sampling_option_models() -> list[str]:
    """The registered models whose sampler can be changed at sampling time."""
    return [s.name for s in registry.list_specs() if hasattr(s.config_class, "with_sampling")]


def set_sampling_options(spec: registry.ModelSpec, model: Any,
                         overrides: dict[str, Any] | None) -> None:
    """Apply sampling-time options to a loaded model (its `cfg.with_sampling`, which checks
    them), or say which models take them."""
    if not overrides:
        return
    cfg = getattr(model, "cfg", None)
    if not hasattr(cfg, "with_sampling"):
        raise UserError(f"model {spec.name} has no sampling options to set (got "
                        f"{', '.join(sorted(overrides))}); `sample --set` changes the sampler "
                        f"of a diffusion model ({', '.join(sampling_option_models())}); "
                        f"{spec.name}'s options are fixed by its training")
    model.cfg = cfg.with_sampling(dict(overrides))


def _write_inpainting(spec, model, run: RunDir, config: dict, *, num_samples: int,
                      out: str | Path | None, seed: int) -> str:
    from perceptzoo import data
    from perceptzoo.viz.images import save_grid, to_uint8

    if not hasattr(model, "inpaint"):
        raise UserError(f"model {spec.name} cannot inpaint; train an inpainting model, e.g. "
                        "`perceptzoo train inpainting_ae --dataset mnist`")
    test = data.load(config["dataset"], "test", config.get("data_dir"))
    n = min(num_samples, len(test))
    x = test.x[:n].float()
    g = torch.Generator().manual_seed(seed)
    mask = model.block_mask(n, generator=g).cpu()
    with torch.no_grad():
        filled = model.inpaint(x, mask).cpu()
    rows = torch.cat([x.masked_fill(mask, 0.0), filled, x])  # three rows of n
    out = Path(out) if out else run.path / "inpainting.png"
    save_grid(to_uint8(rows, test.info.num_levels, test.info.value_range), out, nrow=n)
    return f"wrote {n} inpainted test images to {out} (rows: masked, filled in, original)"


def _write_samples(spec, model, run: RunDir, config: dict, *, num_samples: int,
                   out: str | Path | None, seed: int) -> str:
    if num_samples <= 0:
        return ""
    if spec.runner == "agent":
        return model.write_rollouts(out or run.path / "rollout.png", num_episodes=num_samples,
                                    seed=seed)
    if spec.runner == "field":
        return model.write_samples(config["dataset"], config.get("data_dir"),
                                   num_samples=num_samples, out=out or run.path / "mesh.ply",
                                   seed=seed)
    if not hasattr(model, "sample"):
        if out is not None:
            raise UserError(f"model {spec.name} cannot sample")
        return ""
    from perceptzoo import data
    from perceptzoo.viz.images import save_samples

    device = next(iter(model.parameters())).device
    g = torch.Generator(device=device).manual_seed(seed)
    with torch.no_grad():
        samples = model.sample(num_samples, generator=g)
    written = save_samples(samples.cpu(), out or run.path / "samples.png",
                           data.info(config["dataset"], config.get("data_dir")))
    return f"wrote {num_samples} samples to {written}"


__all__ = ["FORMAT", "evaluate", "init_distributed", "load", "read_config", "resume",
           "run_config", "sample", "sampling_option_models", "set_sampling_options", "train"]
