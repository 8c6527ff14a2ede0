"""vid2vid, reduced: video-to-video synthesis (Wang, Liu, Zhu, Liu, Tao, Kautz & Catanzaro,
NeurIPS 2018), at 28x28 on moving digits.

The video is generated frame by frame, each frame conditioned on the current and the L previous
source frames and on the L previous *generated* frames (the Markov assumption of eq. 1):

    p(x~_1^T | s_1^T) = prod_t p(x~_t | x~_{t-L}^{t-1}, s_{t-L}^t)

so frame t depends on earlier outputs and on no future source frame. The sequential generator
F (eq. 2) optionally composes a warped previous frame and a hallucinated one:

    x~_t = (1 - m~_t) * w~_{t-1}(x~_{t-1}) + m~_t * h~_t                  (use_flow=True)
    x~_t = h~_t                                                          (use_flow=False)

with flow w~ (2 channels, pixels), occlusion mask m~ in [0, 1] and hallucinated image h~ all
predicted by one U-Net (`perceptzoo.nn.unet_pix2pix`) from the stacked frames. Two
discriminators (sec. 3.2): an image discriminator D_I on (source, frame) pairs, and a temporal
discriminator D_V on K consecutive frames with their source frames, so it can see motion;
least-squares GAN losses. Generator objective: the two GAN terms + lambda_L1 || x~ - x ||_1 and,
with flow, lambda_W || w~(x_{t-1}) - x_t ||_1 (the warping loss of sec. 3.2).

What is reduced (said so for a reader comparing with the paper): no FlowNet2 ground-truth flow
(the flow is learnt from the warping loss alone), no foreground/background split, no
multi-scale discriminators or coarse-to-fine generator, L1 in place of the feature-matching and
VGG losses, and the first L frames see a blank history instead of an image generator's frame.

Temporal consistency is measured as a warping error (`warping_error`; Lai et al. 2018,
"Learning blind video temporal consistency", define it with a squared error and an estimated
optical flow): frame
t-1 warped to time t by the ground-truth motion, compared with frame t where the warp is valid.
The moving digits translate rigidly by whole pixels, so `rigid_flow` recovers their exact
motion from the real frames; real videos score 0 under it (the floor), a generated video whose
digit flickers or moves otherwise scores above 0. (Wang et al. 2018 themselves report FID and
human preference; the frame difference |x~_t - x~_{t-1}| the recipe also keeps mixes motion
with flicker.)

Data: `moving_digits` videos stored as film strips (1, 28, 28 T) (see
`perceptzoo.data.moving_digits`); the source is each frame's edge map. `sample(n, cond=strips)`
translates edge videos (film strips in {0, 1}); `sample(n)` translates held-out test videos'
edges. A video must have at least L + 1 frames.

    >>> import perceptzoo, torch
    >>> model = perceptzoo.build("vid2vid", dataset="moving_digits", channels=8, d_channels=8)
    >>> model.sample(1, cond=torch.zeros(1, 1, 28, 28 * 8)).shape
    torch.Size([1, 1, 28, 224])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.core.registry import register
from perceptzoo.data.moving_digits import frames, strip
from perceptzoo.errors import UserError
from perceptzoo.nn.patchgan import PatchGAN, gan_loss
from perceptzoo.nn.unet_pix2pix import UNetPix2Pix
from perceptzoo.translation.common import (
    adam,
    check_count,
    check_images,
    discriminator_step,
    edges_in_model_space,
    finite,
    frozen,
    held_out,
    step,
    to_data_space,
    to_model_space,
)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = image(p + flow(p)), bilinear, border padding.
    image (B, C, H, W), flow (B, 2, H, W) in pixels (x, y)."""
    b, _, h, w = image.shape
    ys, xs = torch.meshgrid(torch.arange(h, device=image.device, dtype=image.dtype),
                            torch.arange(w, device=image.device, dtype=image.dtype),
                            indexing="ij")
    gx = (xs + flow[:, 0]) / (w - 1) * 2 - 1
    gy = (ys + flow[:, 1]) / (h - 1) * 2 - 1
    return F.grid_sample(image, torch.stack([gx, gy], -1), padding_mode="border",
                         align_corners=True)


