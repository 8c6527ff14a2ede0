"""Data-parallel training (two gloo processes) follows the single-process trajectory."""

from __future__ import annotations

import os
import socket

import torch
import torch.multiprocessing as mp

import perceptzoo
from perceptzoo.core.runs import RunDir

MODEL = {"hidden_sizes": [32], "num_masks": 2, "order_agnostic": True}


def _config() -> perceptzoo.TrainConfig:
    return perceptzoo.TrainConfig(steps=12, batch_size=32, log_every=1, eval_every=6,
                                  checkpoint_every=6, progress=False, num_samples=4,
                                  device="cpu")


def _worker(rank: int, world: int, port: int, out: str) -> None:
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    perceptzoo.train("made", dataset="digits", out=out, train_config=_config(),
                     model_overrides=MODEL)
    torch.distributed.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_processes_match_one(tmp_path):
    single = perceptzoo.train("made", dataset="digits", out=tmp_path / "single",
                              train_config=_config(), model_overrides=MODEL)
    mp.spawn(_worker, args=(2, _free_port(), str(tmp_path / "ddp")), nprocs=2, join=True)
    losses = lambda run: [r["loss"] for r in RunDir(run).read_metrics() if "loss" in r]  # noqa: E731
    assert len(losses(tmp_path / "ddp")) == 12  # rank 0 alone logged
    torch.testing.assert_close(torch.tensor(losses(tmp_path / "ddp")),
                               torch.tensor(losses(single)), rtol=1e-5, atol=1e-5)
    a, b = perceptzoo.load(single), perceptzoo.load(tmp_path / "ddp")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-5, msg=name)
