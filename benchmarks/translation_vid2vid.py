"""vid2vid (reduced) on moving digits: edge-map video -> digit video. Per-frame Fréchet
distance, per-frame L1 to the target, temporal consistency (frame-to-frame change against the
real video's, and how often the classifier gives every frame of a video the same digit), and a
GIF of source | output | target side by side. Trained through the one run path, resumable; one
thread (2 shared CPU cores).

    nohup .venv/bin/python benchmarks/translation_vid2vid.py > /tmp/vid2vid.log 2>&1 &
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from common import REPO, WORK, Timer, data_dir, train_or_resume, write_result  # noqa: E402
from translation_common import N, fd  # noqa: E402

from perceptzoo import data  # noqa: E402
from perceptzoo.data.moving_digits import frames  # noqa: E402
from perceptzoo.data.paired import edge_source  # noqa: E402
from perceptzoo.io import atomic_write  # noqa: E402
from perceptzoo.metrics import classifier  # noqa: E402

FIGURES = REPO / "benchmarks" / "figures" / "translation"
MODEL = {"channels": 16, "d_channels": 16}
TRAIN = {"steps": 600, "batch_size": 8, "lr": 2e-4, "seed": 0, "eval_every": 100000,
         "checkpoint_every": 100, "num_samples": 16, "progress": False}


def labels_of(video: torch.Tensor) -> torch.Tensor:
    """(B, T, 1, H, W) -> the classifier's digit for every frame, (B, T)."""
    net = classifier.load_classifier("mnist")
    flat = video.flatten(0, 1).float()
    pred = torch.cat([net(flat[i:i + 500]).argmax(1) for i in range(0, len(flat), 500)])
    return pred.view(video.shape[:2])


def write_gif(path: Path, src: torch.Tensor, out: torch.Tensor, tgt: torch.Tensor,
              scale: int = 3) -> None:
    """Videos (B, T, 1, H, W) in levels: one GIF, a row per video, source | output | target."""
    from PIL import Image

    b, t = out.shape[:2]
    pics = []
    for i in range(t):
        rows = [torch.cat([src[j, i, 0], out[j, i, 0], tgt[j, i, 0]], 1) for j in range(b)]
        pic = torch.cat(rows, 0).clamp(0, 255).to(torch.uint8).numpy()
        img = Image.fromarray(np.ascontiguousarray(pic), "L")
        pics.append(img.resize((img.width * scale, img.height * scale), Image.NEAREST))
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=250, loop=0)
    atomic_write(path, lambda tmp: Path(tmp).write_bytes(buf.getvalue()))


def main() -> None:
    from perceptzoo.core import runner

    torch.set_num_threads(1)
    data_dir()
    with Timer() as t:
        run, train_s = train_or_resume("vid2vid", WORK / "translation-vid2vid",
                                       dataset="moving_digits", train=TRAIN, model_config=MODEL)
        torch.set_grad_enabled(False)  # measuring from here on
        model = runner.load(run)
        test = data.load("moving_digits", "test")
        real = frames(test.x[:N])                                       # (N, T, 1, H, W)
        n, steps = real.shape[:2]
        edges = edge_source(real.flatten(0, 1)).view_as(real)
        out = torch.cat([model.translate(edges[i:i + 100]) for i in range(0, n, 100)])
        per_frame_fd = [round(fd(out[:, i], real[:, i]), 3) for i in range(steps)]
        floor = [round(fd(real[:, (i + steps // 2) % steps], real[:, i]), 3) for i in range(steps)]
        d_out = (out[:, 1:] - out[:, :-1]).float() / 255
        d_real = (real[:, 1:] - real[:, :-1].float()).float() / 255
        lab_out, lab_real = labels_of(out), labels_of(real)
        metrics = {
            "per_frame_frechet_distance": per_frame_fd,
            "per_frame_frechet_distance_real_floor": floor,
            "mean_frechet_distance": round(float(np.mean(per_frame_fd)), 3),
            "per_frame_l1": [round(float((out[:, i] - real[:, i]).abs().mean() / 255), 5)
                             for i in range(steps)],
            "temporal_change_l1": round(float(d_out.abs().mean()), 5),
            "temporal_change_l1_real": round(float(d_real.abs().mean()), 5),
            "temporal_error_l1": round(float((d_out - d_real).abs().mean()), 5),
            "label_consistency": round(float((lab_out == lab_out[:, :1]).all(1).float().mean()), 4),
            "label_consistency_real": round(float((lab_real == lab_real[:, :1]).all(1)
                                                  .float().mean()), 4),
            "class_accuracy": round(float((lab_out == test.y[:N, None]).float().mean()), 4),
            "num_videos": n, "num_frames": steps,
        }
        FIGURES.mkdir(parents=True, exist_ok=True)
        write_gif(FIGURES / "vid2vid_moving_digits.gif", edges[:6] * 255, out[:6], real[:6])
    metrics["train_seconds"] = round(train_s, 1)
    write_result("vid2vid", "moving_digits", "edges2video", config={"model": MODEL, "train": TRAIN},
                 metrics=metrics, wall_time_s=t.seconds,
                 published={"source": "Wang et al. 2018 (vid2vid) report FID (I3D/ResNeXt) and "
                            "human preference on Cityscapes/faces at 2048x1024 (Table 1); no "
                            "moving-digit figures; none comparable"},
                 notes="1000 held-out moving_digits test videos of 8 frames; per-frame FD of "
                 "generated frame t against the real frame t of the same videos (MNIST "
                 "classifier features), the floor is real frame t+4 against real frame t (same "
                 "size); temporal_change_l1 = mean |x_t - x_{t-1}| (generated vs real), "
                 "temporal_error_l1 = mean |(x~_t - x~_{t-1}) - (x_t - x_{t-1})|; "
                 "label_consistency = fraction of videos whose 8 frames the classifier gives "
                 "one digit; GIF rows: source edges | output | target; reduced vid2vid (see "
                 "translation/vid2vid.py); 1 thread of 2 shared CPU cores",
                 task="translation_video")
    print(metrics)


if __name__ == "__main__":
    main()
