"""Config values checked where they enter, with messages naming the option, its value and
what is allowed (issue 22).

Two layers, both applied by `registry.build_from_config` to every registered model:

1. `check_config(name, model_class, cfg)` before the model is built: rules by the option's
   name and the type of its default, and a memory bound. Sizes, widths, depths and counts
   are whole numbers of at least 1 (0 where the default is 0 or None: `cond_dim=0` means
   unconditional); every float is finite; options named as probabilities (`dropout`,
   `mixing_prob`, `*_fraction`, a discount `gamma`, `ema_decay`, Adam's `beta1`/`beta2`) lie
   in [0, 1]; scales, norms and standard deviations are above 0; learning rates (0 freezes a
   part) and loss weights (`lambda_*`, `*_weight`, `*_coef`) are at least 0; lists of layer
   sizes hold whole numbers of at least 1, lists of layer indices whole numbers of at least 0.
2. `explain_failure(name, build, cfg, err)` when the constructor still fails (a
   divisibility such as `embed_dim % num_heads`, a kernel larger than the image): it rebuilds
   the model with each option the user set put back to its default (on the meta device, no
   memory touched, where the constructor can run there) and names the option, or the pair of
   options, whose value causes the failure, with the value that builds.

A model with a rule these cannot express checks it in its Config's `__post_init__`.
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from typing import Any

from torch import nn

from perceptzoo.errors import UserError

#: Config fields `registry.build` fills from the dataset.
DATA_FIELDS = ("data_shape", "num_levels", "num_classes")


# -- 1. rules by name ---------------------------------------------------------------------------
_SIZE_SUFFIXES = ("_size", "_sizes", "_channels", "_dim", "_dims", "_units", "_layers",
                  "_blocks", "_heads", "_features", "_width", "_hidden", "_samples", "_points",
                  "_shapes", "_frames", "_epochs", "_iterations", "_envs", "_runs", "_chains",
                  "_components", "_mixtures", "_masks", "_scales", "_freqs", "_kernel",
                  "_interval", "_freq", "_betas", "_mults")
_SIZE_NAMES = {"hidden", "channels", "width", "depth", "layers", "blocks", "views", "k", "cd_k",
               "kernel", "n_steps", "n_critic", "num_steps", "sample_steps", "march_steps",
               "context", "walkback", "scale", "knn", "dilations", "data_shape", "hidden_g",
               "hidden_d", "gradient_steps", "bound_timesteps", "restart_after"}
#: Counts for which 0 is a meaningful choice although the default is not 0 (num_classes=0:
#: an unconditional model).
_ZERO_ALLOWED = {"num_classes", "pool_size", "num_dropout", "num_labels", "unroll_steps",
                 "secant_steps", "num_res_blocks", "fourier_levels", "texture_fourier_levels"}
#: Counts of halvings or octaves (the model computes 2 ** value): at most `MAX_OCTAVES`.
_OCTAVE_PARTS = ("downsample", "num_down", "num_scales", "fourier_levels", "num_freqs")
MAX_OCTAVES = 30
#: The largest size or count any option may take (no tensor dimension is larger).
MAX_SIZE = 2**31 - 1
#: Tuples of layer indices (0 is the first layer).
_INDEX_NAMES = {"skip_layers", "attention_levels"}

_PROB_NAMES = {"dropout", "label_dropout", "mixing_prob", "ddim_eta", "epsilon", "epsilon_start",
               "epsilon_final", "gae_lambda", "sparsity_target", "init_occupancy",
               "d_accuracy_threshold", "threshold", "beta1", "beta2"}
_PROB_PARTS = ("_prob", "prob_", "fraction", "dropout")
_POSITIVE_NAMES = {"tol", "clip_eps", "max_grad_norm", "grad_clip", "camera_radius",
                   "bound", "init_radius", "clamp", "sigma_scale", "flow_scale", "input_scale",
                   "reward_scale", "init_std", "latent_init_std", "fov_deg"}
_POSITIVE_SUFFIXES = ("_temperature",)
_NONNEG_NAMES = {"drift", "beta", "noise", "noise_level", "capacity_max", "guidance_scale",
                 "alpha", "alpha_power", "r1_gamma", "kl_weight", "gp_weight"}
_NONNEG_PREFIXES = ("lambda_",)
_NONNEG_SUFFIXES = ("_weight", "_coef", "_reg")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_real(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _refuse(name: str, option: str, value: Any, allowed: str) -> UserError:
    return UserError(f"{name} option {option} must be {allowed}, got {value!r}; set another "
                     f"value with --set {option}=VALUE")


def _size_rule(option: str, default: Any) -> int | None:
    """The least value of a size/count option (1, or 0), None if `option` is not one."""
    if option in _INDEX_NAMES or option.endswith("seed"):
        return None
    sized = (option in _SIZE_NAMES or option.endswith(_SIZE_SUFFIXES)
             or option.startswith("num_") or option.endswith("_steps"))
    if not sized:
        return None
    if option in _ZERO_ALLOWED or option.endswith("_steps") and option not in _SIZE_NAMES:
        return 0
    if default in (0, None) or (isinstance(default, (tuple, list)) and not default):
        return 0
    if isinstance(default, (tuple, list)) and any(_is_int(d) and d == 0 for d in default):
        return 0
    return 1


def _is_depth(option: str) -> bool:
    """A number of layers or blocks (a layout loop runs this many times)."""
    return option in ("layers", "blocks", "depth") or option.endswith(("_layers", "_blocks"))


def _float_rule(option: str, default: Any) -> tuple[Callable[[float], bool], str] | None:
    if option in _PROB_NAMES or any(p in option for p in _PROB_PARTS) or (
            option in ("gamma", "tau") and _is_real(default) and 0 <= default <= 1) or (
            option.endswith("_decay") and _is_real(default) and 0 < default < 1):
        return (lambda v: 0 <= v <= 1), "from 0 to 1 (a probability)"
    if option in _POSITIVE_NAMES or option.endswith(_POSITIVE_SUFFIXES) or (
            option.endswith("_std") and "log" not in option):
        return (lambda v: v > 0), "> 0"
    if option in _NONNEG_NAMES or option.startswith(_NONNEG_PREFIXES) or option.endswith(
            _NONNEG_SUFFIXES) or (option == "gamma" and _is_real(default)) or option in (
            "lr",) or option.startswith("lr_") or option.endswith(("_lr", "_lr_scale")):
        return (lambda v: v >= 0), ">= 0"
    return None


def check_options(name: str, cfg: Any) -> None:
    """Refuse, before building, a config value the rules by name rule out (see the module
    docstring), with a `UserError` naming the option, the value and what is allowed."""
    defaults = type(cfg)()
    for f in dataclasses.fields(cfg):
        value, default = getattr(cfg, f.name), getattr(defaults, f.name)
        if value is None or isinstance(value, (bool, str, dict)):
            continue
        if f.name == "num_levels" and _is_int(value) and value < 2:
            raise _refuse(name, f.name, value, "at least 2 (data levels)")
        least = _size_rule(f.name, default)
        if _is_int(default) and least is not None and default < least:
            least = None  # a sentinel default (-1: "off") the rule by name does not know
        if isinstance(value, (tuple, list)):
            if f.name in _INDEX_NAMES:
                least = 0
            if least is None:
                continue
            bad = [v for v in value if not _is_int(v) or not least <= v <= MAX_SIZE]
            if bad:
                raise _refuse(name, f.name, value, f"a list of whole numbers from {least} to "
                                                   f"{MAX_SIZE}")
            continue
        if _is_int(value) and least is not None and value < least:
            kind = "a size or a count" if least else "a count (0 switches it off)"
            raise _refuse(name, f.name, value, f"at least {least} (a whole number: {kind})")
        if _is_int(value) and least is not None and value > MAX_SIZE:
            raise _refuse(name, f.name, value, f"at most {MAX_SIZE} (a size or a count)")
        if _is_int(value) and _is_depth(f.name) and value > MAX_TENSORS:
            raise _refuse(name, f.name, value, f"at most {MAX_TENSORS} (a number of layers: "
                                               "each needs weights of its own)")
        if _is_int(value) and any(p in f.name for p in _OCTAVE_PARTS) and value > MAX_OCTAVES:
            raise _refuse(name, f.name, value, f"at most {MAX_OCTAVES} (a number of halvings or "
                                               "octaves: the model takes 2 to this power)")
        if isinstance(value, float) or (_is_int(value) and isinstance(default, float)):
            if not math.isfinite(value) and not (isinstance(default, float)
                                                 and not math.isfinite(default)):
                raise _refuse(name, f.name, value, "a finite number")
            rule = _float_rule(f.name, default)
            if rule is not None and _is_real(default) and not rule[0](default):
                rule = None  # the default itself is outside the rule by name: not this rule
            if rule is not None and math.isfinite(value) and not rule[0](value):
                raise _refuse(name, f.name, value, rule[1])


def check_config(name: str, build: Callable[[Any], Any], cfg: Any) -> None:
    """`check_options`, then refuse, before any memory is allocated, a model whose parameters
    would take half this machine's memory, or whose constructor registers more than
    `MAX_TENSORS` weight tensors on the meta device (a depth or count out of all reason:
    `num_res_blocks=1000000`), naming the option at fault. Parameters are
    counted on the meta device: a lower bound where the constructor cannot finish there
    (implicit decoders fit their initial sphere on real values), still enough to refuse
    `hidden=100000`, which once allocated for minutes."""
    check_options(name, cfg)
    total = _memory_bytes()
    limit = int(total / 2 / 4) if total else None
    count, complete, stopped = parameter_count(build, cfg, limit=limit)
    if stopped is None:
        return
    culprits, _ = find_culprits(build, cfg, max_probes=4, first_only=True)  # each probe is slow
    base = baseline(cfg)
    at_fault = (" (the value at fault: " + ", ".join(f"{k}={getattr(cfg, k)!r}, the default "
                                                     f"{getattr(base, k)!r} fits"
                                                     for k in culprits) + ")") if culprits else ""
    if stopped == "memory":
        raise UserError(f"{name} with these options has more than {count / 1e9:.1f}G "
                        f"parameters ({count * 4 / 2**30:.0f} GiB of weights), more than half "
                        f"this machine's {total / 2**30:.0f} GiB of memory{at_fault}; choose "
                        f"smaller sizes with --set (options set: {_set_text(cfg)})")
    raise UserError(f"{name} with these options would have more than {MAX_TENSORS} weight "
                    f"tensors{at_fault}; a depth or count is far too large; choose smaller ones "
                    f"with --set (options set: {_set_text(cfg)})")


def _memory_bytes() -> int | None:
    import os

    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _set_text(cfg: Any) -> str:
    text = ", ".join(f"{k}={getattr(cfg, k)!r}" for k in user_set(cfg)) or "the defaults"
    return text if len(text) < 300 else text[:297] + "..."


# -- 2. the culprit of a failed build -------------------------------------------------------------
#: Constructors with more parameters than this are not re-built on the CPU to find a culprit.
PROBE_PARAMS = 20_000_000
#: A meta-device build that registers more weight tensors than this is stopped. (Not a time
#: limit: the first meta-device build in a process can take seconds on a loaded machine.)
MAX_TENSORS = 10_000


class _Stop(BaseException):
    """Stops a meta-device build (a BaseException: a constructor's `except Exception` does not
    swallow it)."""


def parameter_count(build: Callable[[Any], Any], cfg: Any, *, limit: int | None = None
                    ) -> tuple[int, bool, str | None]:
    """(parameters, complete, stopped): the parameters (and buffers) `build(cfg)` creates,
    counted on the meta device with no memory touched. `complete` is False when the
    constructor did not reach its end there (it computes on real values: an orthogonal init,
    a least-squares fit): the count is then a lower bound. `stopped` says why the build was cut
    short: "memory" (more than `limit` parameters) or "tensors" (more than `MAX_TENSORS`);
    None if it was not."""
    import torch

    count, tensors = [0], [0]
    register_parameter, register_buffer = nn.Module.register_parameter, nn.Module.register_buffer

    def add(tensor) -> None:
        count[0] += tensor.numel()
        tensors[0] += 1
        if limit is not None and count[0] > limit:
            raise _Stop("memory")
        if tensors[0] > MAX_TENSORS:
            raise _Stop("tensors")

    def counted_parameter(self, key, param):
        if param is not None:
            add(param)
        return register_parameter(self, key, param)

    def counted_buffer(self, key, tensor, persistent=True):
        if tensor is not None:
            add(tensor)
        return register_buffer(self, key, tensor, persistent)

    nn.Module.register_parameter, nn.Module.register_buffer = counted_parameter, counted_buffer
    stopped = None
    token = _PROBING.set(True)
    try:
        with torch.device("meta"):
            build(cfg)
        complete = True
    except _Stop as stop:
        complete, stopped = False, str(stop)
    except Exception:  # noqa: BLE001 - a constructor that needs real values, or bad options
        complete = False
    finally:
        _PROBING.reset(token)
        nn.Module.register_parameter, nn.Module.register_buffer = (register_parameter,
                                                                   register_buffer)
    return count[0], complete, stopped


def _builds(build: Callable[[Any], Any], cfg: Any, on_meta: bool) -> bool | None:
    """Whether `build(cfg)` succeeds (None: too large to try on the CPU)."""
    total = _memory_bytes()
    limit = int(total / 2 / 4) if total else None
    count, complete, stopped = parameter_count(build, cfg, limit=limit)
    if on_meta or stopped:
        return complete
    if count > PROBE_PARAMS:
        return None
    token = _PROBING.set(True)
    try:
        build(cfg)
        return True
    except Exception:  # noqa: BLE001 - any failure (a UserError too) means: not with these options
        return False
    finally:
        _PROBING.reset(token)


#: True while this module builds a model to count or probe it (a guarded constructor then
#: runs as it is, without validating again).
_PROBING: contextvars.ContextVar[bool] = contextvars.ContextVar("probing", default=False)


def guard_constructor(cls: type, name: str) -> None:
    """Validate in the constructor of `cls` itself (agents, which the runner builds directly):
    `check_config` before it runs, `explain_failure` when it raises. Applied by `register`."""
    original = cls.__init__
    if getattr(original, "_validated", None) == name:
        return

    @functools.wraps(original)
    def __init__(self, cfg, *args, **kwargs):
        if _PROBING.get():
            return original(self, cfg, *args, **kwargs)
        check_config(name, cls, cfg)
        try:
            original(self, cfg, *args, **kwargs)
        except UserError as err:
            raise name_option(name, cls, cfg, err) from None
        except Exception as err:  # noqa: BLE001 - explained, never a traceback from inside torch
            raise explain_failure(name, cls, cfg, err) from None

    __init__._validated = name
    cls.__init__ = __init__


def baseline(cfg: Any) -> Any:
    """The defaults of `cfg`'s class with `cfg`'s data fields (the options nobody set)."""
    defaults = type(cfg)()
    names = {f.name for f in dataclasses.fields(cfg)}
    return dataclasses.replace(defaults, **{k: getattr(cfg, k) for k in DATA_FIELDS
                                            if k in names})


def user_set(cfg: Any) -> list[str]:
    """The options of `cfg` that differ from their defaults (data fields aside)."""
    base = baseline(cfg)
    return [f.name for f in dataclasses.fields(cfg) if f.name not in DATA_FIELDS
            and getattr(cfg, f.name) != getattr(base, f.name)]


def _magnitude(value: Any) -> float:
    values = value if isinstance(value, (tuple, list)) else [value]
    return max([abs(float(v)) for v in values if _is_real(v) and math.isfinite(v)] or [0.0])


def find_culprits(build: Callable[[Any], Any], cfg: Any, *, max_probes: int = 24,
                  first_only: bool = False) -> tuple[list[str], bool]:
    """The user-set options whose values make `build(cfg)` fail: ([option, ...], False) for
    each option that, put back to its default alone, lets the model build (the first only with
    `first_only`); ([a, b], False) if only putting back the pair
    does; ([], True) if even the defaults fail for this data; ([], False) if none is found."""
    base = baseline(cfg)
    on_meta = _builds(build, base, True) is True
    if not on_meta and _builds(build, base, False) is not True:
        return [], True
    # the most suspect first: the values farthest from their defaults (a huge count)
    changed = sorted(user_set(cfg), key=lambda k: -_magnitude(getattr(cfg, k)))
    probes = 0
    singles = []
    for option in changed:
        if probes >= max_probes:
            break
        probes += 1
        if _builds(build, dataclasses.replace(cfg, **{option: getattr(base, option)}), on_meta):
            singles.append(option)
            if first_only:
                break
    if singles:
        return singles, False
    for a, b in itertools.combinations(changed, 2):
        if probes >= max_probes:
            break
        probes += 1
        trial = dataclasses.replace(cfg, **{a: getattr(base, a), b: getattr(base, b)})
        if _builds(build, trial, on_meta):
            return [a, b], False
    return [], False


def name_option(name: str, build: Callable[[Any], Any], cfg: Any, err: UserError) -> UserError:
    """`err` (a model's own refusal) if it names an option the user set, else `err` with the
    option at fault added: a model may refuse a value in its own words without naming the
    option (`cannot make environment 'CARTPOLE-V1'`); it is found as in `explain_failure`."""
    text, changed = str(err), user_set(cfg)
    if not changed or any(k in text for k in changed):
        return err
    try:
        culprits, _ = find_culprits(build, cfg, max_probes=8)
    except Exception:  # noqa: BLE001 - the explanation must never hide the error itself
        return err
    if not culprits:
        return err
    base = baseline(cfg)
    given = " and ".join(f"{k}={getattr(cfg, k)!r}" for k in culprits)
    builds = ", ".join(f"{k}={getattr(base, k)!r}" for k in culprits)
    message = f"{text} (option {given}; {name} builds with the default {builds})"
    try:
        return type(err)(message)
    except TypeError:  # a subclass with another signature
        return UserError(message)


def explain_failure(name: str, build: Callable[[Any], Any], cfg: Any,
                    err: BaseException) -> UserError:
    """A `UserError` for a constructor that raised `err`: it names the option(s) at fault, the
    value(s) given and the default(s) that build, keeping the first line of `err`."""
    message = str(err).splitlines()[0][:300] if str(err) else type(err).__name__
    try:
        culprits, data_at_fault = find_culprits(build, cfg)
    except Exception:  # noqa: BLE001 - the explanation must never hide the error itself
        culprits, data_at_fault = [], False
    base = baseline(cfg)
    if culprits:
        given = " and ".join(f"{k}={getattr(cfg, k)!r}" for k in culprits)
        builds = ", ".join(f"{k}={getattr(base, k)!r}" for k in culprits)
        word = "option" if len(culprits) == 1 else "options"
        return UserError(f"{name} cannot be built with {word} {given} ({message}); it builds "
                         f"with the default {builds}. Choose another value with "
                         f"--set {culprits[0]}=VALUE")
    if data_at_fault:
        data = ", ".join(f"{k}={getattr(cfg, k)!r}" for k in DATA_FIELDS if hasattr(cfg, k))
        return UserError(f"{name} cannot be built for this data ({data}: {message}); train it "
                         "on another dataset or change its options with --set KEY=VALUE")
    return UserError(f"{name} cannot be built with these options ({message}); options set: "
                     f"{_set_text(cfg)}. Change them with --set KEY=VALUE")
