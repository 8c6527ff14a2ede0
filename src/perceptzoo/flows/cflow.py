"""C-Flow: a flow conditioned on another flow, for paired domains (Pumarola et al., CVPR 2020).

Two Glow-shaped flows share their multi-scale layout. Flow A models domain A on its own,
z_A = f_A(x_A); flow B models domain B given A, z_B = f_B(x_B | x_A), where every coupling
and split prior of flow B at level l also sees flow A's hidden state h_A^l at that level
(the same resolution: "coupling layers conditioned on the other flow's latent features").
The pair's likelihood is

    log p(x_A, x_B) = log p_A(x_A) + log p_B(x_B | x_A),

trained jointly. Cross-domain generation A -> B: encode x_A, draw z_B ~ N(0, tau^2 I), decode
x_B = f_B^{-1}(z_B | x_A). The property test checks the round trip
x_B = f_B^{-1}(f_B(x_B | z_A) | z_A) and the log-det of f_B given A.

Paired domains here: MNIST digits and their Sobel edge maps (`perceptzoo.data.edges.edge_map`,
a deterministic function of the digit, so the dataset is plain MNIST).
`direction="edges_to_digits"` takes A = edge maps (2 levels), B = digits; `"digits_to_edges"`
swaps them. `log_prob(x)` of a digit x is log P_A(x_A) + log P_B(x_B | x_A) with (x_A, x_B) =
the pair made from x (dequantized bounds): since one member of the pair is a function of the
other, it lower-bounds the model's marginal log-probability of the digit, so the bits/dim
`perceptzoo eval` prints are an upper bound on the digit's bits/dim.

Scoring a translation (`translation_scores`): the background dominates both domains (on
MNIST about 80 % of a digit's pixels and 77 % of its edge map's are empty), so pixel
agreement rewards a blank guess; the scores that ignore it are the stroke IoU
|P & T| / |P | T| of the foreground pixels of prediction P and target T (a digit's pixels at
half intensity or more, an edge map's ones), per image, and for digits the project
classifier's accuracy against the true labels.
The baseline (`nearest_pair_translation`) answers each input with the target half of the
training pair whose input half is nearest in Euclidean distance.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("cflow", data_shape=(1, 8, 8), hidden=8, num_steps=1)
    >>> edges = torch.randint(0, 2, (3, 1, 8, 8))
    >>> model.sample(3, cond=edges).shape          # digits drawn for three edge maps
    torch.Size([3, 1, 8, 8])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data.edges import edge_map
from perceptzoo.errors import UserError
from perceptzoo.flows.bases import StandardNormal
from perceptzoo.flows.dequantization import UniformDequantization
from perceptzoo.flows.layers import ActNorm, glow_levels
from perceptzoo.metrics.geometry import mask_iou


@dataclass
class CFlowConfig:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """(C, H, W) of the digits; filled from the dataset"""
    num_levels: int | None = 256
    """grey levels of the digits; filled from the dataset (edge maps have 2)"""
    direction: str = "edges_to_digits"
    """edges_to_digits (A = edge maps, B = digits) | digits_to_edges"""
    edge_threshold: float = 1.0
    """Sobel magnitude threshold of the edge maps"""
    num_scales: int = 2
    num_steps: int = 4
    """flow steps per level, in each flow"""
    hidden: int = 32
    lu: bool = True
    coupling: str = "affine"
    learned_prior: bool = True
    seed: int = 0
    sample_temperature: float = 0.8
    """temperature of `sample` when none is given"""

    @classmethod
    def tiny(cls) -> CFlowConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(data_shape=(1, 8, 8), num_steps=1, hidden=8)


@register("cflow", CFlowConfig, default_dataset="mnist", family="flows", runner="trainer")
class CFlow(nn.Module):
    def __init__(self, cfg: CFlowConfig):
        super().__init__()
        if len(cfg.data_shape) != 3 or cfg.num_levels is None:
            raise UserError(f"cflow models discrete images (C, H, W), got {cfg.data_shape}")
        if cfg.direction not in ("edges_to_digits", "digits_to_edges"):
            raise UserError(f"direction must be edges_to_digits or digits_to_edges, "
                            f"got {cfg.direction!r}")
        self.cfg = cfg
        self.data_shape = tuple(cfg.data_shape)
        self.flow_a, shapes = glow_levels(cfg)
        self.flow_b, _ = glow_levels(cfg, cond_channels=[s[0] for s in shapes])
        num_dims = cfg.data_shape[0] * cfg.data_shape[1] * cfg.data_shape[2]
        self.base = StandardNormal((num_dims,))
        edges_first = cfg.direction == "edges_to_digits"
        self.levels_a = 2 if edges_first else cfg.num_levels
        self.levels_b = cfg.num_levels if edges_first else 2
        self.deq_a = UniformDequantization(self.levels_a)
        self.deq_b = UniformDequantization(self.levels_b)

    def check_data(self, info) -> None:
        if tuple(info.data_shape) != self.data_shape or info.num_levels != self.cfg.num_levels:
            raise UserError(f"this cflow was built for {self.data_shape} images with "
                            f"{self.cfg.num_levels} levels, not {info.name}")

    def pair(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Digits (B, C, H, W) -> (x_A, x_B) integer levels in the configured direction."""
        edges = edge_map(x, self.cfg.num_levels, self.cfg.edge_threshold)
        return (edges, x) if self.cfg.direction == "edges_to_digits" else (x, edges)

    def _dtype(self):
        return next(self.parameters()).dtype

    # -- the two flows on continuous y in [0, 1] ------------------------------------------
    def encode_a(self, y_a: torch.Tensor):
        """y_A -> (z_A, log-det, [h_A per level]): the conditioning features for flow B."""
        return self.flow_a.forward_levels(y_a - 0.5)

    def conditional_flow(self) -> nn.Module:
        """f_B(. | x_A) as a layer with cond = y_A (continuous): the round-trip property."""
        return _GivenA(self)

    def log_prob_pair(self, x_a, x_b) -> tuple[torch.Tensor, torch.Tensor]:
        """(log P_A(x_A), log P_B(x_B | x_A)), dequantized bounds in nats, each (B,)."""
        dtype = self._dtype()
        y_a, lw_a = self.deq_a(x_a, dtype=dtype)
        z_a, ld_a, h_a = self.encode_a(y_a)
        lp_a = self.base.log_prob(z_a) + ld_a + lw_a
        y_b, lw_b = self.deq_b(x_b, dtype=dtype)
        z_b, ld_b = self.flow_b(y_b - 0.5, h_a)
        return lp_a, self.base.log_prob(z_b) + ld_b + lw_b

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None) -> torch.Tensor:
        """log P_A(x_A) + log P_B(x_B | x_A) of the pair made from digits x, nats (B,); with
        `cond` = domain-A images, log P_B(x | cond) of domain-B images x (what `sample(n,
        cond=...)` draws from)."""
        if cond is not None:
            return self.log_prob_pair(cond, x)[1]
        lp_a, lp_b = self.log_prob_pair(*self.pair(x))
        return lp_a + lp_b

    def loss(self, batch) -> LossOutput:
        x, _ = batch
        lp_a, lp_b = self.log_prob_pair(*self.pair(x))
        nll = -(lp_a + lp_b).mean()
        d = x[0].numel() * 0.6931471805599453
        return LossOutput(nll, {"nll_nats": nll.detach(),
                                "bits_per_dim_a": -lp_a.detach().mean() / d,
                                "bits_per_dim_b_given_a": -lp_b.detach().mean() / d})

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        """The two terms of the pair's bound, in bits/dim: A alone, B given A."""
        d = x[0].numel() * 0.6931471805599453
        a, b = [], []
        for i in range(0, len(x), 500):
            lp_a, lp_b = self.log_prob_pair(*self.pair(x[i : i + 500]))
            a.append(lp_a)
            b.append(lp_b)
        return {"bits_per_dim_a": float(-torch.cat(a).mean() / d),
                "bits_per_dim_b_given_a": float(-torch.cat(b).mean() / d)}

    @torch.no_grad()
    def initialize(self, batch) -> None:
        """ActNorm data-dependent initialisation in both flows."""
        for m in self.modules():
            if isinstance(m, ActNorm):
                m.init_pending = True
        self.log_prob(batch[0])
        for m in self.modules():
            if isinstance(m, ActNorm):
                m.init_pending = False

    # -- generation -----------------------------------------------------------------------
    def _decode(self, z, flow, levels, cond=None):
        y, _ = flow.inverse(z, cond)
        return torch.floor((y + 0.5) * levels).clamp(0, levels - 1)

    @torch.no_grad()
    def translate(self, x_a: torch.Tensor, *, generator=None,
                  temperature: float | None = None) -> torch.Tensor:
        """Cross-domain generation: domain-B images (B, C, H, W) for domain-A images x_A."""
        t = self.cfg.sample_temperature if temperature is None else temperature
        y_a = (x_a.to(self._dtype()) + 0.5) / self.levels_a  # bin centres: deterministic
        _, _, h_a = self.encode_a(y_a)
        z_b = self.base.sample(len(x_a), temperature=t, generator=generator)
        return self._decode(z_b, self.flow_b, self.levels_b, h_a)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None,
               temperature: float | None = None) -> torch.Tensor:
        """With cond = domain-A images: domain-B images for them (A -> B). Without: digits
        from the joint model (x_A ~ flow A, then x_B | x_A; the digit member of the pair)."""
        if cond is not None:
            return self.translate(cond, generator=generator, temperature=temperature)
        t = self.cfg.sample_temperature if temperature is None else temperature
        z_a = self.base.sample(num_samples, temperature=t, generator=generator)
        x_a = self._decode(z_a, self.flow_a, self.levels_a)
        if self.cfg.direction == "digits_to_edges":
            return x_a
        return self.translate(x_a, generator=generator, temperature=t)