def rigid_flow(video: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """The ground-truth flow of videos whose frames are rigid integer translations of the one
    before (moving digits: `perceptzoo.data.moving_digits` moves each digit's box by at most 2
    pixels a frame on a black background, reflecting off the walls, so frame t is frame t-1
    shifted by a whole-pixel vector, with zeros coming in). For each consecutive pair the vector
    (dx, dy) in [-max_shift, max_shift]^2 that carries frame t-1 exactly onto frame t is found by
    trying them all, and returned as the backward flow of `warp`: warp(x_{t-1}, flow_t) = x_t
    with flow_t(p) = -(dx, dy) at every pixel p.

    video (B, T, C, H, W) (real frames, levels or floats) -> flows (B, T-1, 2, H, W) in pixels.
    A pair that no such shift explains (not a rigidly moving video, or a shift larger than
    max_shift) is a UserError.
    """
    if video.dim() != 5 or video.shape[1] < 2:
        raise UserError(f"rigid_flow takes videos (B, T, C, H, W) with T >= 2, got "
                        f"{tuple(video.shape)}")
    b, t, c, h, w = video.shape
    m = max_shift
    prev = F.pad(video[:, :-1].float().flatten(0, 1), (m, m, m, m))     # zeros come in
    nxt = video[:, 1:].float().flatten(0, 1)
    shifts = [(dx, dy) for dy in range(-m, m + 1) for dx in range(-m, m + 1)]
    # frame t(p) = frame t-1(p - d): the padded previous frame read at offset m - d
    errors = torch.stack([(prev[..., m - dy:m - dy + h, m - dx:m - dx + w] - nxt).abs()
                          .flatten(1).sum(1) for dx, dy in shifts], 1)     # (B (T-1), shifts)
    best, idx = errors.min(1)
    if (best > 1e-6 * (1 + nxt.abs().flatten(1).sum(1))).any():
        raise UserError(f"some frame is no whole-pixel shift of at most {max_shift} pixels of "
                        "the frame before (rigid_flow reads moving_digits videos); give the "
                        "flow of such videos to warping_error yourself")
    d = torch.tensor(shifts, dtype=torch.float32, device=video.device)[idx]  # (B (T-1), 2)
    return (-d).view(b, t - 1, 2, 1, 1).expand(-1, -1, -1, h, w).contiguous()


def warping_error(video: torch.Tensor, flows: torch.Tensor) -> torch.Tensor:
    """Temporal warping error (in the spirit of Lai et al. 2018, "Learning blind video temporal
    consistency", E_warp, with L1 for their squared error): each frame t-1 is warped to time t
    by the given flow and compared with frame t where the warp is valid (p + flow(p) inside
    the frame, so nothing is read from outside it):

        E(V) = 1/(T-1) sum_t  sum_p M_t(p) |V_t(p) - warp(V_{t-1}, f_t)(p)|  /  sum_p M_t(p)

    video (B, T, C, H, W) floats (scale them as wanted, e.g. levels / 255), flows
    (B, T-1, 2, H, W) backward flows in pixels (`rigid_flow` gives the ground truth of moving
    digits). Returns E per video, (B,). A video that moves exactly by the flow scores 0;
    flicker, or motion other than the flow's, scores above 0.
    """
    b, t, c, h, w = video.shape
    if tuple(flows.shape) != (b, t - 1, 2, h, w):
        raise UserError(f"warping_error takes one flow (2, {h}, {w}) per consecutive pair of "
                        f"the {t} frames, i.e. ({b}, {t - 1}, 2, {h}, {w}), got "
                        f"{tuple(flows.shape)}")
    f = flows.flatten(0, 1).float()
    warped = warp(video[:, :-1].flatten(0, 1).float(), f)
    ys, xs = torch.meshgrid(torch.arange(h, device=f.device), torch.arange(w, device=f.device),
                            indexing="ij")
    sx, sy = xs + f[:, 0], ys + f[:, 1]
    tol = 1e-4
    valid = ((sx >= -tol) & (sx <= w - 1 + tol) & (sy >= -tol) & (sy <= h - 1 + tol))
    valid = valid[:, None].float()                                       # (B (T-1), 1, H, W)
    err = ((video[:, 1:].flatten(0, 1).float() - warped).abs() * valid).flatten(1).sum(1)
    per_pair = err / (c * valid.flatten(1).sum(1)).clamp_min(1)
    return per_pair.view(b, t - 1).mean(1)


class Vid2Vid(nn.Module):
    def __init__(self, cfg: Vid2VidConfig):
        super().__init__()
        if cfg.num_levels is None:
            raise UserError("vid2vid translates grey-level videos (moving_digits)")
        c, h, wt = cfg.data_shape
        if wt % h:
            raise UserError(f"vid2vid reads film strips (C, H, H * T), got {tuple(cfg.data_shape)}")
        self.num_frames = wt // h
        if cfg.context < 1 or cfg.temporal_frames < 2:
            raise UserError("vid2vid needs context >= 1 and temporal_frames >= 2")
        if self.num_frames < cfg.clip_frames or cfg.clip_frames < cfg.temporal_frames:
            raise UserError(f"clip_frames must lie between temporal_frames "
                            f"({cfg.temporal_frames}) and the video's {self.num_frames} frames, "
                            f"got {cfg.clip_frames}")
        self.cfg = cfg
        self.frame_shape = (c, h, h)
        out = c + (3 if cfg.use_flow else 0)        # h~, and with flow: m~ and w~
        self.generator = UNetPix2Pix(c * (2 * cfg.context + 1), out, cfg.channels, cfg.num_down,
                                     dropout=0.0, num_dropout=0)
        self.D_image = PatchGAN(2 * c, cfg.d_channels, cfg.d_layers)
        self.D_video = PatchGAN(2 * c * cfg.temporal_frames, cfg.d_channels, cfg.d_layers)

    # -- the sequential generator (eq. 1, 2) --------------------------------------------------
    def next_frame(self, sources: torch.Tensor, previous: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x~_t from sources s_{t-L}^t (B, L+1, C, H, W) and outputs x~_{t-L}^{t-1}
        (B, L, C, H, W), model space; returns (x~_t, the flow w~ (B, 2, H, W) in pixels or
        None without flow)."""
        c = self.frame_shape[0]
        h = self.generator(torch.cat([sources.flatten(1, 2), previous.flatten(1, 2)], 1))
        hallucinated = h[:, :c]
        if not self.cfg.use_flow:
            return hallucinated, None
        mask = torch.sigmoid(h[:, c:c + 1])
        flow = torch.tanh(h[:, c + 1:c + 3]) * self.cfg.flow_scale
        return (1 - mask) * warp(previous[:, -1], flow) + mask * hallucinated, flow

    def roll_out(self, sources: torch.Tensor
                 ) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """Sources (B, T, C, H, W) in model space -> the T output frames (B, C, H, W), each in
        the graph, and their flows. The first frames see the first source repeated and blank
        (-1) outputs as their history."""
        t = sources.shape[1]
        L = self.cfg.context
        if t < L + 1:
            raise UserError(f"vid2vid conditions each frame on {L} previous frames, so a video "
                            f"needs at least {L + 1} frames; got {t}")
        blank = torch.full_like(sources[:, 0], -1.0)
        padded = torch.cat([sources[:, :1].expand(-1, L, -1, -1, -1), sources], 1)
        outputs: list[torch.Tensor] = [blank] * L
        flows: list[torch.Tensor | None] = []
        for i in range(t):
            frame, flow = self.next_frame(padded[:, i:i + L + 1], torch.stack(outputs[-L:], 1))
            outputs.append(frame)
            flows.append(flow)
        return outputs[L:], flows

    def generate_video(self, sources: torch.Tensor) -> torch.Tensor:
        """Sources (B, T, C, H, W) in model space -> outputs (B, T, C, H, W), frame by frame."""
        return torch.stack(self.roll_out(sources)[0], 1)

    # -- training -------------------------------------------------------------------------------
    def _clips(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Random clips of clip_frames frames: (targets, sources), (B, K, C, H, W) model space."""
        video = frames(x, self.num_frames)
        b, t = video.shape[:2]
        k = self.cfg.clip_frames
        start = torch.randint(t - k + 1, (b,), device=x.device)
        idx = start[:, None] + torch.arange(k, device=x.device)
        clip = video[torch.arange(b, device=x.device)[:, None], idx]   # (B, K, C, H, W)
        flat = clip.flatten(0, 1)
        target = to_model_space(flat, self.cfg.num_levels).view_as(clip)
        source = edges_in_model_space(flat, self.cfg.num_levels).view_as(clip)
        return target, source

    def _video_d_input(self, frames_: torch.Tensor, sources: torch.Tensor) -> torch.Tensor:
        """All windows of temporal_frames consecutive frames, with their sources, on channels:
        (B * windows, 2 K C, H, W)."""
        k = self.cfg.temporal_frames
        windows = [torch.cat([frames_[:, i:i + k].flatten(1, 2), sources[:, i:i + k].flatten(1, 2)],
                             1) for i in range(frames_.shape[1] - k + 1)]
        return torch.cat(windows, 0)

    def train_step(self, batch, optimizers) -> dict[str, float]:
        opt_g, opt_d = optimizers
        target, source = self._clips(batch[0])
        outputs, flows = self.roll_out(source)
        fake = torch.stack(outputs, 1)
        pair = lambda s, x: torch.cat([s.flatten(0, 1), x.flatten(0, 1)], 1)  # noqa: E731
        # D_I on (s_t, x_t) pairs, D_V on windows of K frames; least squares, halved
        loss_d = discriminator_step(opt_d, [
            (self.D_image, pair(source, target), pair(source, fake)),
            (self.D_video, self._video_d_input(target, source),
             self._video_d_input(fake, source))], "lsgan")
        with frozen(self.D_image, self.D_video):
            loss_gan_i = gan_loss(self.D_image(pair(source, fake)), True, "lsgan")
            loss_gan_v = gan_loss(self.D_video(self._video_d_input(fake, source)), True, "lsgan")
            loss_l1 = (fake - target).abs().mean()
            loss_g = loss_gan_i + loss_gan_v + self.cfg.lambda_l1 * loss_l1
            loss_w = torch.zeros((), device=fake.device)
            if self.cfg.use_flow:  # warping loss: the predicted flow carries x_{t-1} to x_t
                terms = [(warp(target[:, i - 1], flows[i]) - target[:, i]).abs().mean()
                         for i in range(1, target.shape[1])]
                loss_w = torch.stack(terms).mean()
                loss_g = loss_g + self.cfg.lambda_warp * loss_w
            step(opt_g, loss_g, self.generator)
        return finite({"loss": loss_g.detach(), "loss_d": loss_d,
                       "loss_gan_image": loss_gan_i.detach(), "loss_gan_video": loss_gan_v.detach(),
                       "l1": loss_l1.detach(), "warp": loss_w.detach()}, "vid2vid")

    def configure_optimizers(self, train_cfg) -> list[torch.optim.Optimizer]:
        """[G, D_I and D_V]: Adam (0.5, 0.999) at the train lr."""
        return adam(self.cfg, train_cfg, self.generator, [self.D_image, self.D_video])

    def check_data(self, info) -> None:
        if tuple(info.data_shape) != tuple(self.cfg.data_shape) or info.num_levels is None:
            raise UserError(f"this vid2vid was built for film strips of shape "
                            f"{tuple(self.cfg.data_shape)} (moving_digits), not {info.name} "
                            f"{tuple(info.data_shape)}")

    # -- sampling -------------------------------------------------------------------------------
    @torch.no_grad()
    def translate(self, edges: torch.Tensor) -> torch.Tensor:
        """Edge videos (B, T, C, H, W) in {0, 1} -> generated videos (B, T, C, H, W), levels."""
        if edges.dim() != 5 or tuple(edges.shape[2:]) != self.frame_shape:
            shape = ", ".join(map(str, self.frame_shape))
            raise UserError(f"vid2vid translates videos (B, T, {shape}), got "
                            f"{tuple(edges.shape)}")
        device = next(self.parameters()).device
        out = self.generate_video(edges.to(device).float() * 2 - 1)
        return to_data_space(out, self.cfg.num_levels)

    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Film strips (num_samples, C, H, H T) in grey levels translated from edge-video film
        strips `cond` in {0, 1}, or from held-out test videos' edges when cond is None."""
        if cond is None:
            x = held_out("moving_digits", num_samples, generator)
            video = frames(x, self.num_frames).flatten(0, 1)
            edges = edges_in_model_space(video, self.cfg.num_levels).add(1).div(2)
            cond = strip(edges.view(num_samples, self.num_frames, *self.frame_shape))
        else:
            check_images(cond, tuple(self.cfg.data_shape), "vid2vid's cond (edge film strips)")
            check_count(num_samples, cond)
        return strip(self.translate(frames(cond, self.num_frames)))


@dataclass
class Vid2VidConfig:
    data_shape: tuple[int, ...] = (1, 28, 224)
    """film strips (C, H, H T); filled from the dataset"""
    num_levels: int | None = 256
    context: int = 2
    """L: previous source frames and previous generated frames each frame sees"""
    clip_frames: int = 4
    """frames generated per training clip (back-propagated through the sequence)"""
    temporal_frames: int = 3
    """K: consecutive frames the temporal discriminator judges"""
    use_flow: bool = True
    """compose the warped previous output and a hallucinated frame through a mask (eq. 2)"""
    flow_scale: float = 4.0
    """the flow head's output times this is the flow in pixels"""
    channels: int = 16
    num_down: int = 2
    d_channels: int = 16
    d_layers: int = 2
    lambda_l1: float = 10.0
    lambda_warp: float = 10.0
    beta1: float = 0.5
    beta2: float = 0.999

    @classmethod
    def tiny(cls) -> Vid2VidConfig:
        return cls(channels=4, d_channels=4, clip_frames=3)


register("vid2vid", Vid2VidConfig, family="translation", runner="trainer",
         default_dataset="moving_digits", train_defaults={"lr": 2e-4, "batch_size": 8,
                                                          "schedule": "constant",
                                                          "grad_clip": None})(Vid2Vid)
