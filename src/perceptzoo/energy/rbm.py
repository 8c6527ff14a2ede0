"""Bernoulli-Bernoulli restricted Boltzmann machine (Smolensky 1986; Hinton 2002), trained by
contrastive divergence CD-k or persistent CD (Tieleman 2008), with its partition function exact
by enumeration for tiny models and estimated by annealed importance sampling (Salakhutdinov &
Murray, "On the quantitative analysis of deep belief networks", ICML 2008) for large ones.

Binary visible v in {0,1}^V and hidden h in {0,1}^H share the energy

    E(v, h) = -b.v - c.h - v^T W h,       p(v, h) = exp(-E(v, h)) / Z.

Summing out h gives the free energy, and the log-likelihood:

    F(v) = -b.v - sum_j softplus(c_j + (v^T W)_j),     log p(v) = -F(v) - log Z.

The conditionals factorise (block Gibbs sampling alternates them):

    p(h_j = 1 | v) = sigmoid(c_j + (v^T W)_j),      p(v_i = 1 | h) = sigmoid(b_i + (W h)_i).

Learning. d log p(v) / d theta = -dF(v)/d theta + E_model[dF/d theta]. CD-k (Hinton 2002)
replaces the model expectation by the free-energy gradient at v_k, k block-Gibbs steps from
the data; PCD (Tieleman 2008) keeps `num_chains` chains in a buffer (`chains`) and advances
them k steps per update instead of restarting them at the data. Both are the gradient of the
surrogate  mean F(v_data) - mean F(v_k)  with v_k held fixed, which is what `train_step` steps.

log Z. `log_partition_exact` enumerates the smaller layer (2^min(V, H) states, in chunks):
log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)] (or the same with v and h swapped).
`ais` estimates it by annealed importance sampling from a base-rate model p_A (W = 0, visible
biases b_A = the data's log-odds, stored by `initialize`) through the intermediate
distributions (Salakhutdinov & Murray 2008, section 3.1)

    p*_k(v) = exp((1 - beta_k) b_A.v + beta_k b.v) prod_j (1 + exp(beta_k (c_j + (v^T W)_j)))

with 0 = beta_0 < ... < beta_K = 1, one Gibbs transition per beta, and importance weights
log w = sum_k [log p*_k(v_{k-1}) - log p*_{k-1}(v_{k-1})], so that Z_B / Z_A ~ mean(w).
The default betas follow the paper: 14,500 of them, 500 spaced evenly in [0, 0.5], 4,000 in
[0.5, 0.9] and 10,000 in [0.9, 1]; all runs advance together as one (runs, V) tensor. The
uncertainty reported is the paper's: log(r +/- 3 sd(r)), r = mean w, sd(r) = std(w)/sqrt(runs).
AIS is unbiased for Z, so in log space it tends to underestimate log Z (and overestimate the
log-likelihood) when the weights have a heavy tail.

`log_prob(x)` = -F(x) - log Z, with log Z exact when min(V, H) <= `exact_max_units`, else the
AIS estimate (cached until the parameters change); `log_z_is_exact` says which was used.
`sample(n)` runs n block-Gibbs chains for `sample_steps` steps from the base-rate model.

    >>> import perceptzoo
    >>> rbm = perceptzoo.build("rbm", data_shape=(1, 3, 2), num_hidden=4)
    >>> rbm.log_prob(rbm.sample(5)).shape   # exact: 2^4 hidden states enumerated
    torch.Size([5])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.errors import UserError


@dataclass
class RBMConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """per-example shape, V = its product; filled from the dataset"""
    num_levels: int = 2
    """must be 2: the RBM models binary data; filled from the dataset"""
    num_hidden: int = 500
    cd_k: int = 1
    """Gibbs steps per update (CD-k, or PCD-k when persistent)"""
    persistent: bool = False
    """persistent CD (Tieleman 2008): chains in a buffer, not restarted at the data"""
    num_chains: int = 100
    """persistent chains (PCD)"""
    momentum: float = 0.9
    """SGD momentum (the learning rate and weight decay, on W only, come from the Trainer)"""
    init_std: float = 0.01
    sample_steps: int = 1000
    """Gibbs steps of each chain in `sample`"""
    ais_runs: int = 100
    ais_betas: int = 14500
    """intermediate distributions of AIS (the paper's 14,500)"""
    exact_max_units: int = 20
    """log Z by enumeration when min(V, H) is at most this, else AIS"""

    @classmethod
    def tiny(cls) -> RBMConfig:
        return cls(num_hidden=8, sample_steps=5, ais_runs=4, ais_betas=10)


@dataclass
class AISResult:
    """An AIS estimate of log Z: the estimate, the paper's +/- 3 sd bounds, the log weights."""

    log_z: float
    log_z_low: float
    """log(r - 3 sd(r)); -inf when the interval reaches zero"""
    log_z_high: float
    """log(r + 3 sd(r))"""
    log_z_base: float
    """log Z_A of the base-rate model"""
    log_weights: torch.Tensor
    """(runs,) log w of each run; log Z = log Z_A + logmeanexp(log w)"""
    relative_sd: float
    """sd(r) / r: above 1/3 the lower bound is -inf and the estimate is not to be trusted (a
    few runs carry all the weight: more betas needed)"""


def beta_schedule(num_betas: int) -> torch.Tensor:
    """0 = beta_0 < ... < beta_K = 1 (K = num_betas, float64), split as in the paper:
    500/14500 of the steps in [0, 0.5], 4000/14500 in [0.5, 0.9], the rest in [0.9, 1]."""
    if num_betas < 1:
        raise UserError(f"AIS needs at least 1 intermediate distribution, not {num_betas}; "
                        "use thousands (the paper uses 14,500) for an accurate log Z")
    n1 = max(1, round(num_betas * 500 / 14500)) if num_betas >= 3 else 0
    n2 = max(1, round(num_betas * 4000 / 14500)) if num_betas >= 3 else 0
    n3 = num_betas - n1 - n2
    parts = [torch.linspace(0, 0.5, n1 + 1, dtype=torch.float64)[:-1] if n1 else None,
             torch.linspace(0.5, 0.9, n2 + 1, dtype=torch.float64)[:-1] if n2 else None,
             torch.linspace(0.9 if n1 else 0.0, 1.0, n3 + 1, dtype=torch.float64)]
    return torch.cat([p for p in parts if p is not None])


def _bernoulli(p: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    gdev = generator.device if generator is not None else p.device
    u = torch.rand(p.shape, generator=generator, device=gdev, dtype=p.dtype).to(p.device)
    return (u < p).to(p.dtype)


def _states(n: int, start: int, stop: int, dtype, device) -> torch.Tensor:
    """Binary states start..stop-1 of n units as rows (bit i of the index is unit i)."""
    idx = torch.arange(start, stop, device=device)[:, None]
    return ((idx >> torch.arange(n, device=device)) & 1).to(dtype)


@register("rbm", RBMConfig, family="energy", runner="trainer",
          default_dataset="binarized_mnist",
          train_defaults={"lr": 0.05, "batch_size": 100, "grad_clip": None,
                          "eval_every": 100_000, "eval_examples": 2000})
class RBM(nn.Module):
    def __init__(self, cfg: RBMConfig):
        super().__init__()
        if cfg.num_levels != 2:
            raise UserError(f"an RBM models binary data, not {cfg.num_levels} levels; train it "
                            "on binarized_mnist (or binarize the data first)")
        if cfg.num_hidden < 1 or cfg.cd_k < 1:
            raise UserError("num_hidden and cd_k must be at least 1")
        self.cfg = cfg
        V, H = math.prod(cfg.data_shape), cfg.num_hidden
        self.num_visible = V
        self.W = nn.Parameter(torch.randn(V, H) * cfg.init_std)
        self.b = nn.Parameter(torch.zeros(V))  # visible biases
        self.c = nn.Parameter(torch.zeros(H))  # hidden biases
        self.register_buffer("base_bias", torch.zeros(V))  # b_A of the AIS base-rate model
        self.register_buffer("chains", torch.zeros(cfg.num_chains if cfg.persistent else 0, V))
        self._log_z_cache: tuple[tuple, float, AISResult | None] | None = None

    # -- data -------------------------------------------------------------------------------
    def check_data(self, info) -> None:
        if info.num_levels != 2:
            raise UserError(f"an RBM models binary data; {info.name} has "
                            f"{info.num_levels or 'continuous'} levels: use binarized_mnist")

    def _flat(self, x: torch.Tensor) -> torch.Tensor:
        v = x.reshape(x.shape[0], -1).to(self.W.dtype)
        if v.shape[1] != self.num_visible:
            raise UserError(f"expected {self.num_visible} visible units per example, got "
                            f"{v.shape[1]}")
        if ((v != 0) & (v != 1)).any():
            raise UserError("an RBM takes binary data (0/1 values); binarize it first")
        return v

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """Visible biases (and the AIS base-rate model) at the data's log-odds (Hinton 2010,
        "A practical guide to training RBMs", section 8), from the first batch."""
        v = self._flat(batch[0])
        p = (v.mean(0) * len(v) + 0.5) / (len(v) + 1.0)  # smoothed: no infinite log-odds
        self.b.copy_(torch.log(p) - torch.log1p(-p))
        self.base_bias.copy_(self.b)

    # -- energy and conditionals --------------------------------------------------------------
    def energy(self, v: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """E(v, h) = -b.v - c.h - v^T W h; v (B, V), h (B, H) -> (B,)."""
        return -(v @ self.b) - (h @ self.c) - ((v @ self.W) * h).sum(1)

    def free_energy(self, v: torch.Tensor) -> torch.Tensor:
        """F(v) = -b.v - sum_j softplus(c_j + (v^T W)_j); v (B, V) -> (B,)."""
        return -(v @ self.b) - F.softplus(v @ self.W + self.c).sum(1)

    def prob_h(self, v: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(v @ self.W + self.c)

    def prob_v(self, h: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(h @ self.W.T + self.b)

    def gibbs_step(self, v: torch.Tensor, generator: torch.Generator | None = None
                   ) -> torch.Tensor:
        """One block-Gibbs sweep v -> h ~ p(h|v) -> v' ~ p(v|h)."""
        h = _bernoulli(self.prob_h(v), generator)
        return _bernoulli(self.prob_v(h), generator)

    # -- learning -----------------------------------------------------------------------------
    def negative_samples(self, v0: torch.Tensor, k: int | None = None,
                         generator: torch.Generator | None = None) -> torch.Tensor:
        """v_k: k Gibbs steps from the data (CD) or from the persistent chains (PCD, which are
        advanced in place)."""
        k = k or self.cfg.cd_k
        with torch.no_grad():
            v = self.chains.clone() if self.cfg.persistent else v0
            for _ in range(k):
                v = self.gibbs_step(v, generator)
            if self.cfg.persistent:
                self.chains.copy_(v)
        return v

    def cd_surrogate(self, v0: torch.Tensor, vk: torch.Tensor) -> torch.Tensor:
        """mean F(v0) - mean F(vk): its gradient is minus the CD estimate of d log p / d theta."""
        return self.free_energy(v0).mean() - self.free_energy(vk.detach()).mean()

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        groups = [{"params": [self.W], "weight_decay": train_cfg.weight_decay},
                  {"params": [self.b, self.c], "weight_decay": 0.0}]
        return [torch.optim.SGD(groups, lr=train_cfg.lr, momentum=self.cfg.momentum)]

    def train_step(self, batch, optimizers) -> dict[str, float]:
        v0 = self._flat(batch[0])
        if self.cfg.persistent and not self.chains.any():
            with torch.no_grad():  # PCD chains start at data (a batch, tiled)
                reps = -(-len(self.chains) // len(v0))
                self.chains.copy_(v0.repeat(reps, 1)[: len(self.chains)])
        vk = self.negative_samples(v0)
        loss = self.cd_surrogate(v0, vk)
        (opt,) = optimizers
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            recon = self.prob_v(self.prob_h(v0))
            return {"loss": loss.item(), "recon_mse": F.mse_loss(recon, v0).item()}

    # -- the partition function -------------------------------------------------------------------
    @torch.no_grad()
    def log_partition_exact(self, chunk: int = 1 << 16) -> float:
        """log Z by enumerating the smaller layer; refuses more than 2^26 states."""
        V, H = self.W.shape
        n = min(V, H)
        if n > 26:
            raise UserError(f"exact log Z enumerates 2^{n} states; use ais() for this model")
        W, b, c = self.W.double(), self.b.double(), self.c.double()
        parts = []
        for start in range(0, 2 ** n, chunk):
            s = _states(n, start, min(2 ** n, start + chunk), W.dtype, W.device)
            if H <= V:  # s are hidden states: sum out v
                parts.append(s @ c + F.softplus(s @ W.T + b).sum(1))
            else:       # s are visible states: -F(v)
                parts.append(s @ b + F.softplus(s @ W + c).sum(1))
        return float(torch.logsumexp(torch.cat(parts), 0))

    @torch.no_grad()
    def ais(self, num_runs: int | None = None, num_betas: int | None = None,
            generator: torch.Generator | None = None,
            base_bias: torch.Tensor | None = None) -> AISResult:
        """Estimate log Z by AIS (Salakhutdinov & Murray 2008); see the module docstring.

        num_runs importance weights (M, default cfg.ais_runs), each one chain through num_betas
        intermediate distributions (default cfg.ais_betas); all chains advance as one (M, V)
        tensor. base_bias: b_A of the base-rate model (default the stored data log-odds)."""
        M = num_runs if num_runs is not None else self.cfg.ais_runs
        K = num_betas if num_betas is not None else self.cfg.ais_betas
        if M < 1:
            raise UserError(f"AIS needs at least 1 run, not {M}")
        betas = beta_schedule(K).tolist()
        W, b, c = self.W, self.b, self.c
        bA = self.base_bias if base_bias is None else base_bias.to(W)
        H = W.shape[1]
        log_z_a = float(F.softplus(bA.double()).sum() + H * math.log(2.0))

        def log_p_star(v_b_terms, x, beta):  # log p*_beta(v), given (bA.v, b.v) and x = vW + c
            va, vb = v_b_terms
            return (1 - beta) * va + beta * vb + F.softplus(beta * x).sum(1).double()

        v = _bernoulli(torch.sigmoid(bA).expand(M, -1).contiguous(), generator)  # v ~ p_A
        log_w = torch.zeros(M, dtype=torch.float64, device=W.device)
        for k in range(1, len(betas)):
            prev, beta = betas[k - 1], betas[k]
            x = v @ W + c                                           # (M, H)
            terms = ((v @ bA).double(), (v @ b).double())
            log_w += log_p_star(terms, x, beta) - log_p_star(terms, x, prev)
            if k < len(betas) - 1:  # transition T_k leaving p_k invariant
                h = _bernoulli(torch.sigmoid(beta * x), generator)
                v = _bernoulli(torch.sigmoid((1 - beta) * bA + beta * (h @ W.T + b)), generator)
        # log r = logmeanexp(log w); sd(r) = std(w) / sqrt(M), both scaled by max w
        top = log_w.max()
        w = torch.exp(log_w - top)
        mean = w.mean()
        sd = w.std(unbiased=True) / math.sqrt(M) if M > 1 else torch.zeros((), dtype=w.dtype)
        log_r = float(top + torch.log(mean))
        high = float(top + torch.log(mean + 3 * sd))
        low = float(top + torch.log(mean - 3 * sd)) if mean > 3 * sd else -math.inf
        return AISResult(log_z_a + log_r, log_z_a + low, log_z_a + high, log_z_a, log_w.cpu(),
                         float(sd / mean))

    @property
    def log_z_is_exact(self) -> bool:
        return min(self.W.shape) <= self.cfg.exact_max_units

    def log_partition(self) -> float:
        """log Z: exact when tiny, else AIS with the config's runs and betas, cached until the
        parameters change (an evaluation pass runs AIS once, not once per batch)."""
        key = (self.W._version, self.b._version, self.c._version, self.base_bias._version,
               self.W.data_ptr(), str(self.W.device))
        if self._log_z_cache is None or self._log_z_cache[0] != key:
            if self.log_z_is_exact:
                self._log_z_cache = (key, self.log_partition_exact(), None)
            else:
                result = self.ais()
                self._log_z_cache = (key, result.log_z, result)
        return self._log_z_cache[1]

    # -- the contract ---------------------------------------------------------------------------
    def log_prob(self, x: torch.Tensor, *, cond=None) -> torch.Tensor:
        """log p(x) = -F(x) - log Z in nats, (B,): exact log Z when min(V, H) <=
        exact_max_units, else the AIS estimate (see `log_z_is_exact`, `log_partition`)."""
        if cond is not None:
            raise UserError("the RBM is unconditional; call log_prob without cond")
        v = self._flat(x)
        log_z = self.log_partition()
        return -self.free_energy(v).double() - log_z

    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """log Z and, for AIS, its +/- 3 sd bounds (the lower one only when finite) and sd(r)/r;
        reconstruction error of one Gibbs sweep."""
        log_z = self.log_partition()
        out = {"log_z": log_z, "log_z_exact": float(self.log_z_is_exact)}
        ais = self._log_z_cache[2] if self._log_z_cache else None
        if ais is not None:
            out.update(log_z_high=ais.log_z_high, ais_relative_sd=ais.relative_sd)
            if math.isfinite(ais.log_z_low):
                out["log_z_low"] = ais.log_z_low
        with torch.no_grad():
            v = self._flat(x[:2000])
            out["recon_mse"] = float(F.mse_loss(self.prob_v(self.prob_h(v)), v))
        return out

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond=None, generator: torch.Generator | None = None,
               num_steps: int | None = None, mean: bool = False) -> torch.Tensor:
        """(num_samples, *data_shape): the visible state of block-Gibbs chains after num_steps
        (default cfg.sample_steps) sweeps from the base-rate model; `mean=True` returns
        p(v | h) of the last sweep instead of a binary draw (smoother grids)."""
        if cond is not None:
            raise UserError("the RBM is unconditional; sample without cond")
        steps = self.cfg.sample_steps if num_steps is None else num_steps
        p0 = torch.sigmoid(self.base_bias).expand(num_samples, -1).contiguous()
        v = _bernoulli(p0, generator)
        for _ in range(steps):
            v = self.gibbs_step(v, generator)
        if mean:
            v = self.prob_v(_bernoulli(self.prob_h(v), generator))
        return v.reshape(num_samples, *self.cfg.data_shape)
