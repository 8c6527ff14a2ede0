"""What the autoregressive models share: one contract, output distributions, reproducible sampling.

Every model of this family factorises p(x) = prod_i p(x_i | x_<i) over the dimensions of x in a
fixed order and computes all conditionals' parameters at once from the (teacher-forced) data:
`model.conditionals(x)` takes x of shape (B, *data_shape) in level units (integers 0..L-1, or a
float tensor so that tests can differentiate w.r.t. the inputs) and returns (B, D, P): P
numbers per dimension d (flattened C, H, W index), which depend only on the inputs before d
in `model.order` (a (D,) LongTensor of flat indices in generation order).

An `OutputHead` turns P numbers into a distribution over the L levels of one dimension:

- `bernoulli` (L = 2, P = 1): one logit.
- `categorical` (P = L): a softmax over the levels ("256-way softmax" for 8-bit data).
- `logistic_mixture` (P = 3K): a discretized mixture of K logistics (Salimans et al. 2017,
  PixelCNN++, eq. 2): levels are mapped to [-1, 1], each bin gets
  sigma((x + 1/(L-1) - mu)/s) - sigma((x - 1/(L-1) - mu)/s), the end bins take the tails, so
  the L probabilities sum to one exactly.

Sampling draws one uniform number u per example and dimension from the caller's generator and
inverts the CDF of the conditional (`sample_from_params`); two samplers that see the same
conditionals therefore make the same draws, which is how the cached samplers are tested
against the naive D-pass ones.

`Autoregressive` is the family's contract written once: a model that has `head`, `num_dims`,
`order` and `conditionals(x, *, cond=None)` gets from it

    log_prob(x, *, cond=None) = sum_d log p(x_d | x_<d [, cond])         (the chain rule)
    loss((x, y))              = mean -log p(x [| y])                      (teacher forcing)
    sample_naive(n, ...)      = D passes of `conditionals`, one dimension each, in `order`

and, for a class-conditional model (`num_classes` > 0 and a `trained_with_labels` buffer set
by training on labels), `log_prob(x)` without `cond` is the exact marginal
log (1/K) sum_k p(x | k) under a uniform label prior.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from perceptzoo.core.contracts import LossOutput
from perceptzoo.errors import UserError

HEADS = ("auto", "bernoulli", "categorical", "logistic_mixture")

#: Above this many levels the dense models (FVSBN, NADE, MADE), whose output layer has P
#: weights per dimension and hidden unit, default to a discretized logistic mixture (P = 3K =
#: 15) instead of a softmax over the levels (P = L): on 256-level MNIST the softmax made MADE
#: 258M parameters and FVSBN 158M; the mixture makes them 15M and 9M.
MIXTURE_ABOVE_LEVELS = 32
#: Parameters the dense models' defaults are sized to fit (hidden widths shrink, MADE's direct
#: connections go, on data with many dimensions); a user's --set always wins.
DENSE_DEFAULT_PARAMS = 20_000_000


def sized_output(info, num_mixtures: int = 5) -> tuple[dict, int]:
    """The default `output` option of a dense model on data `info` and the P (parameters per
    dimension) it gives: ({}, L or 1) for up to MIXTURE_ABOVE_LEVELS levels, else
    ({"output": "logistic_mixture"}, 3K)."""
    levels = info.num_levels or 2
    if levels > MIXTURE_ABOVE_LEVELS:
        return {"output": "logistic_mixture"}, 3 * num_mixtures
    return {}, 1 if levels == 2 else levels


class OutputHead:
    """The distribution of one dimension given its P parameters. Not a module: no weights."""

    def __init__(self, kind: str, num_levels: int, num_mixtures: int = 5):
        if kind not in HEADS:
            raise UserError(f"unknown output {kind!r}; use one of {', '.join(HEADS)}")
        if kind == "auto":
            kind = "bernoulli" if num_levels == 2 else "categorical"
        if kind == "bernoulli" and num_levels != 2:
            raise UserError(f"a Bernoulli output needs binary data, not {num_levels} levels; "
                            "use --set output=categorical or output=logistic_mixture")
        self.kind, self.num_levels, self.num_mixtures = kind, num_levels, num_mixtures
        self.num_params = {"bernoulli": 1, "categorical": num_levels,
                           "logistic_mixture": 3 * num_mixtures}[kind]

    # -- log-probabilities of all levels: (..., P) -> (..., L) ----------------------------
    def level_log_probs(self, params: torch.Tensor) -> torch.Tensor:
        if self.kind == "bernoulli":
            logit = params[..., 0]
            return torch.stack([F.logsigmoid(-logit), F.logsigmoid(logit)], -1)
        if self.kind == "categorical":
            return F.log_softmax(params, -1)
        return self._logistic_mixture_log_probs(params)

    def _logistic_mixture_log_probs(self, params: torch.Tensor) -> torch.Tensor:
        K, L = self.num_mixtures, self.num_levels
        logit_pi, mu, log_s = params.unflatten(-1, (3, K)).unbind(-2)  # each (..., K)
        log_s = log_s.clamp(min=-7.0)
        centres = torch.linspace(-1.0, 1.0, L, dtype=params.dtype, device=params.device)
        half = 1.0 / (L - 1)
        # (..., K, L): standardised bin edges
        inv_s = torch.exp(-log_s)[..., None]
        upper = (centres + half - mu[..., None]) * inv_s
        lower = (centres - half - mu[..., None]) * inv_s
        # log(sigma(upper) - sigma(lower)) computed stably; end bins take the tails
        log_cdf_upper = F.logsigmoid(upper)
        log_sf_lower = F.logsigmoid(-lower)
        mid = _log_sigmoid_diff(upper, lower)
        log_bin = torch.cat([log_cdf_upper[..., :1], mid[..., 1:-1], log_sf_lower[..., -1:]], -1)
        return torch.logsumexp(F.log_softmax(logit_pi, -1)[..., None] + log_bin, -2)

    def log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """params (..., P), x (...) integer levels -> log p(x) (...), nats."""
        if self.kind == "bernoulli":
            return -F.binary_cross_entropy_with_logits(params[..., 0], x.to(params.dtype),
                                                       reduction="none")
        if self.kind == "logistic_mixture":  # x's bin only: (..., K), not (..., K, L)
            return self._logistic_mixture_log_prob(params, x)
        lp = self.level_log_probs(params)
        return lp.gather(-1, x.long().unsqueeze(-1)).squeeze(-1)

    def _logistic_mixture_log_prob(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """log P(x) of the observed levels: the bin of `level_log_probs` at x, computed for that
        bin alone (L times less work and memory: 10k MNIST images scored in seconds)."""
        K, L = self.num_mixtures, self.num_levels
        logit_pi, mu, log_s = params.unflatten(-1, (3, K)).unbind(-2)  # each (..., K)
        log_s = log_s.clamp(min=-7.0)
        level = x.long()[..., None]  # (..., 1)
        centre = level.to(params.dtype) * (2.0 / (L - 1)) - 1.0
        half = 1.0 / (L - 1)
        inv_s = torch.exp(-log_s)
        upper = (centre + half - mu) * inv_s
        lower = (centre - half - mu) * inv_s
        log_bin = torch.where(level == 0, F.logsigmoid(upper),
                              torch.where(level == L - 1, F.logsigmoid(-lower),
                                          _log_sigmoid_diff(upper, lower)))
        return torch.logsumexp(F.log_softmax(logit_pi, -1) + log_bin, -1)

    def sample(self, params: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Invert the CDF: params (B, P), u (B,) uniform in [0, 1) -> levels (B,) long."""
        probs = self.level_log_probs(params).exp()
        cdf = probs.cumsum(-1)
        level = (cdf < u[:, None] * cdf[:, -1:]).sum(-1)
        return level.clamp(max=self.num_levels - 1)