def foreground(x: torch.Tensor, num_levels: int) -> torch.Tensor:
    """The stroke pixels of images in integer levels: level >= (L - 1) / 2 (a binary edge map's
    ones; a 256-level digit's pixels from 128 up), bool of the same shape."""
    return x.float() >= (num_levels - 1) / 2


def stroke_iou(pred: torch.Tensor, target: torch.Tensor, num_levels: int) -> torch.Tensor:
    """Per-image IoU of the foreground pixels, |P & T| / |P | T|, (B,) float; 1 where both
    are blank (nothing to draw, nothing drawn)."""
    return mask_iou(foreground(pred, num_levels), foreground(target, num_levels)).float()


@torch.no_grad()
def nearest_pair_translation(query_a: torch.Tensor, train_a: torch.Tensor,
                             train_b: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """The nearest-neighbour baseline of a paired translation: for each domain-A image of
    `query_a`, the domain-B half of the training pair whose A half is nearest in Euclidean
    distance (ties: the first such pair). Inputs in integer levels, (N, C, H, W)."""
    if len(train_a) != len(train_b) or len(train_a) == 0:
        raise UserError(f"need as many training inputs as targets (at least one), got "
                        f"{len(train_a)} and {len(train_b)}")
    if query_a.shape[1:] != train_a.shape[1:]:
        raise UserError(f"query images {tuple(query_a.shape[1:])} do not match the training "
                        f"pairs' {tuple(train_a.shape[1:])}")
    # float64: ||k||^2 - 2 q.k is exact for integer levels (float32 rounds above 2^24)
    keys = train_a.flatten(1).double()
    key_norms = keys.pow(2).sum(1)
    picks = []
    for i in range(0, len(query_a), chunk):
        q = query_a[i : i + chunk].flatten(1).double()
        # ||q - k||^2 less ||q||^2, which does not change the argmin over k
        picks.append((key_norms[None, :] - 2 * q @ keys.T).argmin(1))
    return train_b[torch.cat(picks)]


@torch.no_grad()
def translation_scores(pred: torch.Tensor, target: torch.Tensor, levels_b: int, *,
                       input_a: torch.Tensor | None = None, labels: torch.Tensor | None = None,
                       classify=None, edge_threshold: float = 1.0) -> dict[str, float]:
    """Scores of domain-B predictions against the targets of the same pairs (integer levels):
    pixel agreement, stroke IoU (mean per image); for digits (levels_b > 2) with `input_a`
    (the edge maps translated): the predicted digit's edge map against the input, as
    agreement and IoU; with `labels` and `classify` (images -> logits): the classifier's
    accuracy on the predictions."""
    out = {"pixel_accuracy": float((pred == target).float().mean()),
           "stroke_iou": float(stroke_iou(pred, target, levels_b).mean())}
    if levels_b > 2 and input_a is not None:
        edges = edge_map(pred.to(torch.uint8), levels_b, edge_threshold)
        out["edge_consistency"] = float((edges == input_a).float().mean())
        out["edge_iou"] = float(stroke_iou(edges, input_a, 2).mean())
    if labels is not None and classify is not None:
        out["class_accuracy"] = float((classify(pred.float()).argmax(1) == labels).float().mean())
    return out


class _GivenA(nn.Module):
    def __init__(self, model: CFlow):
        super().__init__()
        self.model = model

    def forward(self, y_b, cond=None):
        _, _, h_a = self.model.encode_a(cond)
        return self.model.flow_b(y_b - 0.5, h_a)

    def inverse(self, z_b, cond=None):
        _, _, h_a = self.model.encode_a(cond)
        y, ld = self.model.flow_b.inverse(z_b, h_a)
        return y + 0.5, ld
