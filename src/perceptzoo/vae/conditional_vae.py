"""The conditional VAE (Sohn, Lee & Yan, NeurIPS 2015) and the semi-supervised M2 model
(Kingma, Rezende, Mohamed & Welling, NeurIPS 2014). Builds on the shared `perceptzoo.vae.vae`.

CVAE: the label y (`cond=`) enters both networks, q(z | x, y) and p(x | y, z), and the bound is
the VAE's with everything conditioned on y (Sohn et al. eq. 4):

    log p(x | y) >= E_q(z|x,y)[log p(x | y, z)] - KL(q(z | x, y) || N(0, I)).

Nothing in that bound stops z from carrying the class too (it costs at most log C nats of KL),
and on MNIST's 256 levels it did: with y only beside z at the decoder's input and 20 latents,
samples were their asked-for class 20 % of the time. Three changes make the label count: y
joins the input of every decoder layer (`label_every_layer`), z is small (8), and Sohn et al.'s
hybrid objective (eq. 9) adds the GSNN term, the decoder's log-likelihood of x given y with z
drawn from the prior instead of the encoder (eq. 7, one sample),

    L_hybrid = alpha ELBO + (1 - alpha) log p(x | y, z),  z ~ p(z),    gsnn_weight = 1 - alpha,

which the decoder can only raise by reading the class from y (recipe cvae-mnist: 90.0 % of
decoder-mean samples are their class, 77 % of test images re-decoded under another label take
that label, against 20 % and 4 % before). `sample(n, cond=labels)` draws
digits of the given classes; without `cond`, log_prob is the marginal log sum_y p(y) p(x | y)
under a uniform p(y), each p(x | y) by the IWAE bound (a bound on the CVAE's likelihood however
it was trained).

M2 (Kingma et al. 2014, section 3.1.2): p(x, y, z) = p(y) p(z) p(x | y, z), with a classifier
q(y | x) and an encoder q(z | x, y). A labelled pair contributes (eq. 6)

    -L(x, y) = -E_q(z|x,y)[log p(x | y, z) + log p(y) + log p(z) - log q(z | x, y)],

an unlabelled x sums over the classes it could be (eq. 7),

    -U(x) = sum_y q(y | x) (-L(x, y)) - H(q(y | x)),

and the classifier also learns from the labels directly (eq. 9):
J^alpha = sum_l -L + sum_u -U + alpha E_l[-log q(y | x)] with alpha = 0.1 N (their code scales
the classification term of each labelled example by 0.1 N / N_l). Per training batch of
unlabelled data that is the mean -U, plus N_l / N_u times the mean -L over the labelled set,
plus alpha N / N_u times its mean classification loss (config `alpha` is alpha / N = 0.1). Every
step uses all labelled examples, so they are seen far more often than in one pass over the data;
`label_oversampling` r multiplies both labelled terms (r = 1: J^alpha exactly; r = N_u / N_l:
each labelled example weighs as much as each unlabelled one, which over-fits the classifier to
the labels before the generative model can teach it: 25.8 % error at r = 500 and 1,200 steps,
no better than the labels alone). The labelled examples (`num_labels`, balanced over the
classes, chosen with `label_seed`) are drawn from the training split when the run checks its
data (`check_data`) and kept in the model's buffers, so a run's weights carry the labels it
used; each training batch of the Trainer is used as unlabelled data (its labels are never read).
The decoder takes y at every layer, as the CVAE's does.

Hidden units are softplus, as in Kingma et al. (section 4; ReLU before, `activation="relu"`);
the encoder's first layer is applied as (W_x x + b) + W_y y so the ten classes of U(x) share
one pass of x (the same q(z | x, y), ~25 % less CPU per step).

Measured (recipe m2-mnist-100labels, r = 60, 2,000 steps, 527 s on a shared CPU thread,
192 s CPU): 21.5 % test error with 100 labels against 24.7 % for the same classifier network
on the labels alone (one seed each; ReLU before: 23.3 % against 24.5 %); Kingma et al.
report 11.97 % trained to convergence (their released code runs 3,000 passes for M1+M2). No
defect was found in the objective (eqs. 6-9, checked term by term, with its gradients); the
gap is most likely training length: U(x) pulls q(y|x) toward the generative posterior
p(y | x) ~ exp(-L(x, y)), and after 2,000 steps the generative model's own argmax_y classifier
is still 60 % wrong (52-56 % after 1,000 steps on a 10k subset), far worse than q(y|x), so it
has little to teach q yet. At r = 1 (the paper's weighting) the classifier learned far more
slowly (46 % on 2,000 test images after 600 steps); r = 10 with 16 latents got worse with
training (39 % at 600 steps).

    >>> import perceptzoo, torch
    >>> cvae = perceptzoo.build("cvae", data_shape=(1, 8, 8), num_levels=2, num_classes=10)
    >>> cvae.sample(4, cond=torch.tensor([0, 1, 2, 3])).shape
    torch.Size([4, 1, 8, 8])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError
from perceptzoo.nn.mlp import mlp
from perceptzoo.vae.vae import ACTIVATIONS, VAE, VAEConfig, check_num_samples, gaussian_kl


def one_hot(cond: torch.Tensor, num_classes: int, dtype: torch.dtype) -> torch.Tensor:
    """Integer labels (...) -> one-hot (..., C); one-hot input is returned as is."""
    if cond.is_floating_point() and cond.shape[-1:] == (num_classes,):
        return cond.to(dtype)
    cond = cond.long()
    if cond.numel() and (cond.min() < 0 or cond.max() >= num_classes):
        raise UserError(f"labels must lie in 0..{num_classes - 1}, got {cond.min().item()}.."
                        f"{cond.max().item()}")
    return F.one_hot(cond, num_classes).to(dtype)


class LabelledMLP(nn.Module):
    """An MLP whose every layer sees the one-hot label beside its input (Kingma et al. 2014's
    p(x | y, z) made hard to ignore): input (..., n + C), the last C features being the label;
    layer i computes W_i [h_{i-1}, y] + b_i. Indexable like `nn.Sequential` for its linears."""

    def __init__(self, sizes: list[int], activation: type[nn.Module], num_classes: int):
        super().__init__()
        self.num_classes = num_classes
        self.linears = nn.ModuleList(nn.Linear(a + num_classes, b)
                                     for a, b in zip(sizes[:-1], sizes[1:]))
        self.act = activation()

    def __getitem__(self, i: int) -> nn.Linear:
        return self.linears[i]

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        h, c = h[..., : -self.num_classes], h[..., -self.num_classes :]
        for i, linear in enumerate(self.linears):
            h = linear(torch.cat([h, c], -1))
            if i < len(self.linears) - 1:
                h = self.act(h)
        return h


@dataclass
class CVAEConfig(VAEConfig):
    num_classes: int = 10
    """labels y can take; filled from the dataset"""
    hidden_sizes: tuple[int, ...] = (500, 500)
    activation: str = "relu"
    latent_dim: int = 8
    """small, so that z has room for the style and not also for the class"""
    label_every_layer: bool = True
    """feed y to every decoder layer (False: only beside z at the decoder's input)"""
    gsnn_weight: float = 0.0
    """1 - alpha of Sohn et al.'s hybrid objective (eq. 9): the weight of the GSNN term
    log p(x | y, z) with z drawn from the prior instead of the encoder (0: the plain CVAE)"""
    num_eval_samples: int = 10
    """importance samples per class of the marginal log_prob (10 classes: 10 x k decodes)"""

    @classmethod
    def tiny(cls) -> CVAEConfig:
        return cls(latent_dim=4, hidden_sizes=(16,), num_eval_samples=2)


@register("cvae", CVAEConfig, default_dataset="mnist", family="vae", runner="trainer",
          train_defaults={"lr": 1e-3, "batch_size": 100})
class CVAE(VAE):
    def __init__(self, cfg: CVAEConfig):
        super().__init__(cfg)
        if cfg.label_every_layer:
            per_dim = 1 if self.decoder_kind == "bernoulli" else 2
            self.decoder = LabelledMLP([cfg.latent_dim, *cfg.hidden_sizes,
                                        per_dim * self.num_dims],
                                       ACTIVATIONS[cfg.activation], cfg.num_classes)

    def cond_features(self, cfg: CVAEConfig) -> int:
        return cfg.num_classes

    def loss(self, batch) -> LossOutput:
        """-(alpha ELBO + (1 - alpha) L_GSNN), Sohn et al. eq. 9, with 1 - alpha = gsnn_weight and
        L_GSNN = log p(x | y, z), z ~ p(z) (eq. 7 with one sample)."""
        out = super().loss(batch)
        w = self.cfg.gsnn_weight
        if w == 0:
            return out
        x, y = batch
        z = self.prior((len(x),)).sample()
        gsnn = self.decode(z, y).log_prob(self.targets(x)).mean()
        loss = (1 - w) * out.loss - w * gsnn
        return LossOutput(loss, {**out.metrics, "gsnn_nats": -gsnn.item()})

    def log_likelihood(self, x: torch.Tensor, z: torch.Tensor,
                       cond: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | y, z) for latents z (k, B, J): (k, B)."""
        if not self.cfg.label_every_layer:
            return super().log_likelihood(x, z, cond)
        return self.decode(z, cond).log_prob(self.targets(x).expand(z.shape[0], -1, -1))

    def check_data(self, info) -> None:
        if not info.num_classes:
            raise UserError(f"the conditional VAE needs labels, and {info.name} has none; "
                            "train it on mnist, fashion_mnist or digits")
        super().check_data(info)

    def _with_cond(self, h: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cond is None:
            raise UserError("the conditional VAE needs cond= labels (B,) or one-hot (B, C)")
        c = one_hot(cond, self.cfg.num_classes, h.dtype)
        return torch.cat([h, c.expand(*h.shape[:-1], c.shape[-1])], -1)

    def cond_of(self, y: torch.Tensor | None) -> torch.Tensor:
        if y is None:
            raise UserError("the conditional VAE trains on labelled data; this batch has none")
        return y

    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 k: int | None = None) -> torch.Tensor:
        """log p(x | y) by IWAE-k given labels, else log (1/C) sum_y p(x | y): (B,) nats."""
        if cond is not None:
            return super().log_prob(x, cond=cond, k=k)
        C = self.cfg.num_classes
        per_class = torch.stack([
            super(CVAE, self).log_prob(x, cond=torch.full((len(x),), c, device=x.device), k=k)
            for c in range(C)])
        return torch.logsumexp(per_class, 0) - math.log(C)

    @torch.no_grad()
    def extra_metrics(self, x: torch.Tensor) -> dict[str, float]:
        return {}  # the ELBO needs labels; `perceptzoo eval` reports the marginal NLL

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, mean: bool = False) -> torch.Tensor:
        """Images of the classes `cond` (B,) (default: 0, 1, ..., C-1, 0, 1, ... in turn)."""
        if cond is None:
            cond = torch.arange(num_samples, device=self.encoder[0].weight.device) \
                % self.cfg.num_classes
        if len(cond) != num_samples:
            raise UserError(f"cond has {len(cond)} labels for {num_samples} samples")
        return super().sample(num_samples, cond=cond, generator=generator, mean=mean)


M2_ACTIVATIONS: dict[str, type[nn.Module]] = {"softplus": nn.Softplus, "relu": nn.ReLU}


@dataclass
class M2Config:
    data_shape: tuple[int, ...] = (1, 28, 28)
    """per-example shape; filled from the dataset"""
    num_levels: int | None = 256
    """levels of the data; filled from the dataset (pixels scaled to [0, 1], Bernoulli)"""
    num_classes: int = 10
    """filled from the dataset"""
    latent_dim: int = 50
    """z (Kingma et al.: 50)"""
    hidden_size: int = 500
    """one hidden layer per network (Kingma et al.: 500)"""
    num_labels: int = 100
    """labelled training examples, balanced over the classes"""
    label_seed: int = 0
    alpha: float = 0.1
    """Kingma et al.'s alpha / N (they use alpha = 0.1 N): the weight of the mean
    classification loss against the mean unlabelled bound (see `loss`)"""
    label_oversampling: float = 1.0
    """r: how much more often than in one pass over the data the labelled examples are seen
    (each step uses all of them). 1: Kingma et al.'s J^alpha exactly; N_u / N_l: every labelled
    example weighs as much as each unlabelled example of a batch (their code's balance)"""
    label_every_layer: bool = True
    """feed y to every decoder layer (False: only beside z at the decoder's input)"""
    activation: str = "softplus"
    """hidden units of all three networks: "softplus" (Kingma et al. 2014, section 4) or
    "relu" (what this model used before: see the module docstring)"""
    num_eval_samples: int = 10
    """importance samples per class in log_prob"""

    @classmethod
    def tiny(cls) -> M2Config:
        return cls(latent_dim=4, hidden_size=16, num_labels=10, num_eval_samples=2)


@register("m2", M2Config, default_dataset="mnist", family="vae", runner="trainer",
          train_defaults={"lr": 3e-4, "batch_size": 100})
class M2(nn.Module):
    def __init__(self, cfg: M2Config):
        super().__init__()
        self.cfg = cfg
        if cfg.num_labels < cfg.num_classes or cfg.num_labels % cfg.num_classes:
            raise UserError(f"num_labels must be a positive multiple of the {cfg.num_classes} "
                            f"classes (balanced labels), got {cfg.num_labels}")
        if cfg.alpha < 0:
            raise UserError(f"alpha must be >= 0, got {cfg.alpha}")
        if cfg.label_oversampling <= 0:
            raise UserError(f"label_oversampling must be > 0, got {cfg.label_oversampling}")
        check_num_samples(cfg.num_eval_samples, "num_eval_samples")
        if cfg.activation not in M2_ACTIVATIONS:
            raise UserError(f"M2 activation must be one of {sorted(M2_ACTIVATIONS)}, "
                            f"got {cfg.activation!r}")
        D, C, J, H = math.prod(cfg.data_shape), cfg.num_classes, cfg.latent_dim, cfg.hidden_size
        act = M2_ACTIVATIONS[cfg.activation]
        self.classifier = mlp([D, H, C], act)  # q(y | x)
        self.encoder = mlp([D + C, H, 2 * J], act)  # q(z | x, y)
        if cfg.label_every_layer:  # p(x | y, z), Bernoulli logits
            self.decoder = LabelledMLP([J, H, D], act, C)
        else:
            self.decoder = mlp([J + C, H, D], act)
        self.register_buffer("labeled_x", torch.zeros(cfg.num_labels, *cfg.data_shape,
                                                      dtype=torch.uint8))
        self.register_buffer("labeled_y", torch.zeros(cfg.num_labels, dtype=torch.long))
        self.register_buffer("has_labels", torch.zeros((), dtype=torch.bool))
        self.register_buffer("num_train", torch.tensor(0, dtype=torch.long))

    # -- the labelled subset -----------------------------------------------------------
    def check_data(self, info) -> None:
        """Refuse unlabelled data; draw the balanced labelled subset (first run only)."""
        if not info.num_classes:
            raise UserError(f"M2 needs a labelled dataset to pick its {self.cfg.num_labels} "
                            f"labels from; {info.name} has none")
        if self.has_labels:
            return
        self.num_train.fill_(info.split_sizes.get("train", 0))
        from perceptzoo import data

        train = data.load(info.name, "train")
        g = torch.Generator().manual_seed(self.cfg.label_seed)
        per_class = self.cfg.num_labels // self.cfg.num_classes
        picks = []
        for c in range(self.cfg.num_classes):
            idx = torch.nonzero(train.y == c).flatten()
            picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
        index = torch.cat(picks)
        self.set_labeled(train.x[index], train.y[index])

    @torch.no_grad()
    def set_labeled(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Use (x, y) as the labelled set (num_labels examples)."""
        if len(x) != self.cfg.num_labels:
            raise UserError(f"M2 was built for {self.cfg.num_labels} labels, got {len(x)}")
        self.labeled_x.copy_(x.to(torch.uint8))
        self.labeled_y.copy_(y.long())
        self.has_labels.fill_(True)

    # -- the model -------------------------------------------------------------------------
    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], -1).to(self.encoder[0].weight.dtype)
        return x if self.cfg.num_levels is None else x / (self.cfg.num_levels - 1)

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """log q(y | x), (B, C)."""
        return F.log_softmax(self.classifier(self.inputs(x)), -1)

    def encode(self, v: torch.Tensor, y_onehot: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """q(z | x, y): (mu, logvar), each (..., J), for v (..., D) and y (..., C) of
        broadcastable leading shapes. The first layer W [x, y] + b is computed as
        (W_x x + b) + W_y y, so x's part, the costly one, is computed once per image and not
        once per class (the sum over classes of U(x) needs all ten)."""
        first, D = self.encoder[0], v.shape[-1]
        h = F.linear(v, first.weight[:, :D], first.bias) + F.linear(y_onehot,
                                                                    first.weight[:, D:])
        return self.encoder[2:](self.encoder[1](h)).chunk(2, -1)

    def labeled_bound(self, v: torch.Tensor, y_onehot: torch.Tensor,
                      k: int = 1) -> torch.Tensor:
        """-L(x, y) (eq. 6), the bound on log p(x, y), by k importance samples (k=1: the ELBO
        with analytic KL). v: pixels in [0, 1] (..., D); y_onehot (..., C), leading shapes
        broadcastable (v (B, 1, D) with y (1, C, C) scores every class: (B, C))."""
        mu, logvar = self.encode(v, y_onehot)
        y_onehot = y_onehot.expand(*mu.shape[:-1], -1)
        log_py = -math.log(self.cfg.num_classes)
        if k == 1:
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp()
            logits = self.decoder(torch.cat([z, y_onehot], -1))
            rec = -F.binary_cross_entropy_with_logits(logits, v.expand_as(logits),
                                                      reduction="none").sum(-1)
            return rec + log_py - gaussian_kl(mu, logvar)
        std = (0.5 * logvar).exp()
        eps = torch.randn(k, *mu.shape, device=mu.device, dtype=mu.dtype)
        z = mu + eps * std
        logits = self.decoder(torch.cat([z, y_onehot.expand(k, *y_onehot.shape)], -1))
        rec = -F.binary_cross_entropy_with_logits(logits, v.expand_as(logits),
                                                  reduction="none").sum(-1)
        log_pz = -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(-1)
        log_qz = -0.5 * (eps.pow(2) + math.log(2 * math.pi) + logvar).sum(-1)
        return torch.logsumexp(rec + log_pz - log_qz, 0) - math.log(k) + log_py

    def unlabeled_loss(self, v: torch.Tensor) -> torch.Tensor:
        """U(x) per example, the loss of an unlabelled x (eq. 7 gives its negation, the bound
        -U = sum_y q(y|x)(-L(x, y)) + H(q(y|x))): (B,). Gradients reach q(y|x) through the
        weights q and the entropy, and the encoder and decoder through each class's bound."""
        log_q = F.log_softmax(self.classifier(v), -1)  # (B, C)
        eye = torch.eye(self.cfg.num_classes, dtype=v.dtype, device=v.device)
        bounds = self.labeled_bound(v[:, None, :], eye[None])  # (B, C)
        q = log_q.exp()
        return -(q * bounds).sum(-1) + (q * log_q).sum(-1)

    def loss(self, batch) -> LossOutput:
        if not self.has_labels:
            raise UserError("M2 has no labelled examples yet: train it through the runner "
                            "(which calls check_data) or call set_labeled(x, y)")
        x, _ = batch  # the batch is unlabelled data: its labels are never read
        unlabeled = self.unlabeled_loss(self.inputs(x)).mean()
        v_l = self.inputs(self.labeled_x)
        y_l = F.one_hot(self.labeled_y, self.cfg.num_classes).to(v_l.dtype)
        labeled = -self.labeled_bound(v_l, y_l).mean()
        log_q = F.log_softmax(self.classifier(v_l), -1)
        classification = F.nll_loss(log_q, self.labeled_y)
        # J^alpha / N_u with J summed over the data set: each labelled example weighs as much
        # as an unlabelled one in the bound, and alpha N E_l[-log q] becomes alpha N / N_u
        n_l, n = self.cfg.num_labels, max(int(self.num_train), self.cfg.num_labels + 1)
        n_u = n - n_l
        r = self.cfg.label_oversampling
        loss = unlabeled + r * (n_l / n_u) * labeled \
            + r * self.cfg.alpha * (n / n_u) * classification
        accuracy = (log_q.argmax(-1) == self.labeled_y).float().mean()
        return LossOutput(loss, {"unlabeled_nats": unlabeled.item(),
                                 "labeled_nats": labeled.item(),
                                 "classification": classification.item(),
                                 "labeled_accuracy": accuracy.item()})

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, *, cond: torch.Tensor | None = None,
                 k: int | None = None) -> torch.Tensor:
        """log p(x | y) (given `cond`) or log sum_y p(y) p(x | y), each by IWAE-k: (B,) nats.
        Pixels are scored as Bernoulli probabilities of their [0, 1] values (exact on binary
        data; a continuous relaxation on grey levels)."""
        k = check_num_samples(self.cfg.num_eval_samples if k is None else k)
        v, C = self.inputs(x), self.cfg.num_classes
        if cond is not None:
            return self.labeled_bound(v, one_hot(cond, C, v.dtype), k) + math.log(C)
        per_class = torch.stack([
            self.labeled_bound(v, F.one_hot(torch.full((len(v),), c, device=v.device), C)
                               .to(v.dtype), k) for c in range(C)])
        return torch.logsumexp(per_class, 0)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Bernoulli means p(x | y, z) in data units for classes `cond` (default 0, 1, ...)."""
        w = self.decoder[0].weight
        if cond is None:
            cond = torch.arange(num_samples, device=w.device) % self.cfg.num_classes
        z = torch.randn(num_samples, self.cfg.latent_dim, generator=generator, device=w.device,
                        dtype=w.dtype)
        y = one_hot(cond, self.cfg.num_classes, w.dtype)
        probs = torch.sigmoid(self.decoder(torch.cat([z, y], -1)))
        scale = 1 if self.cfg.num_levels is None else self.cfg.num_levels - 1
        return (probs * scale).round().reshape(num_samples, *self.cfg.data_shape)
