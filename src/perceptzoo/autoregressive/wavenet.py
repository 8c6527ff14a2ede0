"""WaveNet (van den Oord et al. 2016, "WaveNet: A Generative Model for Raw Audio"), a dilated
causal convolutional network over mu-law audio, with optional global conditioning.

A waveform of T samples, mu-law companded to L = 256 codes (eq. 1, done by the dataset:
`perceptzoo.data.fsdd`), is modelled as p(x) = prod_t p(x_t | x_<t) (eq. 1's product) with a
softmax over the codes. The network (section 2, figure 4):

1. the input shifted right by one sample, so output t sees x_<t only, through a 1x1
   convolution to R residual channels;
2. residual layers with dilations d_1, d_2, ... (1, 2, 4, ..., 2^(n-1), repeated per stack),
   each a gated activation unit over a dilated causal convolution of kernel k (eq. 2, with the
   global conditioning of eq. 3):

       z = tanh(W_f *_d x + V_f^T h) ⊙ sigma(W_g *_d x + V_g^T h),
       x <- x + 1x1(z),   skip <- skip + 1x1(z);

3. ReLU -> 1x1 -> ReLU -> 1x1 on the summed skips -> L logits per sample.

A dilated causal convolution left-pads by d (k - 1) and so reads x_{t - d(k-1)} .. x_t; the
receptive field of the stack (how many past samples output t depends on) is therefore

    1 + sum_i d_i (k - 1)

(section 2.1; 256 samples = 32 ms at 8 kHz for the default stack 1..128 with k = 2, 511 for
the benchmark's two stacks),
checked by a gradient test. Training is teacher forcing: the true waveform is the input and
all T conditionals are scored in one pass.

Global conditioning (h above): with labels (the spoken digit of FSDD), an embedding of the
label is added to every gate. `log_prob(x)` without labels then returns the exact marginal
log mean_y p(x | y) (uniform p(y)); sampling without `cond` speaks digit i % 10 in row i.

Sampling: `cached=False` reruns the network on the whole waveform so far for every new sample;
`cached=True` keeps, per layer, a queue of the last d (k - 1) inputs (Paine et al. 2016,
"Fast WaveNet generation"), so each new sample costs one column per layer. Both draw the same
uniforms and give the same audio. `perceptzoo.data.fsdd.write_wav` writes samples as WAV.

    >>> import perceptzoo
    >>> model = perceptzoo.build("wavenet", data_shape=(1, 1, 64), num_levels=256,
    ...                          dilations=(1, 2, 4), residual_channels=8)
    >>> model.receptive_field
    8
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from perceptzoo.autoregressive.common import Autoregressive, OutputHead, check_discrete, uniforms
from perceptzoo.core.registry import register
from perceptzoo.errors import UserError


@dataclass
class WaveNetConfig:
    data_shape: tuple[int, ...] = (1, 1, 1024)
    """(1, 1, T) mono windows; filled from the dataset"""
    num_levels: int = 256
    """mu-law codes; filled from the dataset"""
    num_classes: int | None = 10
    """labels for global conditioning; filled from the dataset (None: unconditional)"""
    dilations: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128)
    """one stack by default (receptive field 256 samples = 32 ms); the benchmark uses two"""
    kernel_size: int = 2
    residual_channels: int = 24
    skip_channels: int = 48
    output: str = "auto"
    """auto (softmax over the codes) | logistic_mixture (see common.py)"""
    num_mixtures: int = 5

    @classmethod
    def tiny(cls) -> WaveNetConfig:
        """A fast configuration for smoke tests (the contract test over every model)."""
        return cls(data_shape=(1, 1, 64), dilations=(1, 2), residual_channels=8, skip_channels=8)


class CausalConv1d(nn.Conv1d):
    """Conv1d that left-pads by d (k - 1): output t reads inputs t - d(k-1) .. t."""

    def __init__(self, cin: int, cout: int, kernel_size: int, dilation: int = 1):
        super().__init__(cin, cout, kernel_size, dilation=dilation)
        self.left = dilation * (kernel_size - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(F.pad(x, (self.left, 0)))

    def step(self, x_t: torch.Tensor, queue: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One time step: x_t (B, C), queue (B, C, d(k-1)) the past inputs, oldest first."""
        d, k = self.dilation[0], self.kernel_size[0]
        taps = torch.cat([queue[:, :, ::d], x_t[:, :, None]], dim=2) if k > 1 else x_t[:, :, None]
        out = torch.einsum("bck,ock->bo", taps, self.weight) + self.bias
        queue = torch.cat([queue[:, :, 1:], x_t[:, :, None]], dim=2) if self.left else queue
        return out, queue


class ResidualLayer(nn.Module):
    def __init__(self, R: int, S: int, k: int, dilation: int, num_embeddings: int, last: bool):
        super().__init__()
        self.conv = CausalConv1d(R, 2 * R, k, dilation)  # filter and gate halves
        self.embed = nn.Embedding(num_embeddings, 2 * R) if num_embeddings else None
        self.res = None if last else nn.Conv1d(R, R, 1)  # the last layer only feeds the skips
        self.skip = nn.Conv1d(R, S, 1)

    def gate(self, a: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cond is not None:
            a = a + cond
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)


