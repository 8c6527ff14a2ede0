"""Occupancy Networks (Mescheder et al., CVPR 2019).

A shape is the decision boundary of a classifier: f_theta(p, c) in [0, 1] is the probability
that point p is inside the shape whose observation (a point cloud or one image) an encoder
turned into the code c = g_psi(observation). Trained on points p_ij sampled in the box with
their true occupancies o_ij by binary cross-entropy (eq. 2):

    L(theta, psi) = sum_i sum_j BCE(f_theta(p_ij, g_psi(x_i)), o_ij)

The surface is the level set f = tau (tau = 0.2 in the paper, sec. 4: "threshold"), extracted
here by marching cubes on the logits at logit(tau) (the paper's MISE refinement is replaced
by one dense grid). Encoders, as in the paper's experiments: a PointNet (Qi et al. 2017) for
point clouds (the reference code's SimplePointnet: per-point MLPs with max-pooled features
concatenated back, then a max pool; 300 noisy input points, sigma = 0.005) and a small CNN for
single-view images (the paper uses an ImageNet ResNet-18; here a 4-layer CNN trained from
scratch, on 64x64 renders).

Frames. ShapeNet objects share a canonical pose, so the paper's image encoder can predict the
object-frame shape from a view and the category prior supplies the viewpoint. Our primitives
have random rotations and a view comes from a random direction, so the object-frame shape is
ambiguous from one view (a torus seen edge-on could lie in any plane through the camera axis):
trained that way the model fits worse than the mean training shape. The image model therefore
works viewer-centred (Shin et al. 2018, "Pixels, voxels, and views"): the decoder sees every
query point in the camera's frame, p_view = R^T p with R the camera-to-world rotation, and a
reconstruction maps back to the world by the known camera (`field_for(image, rotation)`).

The decoder (`decoder="cbn"`, the paper's: sec. 3 and the supplement's architecture, the authors'
DecoderCBatchNorm) projects p by a linear layer to 256 channels, then runs 5 fully connected
ResNet blocks whose normalisations are Conditional Batch Norms: the code c predicts the
per-channel scale and shift of every batch norm,

    CBN(h, c) = gamma(c) * (h - mu) / sqrt(sigma^2 + eps) + beta(c),

then a last CBN, ReLU and a linear layer give the logit. Batch statistics mu, sigma are
taken over all points of all shapes of a batch in training; in eval mode the running
averages replace them, so the field is a fixed function of p and can be evaluated in chunks
(`field_for` always evaluates that way). As in the authors' code, gamma and beta start at
1 and 0 (their projections of c are zero-initialised) and each block's last layer is zero, so
the decoder starts as a function of p alone. `decoder="concat"` keeps the simpler
conditioning: an MLP on [p, c] with c re-injected (DeepSDF-style, `ImplicitMLP`); on this
benchmark it learns little more than a mean shape (see benchmarks/implicit_shapes.py).
Training points: the paper samples uniformly in the padded box; `near_fraction` adds points
near the surface.

Trained through the runner (`perceptzoo train occupancy_network --dataset shapes`): the
Trainer's `batch_size` is shapes per step (each with `points_per_shape` labelled points),
its `lr` Adam's rate, halved at 50 % and 75 %. Evaluation encodes a new observation of each
shape (a new noisy cloud, or a new view).

    >>> from perceptzoo.data.shapes import shape_collection
    >>> shapes = shape_collection("shapes:2", "train")
    >>> model = OccupancyNetwork(OccupancyConfig(hidden=64, blocks=2, samples_per_shape=1000))
    >>> data = model.make_dataset(shapes)
    >>> model.loss(model.batch(data, torch.Generator().manual_seed(0), 2)).loss.shape
    torch.Size([])
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.contracts import LossOutput
from perceptzoo.core.registry import register
from perceptzoo.data.shapes import Shape, sample_sdf
from perceptzoo.errors import UserError
from perceptzoo.implicit.cameras import orbit_cameras, render_view
from perceptzoo.implicit.common import EvalSettings, Field, ImplicitField
from perceptzoo.implicit.decoders import DecoderConfig, ImplicitMLP


@dataclass
class OccupancyConfig:
    encoder: str = "pointcloud"
    """pointcloud (PointNet over noisy surface points) or image (CNN over one rendered view)"""
    decoder: str = "cbn"
    """cbn (the paper's ResNet blocks with conditional batch norm) or concat (an MLP on [p, c])"""
    code_dim: int = 128
    encoder_hidden: int = 128
    hidden: int = 256
    blocks: int = 5
    """cbn: fully connected ResNet blocks"""
    layers: int = 5
    """concat: linear layers of the MLP"""
    skip_layers: tuple[int, ...] = (3,)
    """concat: layers where [p, c] is re-injected"""
    fourier_levels: int = 0
    """concat: Fourier features of p"""
    input_points: int = 300
    input_noise: float = 0.005
    image_size: int = 64
    views_per_shape: int = 6
    threshold: float = 0.2
    """occupancy probability tau of the surface"""
    near_fraction: float = 0.5
    """fraction of training points near the surface (0: the paper's uniform sampling)"""
    points_per_shape: int = 1024
    """labelled points per shape in a batch"""
    samples_per_shape: int = 20_000
    """labelled points stored per shape, from which batches draw"""
    full_eval: bool = False
    """evaluate with the benchmark protocol (implicit.common.FULL) instead of the quick one"""

    @classmethod
    def tiny(cls) -> OccupancyConfig:
        return cls(hidden=32, blocks=1, code_dim=8, encoder_hidden=8, points_per_shape=64,
                   samples_per_shape=1000)


def he_init(module: nn.Module) -> None:
    """He (Kaiming) normal weights, zero biases, for every linear/conv layer of an encoder.

    PyTorch's default init shrinks the signal by about sqrt(6) per ReLU layer while its
    biases add constants, so through the PointNet's five layers and max pools the codes of a
    sphere and a thin box differ by under 1 % at initialisation: the decoder first learns
    one mean shape and the code takes hundreds of steps to matter. He init keeps the
    difference near 25 %."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.zeros_(m.bias)


class PointNetEncoder(nn.Module):
    """Point cloud (B, T, 3) -> code (B, C): ONet's SimplePointnet."""

    def __init__(self, code_dim: int, hidden: int):
        super().__init__()
        self.fc_pos = nn.Linear(3, 2 * hidden)
        self.fcs = nn.ModuleList([nn.Linear(2 * hidden, hidden) for _ in range(4)])
        self.fc_c = nn.Linear(hidden, code_dim)
        he_init(self)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        h = self.fc_pos(points)  # (B, T, 2h)
        for i, fc in enumerate(self.fcs):
            h = fc(F.relu(h))  # (B, T, h)
            if i < len(self.fcs) - 1:
                pooled = h.max(dim=1, keepdim=True).values.expand_as(h)
                h = torch.cat([h, pooled], -1)  # (B, T, 2h)
        return self.fc_c(F.relu(h.max(dim=1).values))  # (B, C)


class ImageEncoder(nn.Module):
    """Image (B, 3, H, W) in [0, 1] -> code (B, C): four stride-2 convolutions, mean pool."""

    def __init__(self, code_dim: int, hidden: int):
        super().__init__()
        w = [3, hidden // 4, hidden // 2, hidden, hidden]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 4, stride=2, padding=1)
                                   for a, b in zip(w[:-1], w[1:]))
        self.fc = nn.Linear(hidden, code_dim)
        he_init(self)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        h = images * 2 - 1
        for conv in self.convs:
            h = F.relu(conv(h))  # (B, c, H/2^k, W/2^k)
        return self.fc(h.mean(dim=(2, 3)))  # (B, C)


class ConditionalBatchNorm(nn.Module):
    """gamma(c) * BN(h) + beta(c) over channels of h (B, N, H), for codes c (B, C)."""

    def __init__(self, code_dim: int, channels: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(channels, affine=False)
        self.gamma = nn.Linear(code_dim, channels)
        self.beta = nn.Linear(code_dim, channels)
        for lin, bias in ((self.gamma, 1.0), (self.beta, 0.0)):  # start as plain BN
            nn.init.zeros_(lin.weight)
            nn.init.constant_(lin.bias, bias)

    def forward(self, h: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        b, n, ch = h.shape
        h = self.bn(h.reshape(b * n, ch)).reshape(b, n, ch)  # statistics over all B*N points
        return self.gamma(code)[:, None] * h + self.beta(code)[:, None]  # (B, N, H)


class CBNResnetBlock(nn.Module):
    """h + fc1(relu(CBN(fc0(relu(CBN(h, c))), c))): the paper's fully connected ResNet block."""

    def __init__(self, code_dim: int, hidden: int):
        super().__init__()
        self.norm0 = ConditionalBatchNorm(code_dim, hidden)
        self.fc0 = nn.Linear(hidden, hidden)
        self.norm1 = ConditionalBatchNorm(code_dim, hidden)
        self.fc1 = nn.Linear(hidden, hidden)
        nn.init.zeros_(self.fc1.weight)  # each block starts as the identity

    def forward(self, h: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        dh = self.fc0(F.relu(self.norm0(h, code)))
        return h + self.fc1(F.relu(self.norm1(dh, code)))  # (B, N, H)


class CBNDecoder(nn.Module):
    """Occupancy logits f(p, c): points (B, N, 3), codes (B, C) -> (B, N) (module docstring)."""

    def __init__(self, code_dim: int, hidden: int = 256, blocks: int = 5):
        super().__init__()
        self.fc_p = nn.Linear(3, hidden)
        self.blocks = nn.ModuleList(CBNResnetBlock(code_dim, hidden) for _ in range(blocks))
        self.norm = ConditionalBatchNorm(code_dim, hidden)
        self.fc_out = nn.Linear(hidden, 1)

    def forward(self, points: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        h = self.fc_p(points)  # (B, N, H)
        for block in self.blocks:
            h = block(h, code)
        return self.fc_out(F.relu(self.norm(h, code))).squeeze(-1)  # (B, N)


@register("occupancy_network", OccupancyConfig, default_dataset="shapes", family="implicit",
          runner="field", train_defaults={"lr": 1e-3, "steps": 1000, "batch_size": 16,
                                          "schedule": "step", "grad_clip": None,
                                          "checkpoint_every": 100, "log_every": 20})
class OccupancyNetwork(ImplicitField):
    def __init__(self, cfg: OccupancyConfig):
        super().__init__()
        if cfg.encoder not in ("pointcloud", "image"):
            raise UserError(f"encoder must be pointcloud or image, got {cfg.encoder!r}")
        if cfg.decoder not in ("cbn", "concat"):
            raise UserError(f"decoder must be cbn or concat, got {cfg.decoder!r}")
        if not 0 < cfg.threshold < 1:
            raise UserError("threshold is a probability in (0, 1)")
        self.cfg = cfg
        enc = PointNetEncoder if cfg.encoder == "pointcloud" else ImageEncoder
        self.encoder = enc(cfg.code_dim, cfg.encoder_hidden)
        if cfg.decoder == "cbn":
            self.decoder = CBNDecoder(cfg.code_dim, cfg.hidden, cfg.blocks)
        else:
            self.decoder = ImplicitMLP(DecoderConfig(
                hidden=cfg.hidden, layers=cfg.layers, latent_dim=cfg.code_dim,
                skip_layers=cfg.skip_layers, fourier_levels=cfg.fourier_levels,
                activation="relu", geometric_init=True, inside_positive=True))
        self.level = math.log(cfg.threshold / (1 - cfg.threshold))  # logit(tau)

    inside = "above"

    def forward(self, points: torch.Tensor, code: torch.Tensor) -> torch.Tensor:
        """Occupancy logits at points (B, N, 3) for codes (B, C) -> (B, N)."""
        return self.decoder(points, code)

    def encode(self, observation: torch.Tensor) -> torch.Tensor:
        """Point clouds (B, T, 3) or images (B, 3, H, W) -> codes (B, C)."""
        return self.encoder(observation)

    # -- data -----------------------------------------------------------------------------
    def make_dataset(self, shapes: list[Shape], seed: int = 0) -> dict:
        """Occupancy samples (S, M, 3)/(S, M), M = samples_per_shape; surface clouds
        (S, 4096, 3) or views (S, V, 3, H, W) with their camera rotations (S, V, 3, 3)."""
        cfg = self.cfg
        points_per_shape = cfg.samples_per_shape
        near = int(points_per_shape * cfg.near_fraction)
        samples = [sample_sdf(s, num_uniform=points_per_shape - near, num_near=near,
                              sigmas=(0.01, 0.05), seed=seed + i) for i, s in enumerate(shapes)]
        data = {"points": torch.stack([s["points"] for s in samples]),
                "occupancy": torch.stack([s["occupancy"] for s in samples])}
        if cfg.encoder == "pointcloud":
            data["clouds"] = torch.stack([s.surface(4096, seed=seed + 10_000 + i)[0]
                                          for i, s in enumerate(shapes)])
        else:
            views = [self.render_views(s, seed + i) for i, s in enumerate(shapes)]
            data["views"] = torch.stack([v for v, _ in views])  # (S, V, 3, H, W)
            data["rotations"] = torch.stack([r for _, r in views])  # (S, V, 3, 3)
        return data

    def render_views(self, shape: Shape, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
        """views_per_shape renders (V, 3, H, W) from random directions on a sphere, and their
        camera-to-world rotations (V, 3, 3) (a point's view-frame coordinates: p @ R)."""
        size, cams = self.cfg.image_size, orbit_cameras(self.cfg.views_per_shape, seed=seed)
        views = torch.stack([render_view(shape, c, size)["rgb"].permute(2, 0, 1)
                             for c in cams])
        return views, cams[:, :, :3]

    def _noisy(self, points: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """The encoder's input cloud: surface points with Gaussian noise (sigma input_noise)."""
        return points + self.cfg.input_noise * torch.randn(points.shape, generator=generator)

    def observe(self, shape: Shape, generator: torch.Generator
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """One evaluation input of a shape: (noisy point cloud (T, 3), None), or (one view
        (3, H, W), its camera rotation (3, 3)): the arguments of `field_for`."""
        if self.cfg.encoder == "pointcloud":
            seed = int(torch.randint(1 << 30, (1,), generator=generator))
            pts, _ = shape.surface(self.cfg.input_points, seed=seed)
            return self._noisy(pts, generator), None
        view = self.observe_view(shape, generator)
        return view["image"], view["c2w"][:, :3]

    def observe_view(self, shape: Shape, generator: torch.Generator) -> dict:
        """The evaluation view of an image model (`observe`'s, for the same generator state):
        image (3, H, W), its camera c2w (3, 4) and the render's silhouette mask (H, W) and
        depth (H, W) (what a learning-free reference may use from the same view)."""
        seed = int(torch.randint(1 << 30, (1,), generator=generator))
        size = self.cfg.image_size
        c2w = orbit_cameras(self.cfg.views_per_shape, seed=seed)[0]  # render_views' first
        render = render_view(shape, c2w, size)
        return {"image": render["rgb"].permute(2, 0, 1), "c2w": c2w, "mask": render["mask"],
                "depth": render["depth"]}

    def observation(self, data: dict, idx: torch.Tensor, generator: torch.Generator
                    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The encoder input of shapes idx: a noisy 300-point subset (rotation None), or one
        random view and its camera rotation."""
        if self.cfg.encoder == "pointcloud":
            clouds = data["clouds"][idx]  # (B, 4096, 3)
            cols = torch.randint(clouds.shape[1], (len(idx), self.cfg.input_points),
                                 generator=generator)
            pts = torch.gather(clouds, 1, cols[..., None].expand(-1, -1, 3))
            return self._noisy(pts, generator), None
        views = data["views"][idx]  # (B, V, 3, H, W)
        pick = torch.randint(views.shape[1], (len(idx),), generator=generator)
        rows = torch.arange(len(idx))
        return views[rows, pick], data["rotations"][idx][rows, pick]

    def batch(self, data: dict, generator: torch.Generator, batch_size: int) -> tuple:
        """Observations of `batch_size` shapes, `points_per_shape` of their labelled points
        (in the camera's frame for the image model) and the labels."""
        num_shapes, num_points = data["occupancy"].shape
        b = min(batch_size, num_shapes)
        idx = torch.randperm(num_shapes, generator=generator)[:b]
        cols = torch.randint(num_points, (b, self.cfg.points_per_shape), generator=generator)
        obs, rotation = self.observation(data, idx, generator)
        pts = data["points"][idx[:, None], cols]  # (B, N, 3), world frame
        if rotation is not None:  # viewer-centred: the decoder sees p in the camera's frame
            pts = pts @ rotation
        return obs, pts, data["occupancy"][idx[:, None], cols]

    # -- objective (eq. 2) ----------------------------------------------------------------
    def loss(self, batch: tuple) -> LossOutput:
        obs, pts, occ = batch
        logits = self(pts, self.encode(obs))  # (B, N)
        bce = F.binary_cross_entropy_with_logits(logits, occ)
        with torch.no_grad():
            pred, true = logits > self.level, occ > 0.5
            iou = ((pred & true).sum() / (pred | true).sum().clamp(min=1)).item()
        return LossOutput(bce, {"loss": float(bce.detach()), "point_iou": iou})

    def field_for(self, observation: torch.Tensor, rotation: torch.Tensor | None = None
                  ) -> Callable[[torch.Tensor], torch.Tensor]:
        """Logits of the shape seen in one observation (T, 3) or (3, H, W), at world points
        (N, 3); an image needs its camera's rotation (3, 3) (see `observe`).

        Evaluated in eval mode whatever the model's mode (batch norm with its running
        statistics), so that any chunk of points gets the same values."""
        if self.cfg.encoder == "image" and rotation is None:
            raise UserError("an image observation needs its camera rotation: "
                            "field_for(*model.observe(shape, generator))")
        with torch.no_grad(), self.eval_mode():
            code = self.encode(observation[None].to(next(self.parameters()).device))[0]
        return self.field_for_code(code, rotation)

    def field_for_code(self, code: torch.Tensor, rotation: torch.Tensor | None = None
                       ) -> Callable[[torch.Tensor], torch.Tensor]:
        """Logits at world points (N, 3) of the shape with code (C,) (seen by a camera with
        `rotation`, for an image model), evaluated in eval mode."""

        def field(p: torch.Tensor) -> torch.Tensor:
            if rotation is not None:
                p = p @ rotation.to(p)
            with self.eval_mode():
                return self(p[None], code[None].to(p.device))[0]

        return field

    def shape_field(self, shapes: list[Shape], index: int, split: str, seed: int,
                    settings: EvalSettings) -> Field:
        """The field encoded from a new observation of shape `index` (seed + index)."""
        return self.field_for(*self.observe(shapes[index],
                                            torch.Generator().manual_seed(seed + index)))

    @contextlib.contextmanager
    def eval_mode(self) -> Iterator[None]:
        """Eval mode inside the block; the previous mode after it."""
        was_training = self.training
        self.eval()
        try:
            yield
        finally:
            self.train(was_training)