def _log_sigmoid_diff(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """log(sigma(a) - sigma(b)) for a > b, without cancellation.

    sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - exp(b - a)).
    """
    return F.logsigmoid(a) + F.logsigmoid(-b) + torch.log1p(-torch.exp(b - a).clamp(max=1 - 1e-12))


def uniforms(batch: int, generator: torch.Generator | None, device) -> torch.Tensor:
    """One U[0,1) draw per example, from `generator` (on its device), moved to `device`."""
    gdev = generator.device if generator is not None else "cpu"
    return torch.rand(batch, generator=generator, device=gdev, dtype=torch.float64).to(device)


def pixel_order(data_shape: tuple[int, ...]) -> torch.Tensor:
    """Raster order over pixels, channels (R, G, B) innermost: flat (C, H, W) indices, (D,)."""
    if len(data_shape) != 3:
        return torch.arange(math.prod(data_shape))
    C, H, W = data_shape
    return (torch.arange(C)[None, :] * H * W + torch.arange(H * W)[:, None]).reshape(-1)


def nll_metrics(nll: torch.Tensor, num_dims: int) -> dict[str, torch.Tensor]:
    """The NLL in nats and bits/dim as detached 0-dim tensors: no `.item()` in the loss (a
    device sync each step, a graph break under `torch.compile`); the Trainer makes them
    floats when it logs."""
    nll = nll.detach()
    return {"nll_nats": nll, "bits_per_dim": nll / (num_dims * math.log(2))}


def check_discrete(model_name: str, info, cfg) -> None:
    """Refuse continuous data and data that does not match the built shape/levels."""
    if info.num_levels is None:
        raise UserError(f"{model_name} models discrete data; {info.name} is continuous "
                        "(use a flow for it)")
    if info.num_levels != cfg.num_levels or tuple(info.data_shape) != tuple(cfg.data_shape):
        raise UserError(f"this {model_name} was built for {tuple(cfg.data_shape)} with "
                        f"{cfg.num_levels} levels, not {info.name}; rebuild it with "
                        f"dataset={info.name!r}")


class Autoregressive:
    """Mixin for `nn.Module`s of this family: log_prob, loss and the naive sampler, once.

    The model provides `head` (an `OutputHead`), `num_dims`, an `order` buffer (D,) and
    `conditionals(x, *, cond=None) -> (B, D, P)`. Class-conditional models set `num_classes`
    and register a bool buffer `trained_with_labels`; `log_prob_chunk` bounds the examples
    scored in one pass (WaveNet's (B, T, 256) logits would take GBs for a large batch).
    """

    head: OutputHead
    num_dims: int
    order: torch.Tensor
    num_classes: int = 0
    log_prob_chunk: int | None = None

    def log_prob_given(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | cond) = sum_d log p(x_d | x_<d, cond) in nats, (B,)."""
        step = self.log_prob_chunk
        if step is None or len(x) <= step:
            params = self.conditionals(x, cond=cond)  # (B, D, P)
            return self.head.log_prob(params, x.reshape(x.shape[0], -1)).sum(1)
        return torch.cat([
            self.log_prob_given(x[i : i + step], None if cond is None else cond[i : i + step])
            for i in range(0, len(x), step)])

    def check_cond(self, cond: torch.Tensor | None) -> None:
        """Refuse a `cond` that this model would ignore (it was built without classes)."""
        if cond is not None and not self.num_classes:
            raise UserError(f"this {type(self).__name__} is unconditional; call it without cond "
                            "(gated_pixelcnn and wavenet take class labels)")

    def _marginal_over_labels(self) -> bool:
        return self.num_classes > 0 and bool(getattr(self, "trained_with_labels", False))

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | cond) in nats, (B,); a model trained with labels and given no `cond`
        returns the marginal log (1/K) sum_k p(x | k)."""
        self.check_cond(cond)
        if cond is not None or not self._marginal_over_labels():
            return self.log_prob_given(x, cond)
        K = self.num_classes
        per_class = torch.stack([
            self.log_prob_given(x, torch.full((x.shape[0],), k, device=x.device))
            for k in range(K)])  # (K, B)
        return torch.logsumexp(per_class, 0) - math.log(K)

    @property
    def loss_is_nll(self) -> bool:
        """Unconditional: the loss is the mean of -log_prob(x) (validated in one pass); with
        labels the loss is -log p(x | y) and log_prob(x) the class mixture."""
        return self.num_classes == 0

    def loss(self, batch) -> LossOutput:
        x, y = batch
        cond = y if self.num_classes else None
        if cond is not None and self.training:
            self.trained_with_labels.fill_(True)
        nll = -self.log_prob_given(x, cond).mean()
        return LossOutput(nll, nll_metrics(nll, self.num_dims))

    @torch.no_grad()
    def sample_naive(self, num_samples: int, *, cond: torch.Tensor | None = None,
                     generator: torch.Generator | None = None,
                     shape: tuple[int, ...] | None = None) -> torch.Tensor:
        """(num_samples, *shape) levels by D passes of `conditionals`, dimension order[t] drawn
        at pass t: the reference the cached samplers are tested against (they draw the same
        uniforms, so they give the same samples). `shape` defaults to the data shape; another
        one (longer audio) is filled in raster order."""
        shape = tuple(self.cfg.data_shape) if shape is None else tuple(shape)
        D = math.prod(shape)
        order = self.order.tolist() if D == self.num_dims else range(D)
        w = next(self.parameters())
        x = torch.zeros(num_samples, D, dtype=w.dtype, device=w.device)
        for d in order:
            params = self.conditionals(x.view(num_samples, *shape), cond=cond)[:, d]  # (B, P)
            u = uniforms(num_samples, generator, x.device)
            x[:, d] = self.head.sample(params, u).to(x.dtype)
        return x.view(num_samples, *shape)