@register("wavenet", WaveNetConfig, default_dataset="fsdd",
          family="autoregressive", runner="trainer")
class WaveNet(Autoregressive, nn.Module):
    log_prob_chunk = 64  # clips scored per pass: the (B, T, 256) logits of a big batch take GBs

    def __init__(self, cfg: WaveNetConfig):
        super().__init__()
        if len(cfg.data_shape) != 3 or cfg.data_shape[:2] != (1, 1):
            raise UserError(f"WaveNet models mono audio of shape (1, 1, T), not {cfg.data_shape}")
        if any(d < 1 for d in cfg.dilations) or cfg.kernel_size < 1:
            raise UserError("dilations and kernel_size must be positive")
        self.cfg = cfg
        self.num_dims = cfg.data_shape[-1]
        self.num_classes = cfg.num_classes or 0
        self.head = OutputHead(cfg.output, cfg.num_levels, cfg.num_mixtures)
        R, S = cfg.residual_channels, cfg.skip_channels
        self.input = nn.Conv1d(1, R, 1)
        n = len(cfg.dilations)
        self.layers = nn.ModuleList(
            ResidualLayer(R, S, cfg.kernel_size, d, self.num_classes, last=k == n - 1)
            for k, d in enumerate(cfg.dilations))
        self.out1 = nn.Conv1d(S, S, 1)
        self.out2 = nn.Conv1d(S, self.head.num_params, 1)
        self.register_buffer("trained_with_labels", torch.zeros((), dtype=torch.bool))
        self.register_buffer("order", torch.arange(self.num_dims), persistent=False)

    @property
    def receptive_field(self) -> int:
        """Past samples each output depends on: 1 + sum_i d_i (k - 1)."""
        return 1 + sum(d * (self.cfg.kernel_size - 1) for d in self.cfg.dilations)

    def check_data(self, info) -> None:
        check_discrete("WaveNet", info, self.cfg)

    def _scale(self, codes: torch.Tensor) -> torch.Tensor:
        return codes.to(self.input.weight.dtype) * (2.0 / (self.cfg.num_levels - 1)) - 1.0

    def _cond(self, layer: ResidualLayer, cond: torch.Tensor | None):
        if layer.embed is None or cond is None:
            return None
        return layer.embed(cond.long())[:, :, None]  # (B, 2R, 1)

    def conditionals(self, x: torch.Tensor, *, cond: torch.Tensor | None = None
                     ) -> torch.Tensor:
        """x (B, 1, 1, T) codes, any T -> (B, T, P); cond (B,) labels or None."""
        B, T = x.shape[0], x.shape[-1]
        audio = self._scale(x.reshape(B, 1, T))
        shifted = F.pad(audio, (1, 0))[:, :, :T]  # input t holds x_{t-1}; x_{-1} = 0 (silence)
        h = self.input(shifted)  # (B, R, T)
        skip = 0
        for layer in self.layers:
            z = layer.gate(layer.conv(h), self._cond(layer, cond))  # (B, R, T)
            if layer.res is not None:
                h = h + layer.res(z)
            skip = skip + layer.skip(z)
        out = self.out2(F.relu(self.out1(F.relu(skip))))  # (B, P, T)
        return out.transpose(1, 2)

    # -- sampling ---------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, num_samples: int, *, cond: torch.Tensor | None = None,
               generator: torch.Generator | None = None, cached: bool = True,
               length: int | None = None) -> torch.Tensor:
        """(num_samples, 1, 1, length) codes; `length` defaults to the training window."""
        T = length or self.num_dims
        B, w = num_samples, self.input.weight
        if cond is None and bool(self.trained_with_labels):
            cond = torch.arange(B, device=w.device) % self.num_classes
        if cond is not None and not self.num_classes:
            raise UserError("this WaveNet has no global conditioning; sample without cond")
        if not cached:
            return self.sample_naive(B, cond=cond, generator=generator, shape=(1, 1, T))
        codes = torch.zeros(B, T, dtype=w.dtype, device=w.device)
        queues = [w.new_zeros(B, self.cfg.residual_channels, layer.conv.left)
                  for layer in self.layers]
        prev = w.new_zeros(B, 1)  # x_{-1} = 0 in the scaled domain (silence)
        for t in range(T):
            params, queues = self._step(prev, queues, cond)
            codes[:, t] = self.head.sample(params, uniforms(B, generator, w.device)).to(w.dtype)
            prev = self._scale(codes[:, t : t + 1])
        return codes.view(B, 1, 1, T)

    def _step(self, prev: torch.Tensor, queues, labels):
        """One new output from the previous sample (B, 1) scaled: -> params (B, P), queues."""
        h = self.input(prev[:, :, None])[:, :, 0]  # (B, R)
        skip, new_queues = 0, []
        for layer, queue in zip(self.layers, queues):
            a, queue = layer.conv.step(h, queue)  # (B, 2R)
            cond = self._cond(layer, labels)
            z = layer.gate(a, None if cond is None else cond[:, :, 0])
            if layer.res is not None:
                h = h + layer.res(z[:, :, None])[:, :, 0]
            skip = skip + layer.skip(z[:, :, None])[:, :, 0]
            new_queues.append(queue)
        out = self.out2(F.relu(self.out1(F.relu(skip[:, :, None]))))
        return out[:, :, 0], new_queues
