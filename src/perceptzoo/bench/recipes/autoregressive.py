"""Autoregressive models: binarized MNIST NLL (the papers' table), digits, FSDD speech.

Each recipe carries the published figure it is compared with: the paper, table and row,
and what is and is not comparable. Moved here from the benchmark scripts and their result
files; `perceptzoo bench NAME` re-runs one."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from perceptzoo.bench.recipe import Published, Recipe


def unigram_study(run: Path) -> dict[str, Any]:
    """The context-free reference for a model of quantised audio: a unigram distribution of
    the codes fitted on the train split (add-one smoothing over the levels), scored on the
    test split in bits per sample (its cross-entropy), beside the 8 bits of a uniform code."""
    import torch

    from perceptzoo import data
    from perceptzoo.core import runner
    from perceptzoo.core.runs import RunDir

    config = runner.read_config(RunDir(run))
    levels = int(config["model_config"].get("num_levels") or 256)
    train = data.load(config["dataset"], "train", config.get("data_dir")).x.long().flatten()
    test = data.load(config["dataset"], "test", config.get("data_dir")).x.long().flatten()
    counts = torch.bincount(train, minlength=levels).double() + 1.0
    log_p = (counts / counts.sum()).log2()
    return {"unigram_bits_per_sample": float(-log_p[test].mean()),
            "uniform_bits_per_sample": math.log2(levels)}


#: the PixelCNN of the GPU recipe and of its CPU bf16 run (h=64, 12 residual blocks, 665k
#: parameters)
_PIXELCNN_H64 = {"hidden_channels": 64, "num_blocks": 12, "first_kernel": 7, "output": "auto",
                 "num_mixtures": 5}

#: published figures that several recipes compare with (one per model and protocol)
_DIGITS = Published(
    {},
    "none: digits are this project's embedded dataset",
)
_GATED_PIXELCNN = Published(
    {"pytorch_generative_nll_nats": 81.5},
    (
        "van den Oord et al. 2016b report no binarized MNIST figure; pytorch-generative "
        "compares its gated PixelCNN with PixelCNN's 81.30 (2016a, Table 4)"
    ),
    comparable=(
        "pytorch_generative: EugenHotaj/pytorch-generative README, dynamically "
        "binarized MNIST (a new binarization every epoch: about 2 nats easier "
        "than the fixed one)"
    ),
)
_MADE_1MASK = Published(
    {"test_nll_nats": 88.4},
    "Germain et al. 2015, Table 2, MADE 1 hidden layer, 1 mask",
)
_MADE_32MASKS = Published(
    {"test_nll_nats": 86.64},
    (
        "Germain et al. 2015, Table 2, best MADE with 32 masks (the authors' README gives "
        "2 hidden layers of 8000 units, order+connectivity masks)"
    ),
)
_MADE_32MASKS_ORDERS = Published(
    {"test_nll_nats": 86.64},
    (
        "Germain et al. 2015, Table 2, best MADE with 32 masks (the authors README gives "
        "2 hidden layers of 8000 units, order+connectivity masks)"
    ),
)
_NADE = Published(
    {
        "test_nll_nats": 88.86,
        "other_table_nll_nats": 88.33,
        "pytorch_generative_nll_nats": 85.65,
    },
    (
        "Larochelle & Murray 2011 (the figure pytorch-generative's README cites for NADE, "
        "ref. [5]); van den Oord et al. 2016a, Table 4, lists NADE at 88.33"
    ),
    comparable=(
        "pytorch_generative: EugenHotaj/pytorch-generative README, dynamically "
        "binarized MNIST (a new binarization every epoch: about 2 nats easier "
        "than the fixed one)"
    ),
)
_PIXELCNN = Published(
    {"test_nll_nats": 81.3, "pytorch_generative_nll_nats": 81.45},
    (
        "van den Oord et al. 2016a (Pixel Recurrent Neural Networks), Table 4, PixelCNN "
        "(also cited so by pytorch-generative)"
    ),
    comparable=(
        "pytorch_generative: EugenHotaj/pytorch-generative README, dynamically "
        "binarized MNIST (a new binarization every epoch: about 2 nats easier "
        "than the fixed one)"
    ),
)
_PIXELRNN = Published(
    {"test_nll_nats": 80.54},
    (
        "van den Oord et al. 2016a, Table 4, Row LSTM (Diagonal BiLSTM, 7 layers: 79.20); "
        "figures as given in the issue, not re-checked against the PDF here"
    ),
)
_TRANSFORMER = Published(
    {"pytorch_generative_nll_nats": 79.17},
    "no fixed-binarization figure published for an ImageGPT-style model",
    comparable=(
        "pytorch_generative: EugenHotaj/pytorch-generative README, dynamically "
        "binarized MNIST (a new binarization every epoch: about 2 nats easier "
        "than the fixed one)"
    ),
)

RECIPES: list[Recipe] = [
    # -- quick suite: seconds on a laptop CPU, embedded data ----------------------------------
    Recipe(
        name="made-digits-quick",
        model="made",
        dataset="digits",
        task="digits_sample_quality",
        variant="quick",
        model_config={"hidden_sizes": [256]},
        train={
            "steps": 400,
            "batch_size": 64,
            "lr": 0.002,
            "eval_every": 400,
            "checkpoint_every": 200,
        },
        evaluate={"num_samples": 1000},
        suites=("quick",),
        minutes=1.0,
        notes="quick suite: a one-mask MADE, 400 steps on the embedded 8x8 digits",
    ),
    # -- full and gpu suites ------------------------------------------------------------------
    Recipe(
        name="fvsbn-binarized_mnist",
        model="fvsbn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        train={
            "epochs": 30,
            "batch_size": 100,
            "lr": 0.003,
            "log_every": 50,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=Published(
            {"test_nll_nats": 97.45, "pytorch_generative_nll_nats": 96.58},
            (
                "FVSBN on the fixed binarization as tabulated with NADE (Larochelle & Murray "
                "2011) and in the issue; not re-checked against the PDF here"
            ),
            comparable=(
                "pytorch_generative: EugenHotaj/pytorch-generative README, dynamically "
                "binarized MNIST (a new binarization every epoch: about 2 nats easier "
                "than the fixed one)"
            ),
        ),
        suites=("full",),
        minutes=39,
        notes=(
            "CPU budget: 15000 steps of batch 100 (30.00 epochs) on 1 thread(s) of a shared "
            "2-core machine (wall time includes contention with other jobs); the papers "
            "train to convergence on GPUs, so a gap is expected."
        ),
    ),
    Recipe(
        name="fvsbn-digits",
        model="fvsbn",
        dataset="digits",
        task="digits_sample_quality",
        train={
            "steps": 800,
            "batch_size": 64,
            "lr": 0.01,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=2,
        notes="CPU budget: 800 steps of batch 64 on one shared core, default model config.",
    ),
    Recipe(
        name="gated_pixelcnn-binarized_mnist-gpu",
        model="gated_pixelcnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="gpu",
        model_config={
            "num_classes": 10,
            "hidden_channels": 64,
            "num_layers": 10,
            "first_kernel": 7,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "epochs": 7,
            "batch_size": 64,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 781,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_GATED_PIXELCNN,
        suites=("gpu",),
        minutes=24,
        device="cuda",
        notes=(
            "budget: 5467 steps of batch 64 (7.00 epochs) on NVIDIA H200, shared with 6 "
            "other benchmark jobs (training time from the run's log), scored on cpu, 1 "
            "thread(s) of 2 cores (x86_64); the papers train to convergence, so a gap is "
            "expected."
        ),
    ),
    Recipe(
        name="gated_pixelcnn-binarized_mnist",
        model="gated_pixelcnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={
            "num_classes": 10,
            "hidden_channels": 32,
            "num_layers": 5,
            "first_kernel": 7,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 200,
            "batch_size": 32,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 1000,
            "eval_examples": 1000,
            "checkpoint_every": 250,
        },
        evaluate={"num_samples": 0},
        published=_GATED_PIXELCNN,
        suites=("full",),
        minutes=47,
        notes=(
            "test NLL on the full 10,000-image test split (the retired script scored every "
            "5-th image: 103.54 against 103.78 here, same 200 steps); CPU budget: 200 steps "
            "of batch 32 (0.1 epochs) on one shared core (wall time includes contention with "
            "other jobs); the papers train to convergence on GPUs, so a gap is expected."
        ),
    ),
    Recipe(
        name="gated_pixelcnn-digits",
        model="gated_pixelcnn",
        dataset="digits",
        task="digits_sample_quality",
        model_config={
            "num_classes": 10,
            "hidden_channels": 32,
            "num_layers": 5,
            "first_kernel": 7,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 400,
            "batch_size": 64,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=9,
        notes=(
            "CPU budget: 400 steps of batch 64 on one shared core, default model config "
            "(class-conditional on the digit labels; the test NLL is the exact marginal "
            "over the 10 classes). Train time from the run folder's timestamps (11:41:40 to "
            "11:47:52 UTC); a later re-evaluation of the finished run rewrote the same "
            "metrics."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-1mask-h500",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="1mask-h500",
        model_config={
            "hidden_sizes": [500],
            "num_masks": 1,
            "order_agnostic": False,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 50,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 2500,
            "eval_examples": 10000,
            "checkpoint_every": 1000,
        },
        evaluate={"num_samples": 0},
        published=_MADE_1MASK,
        suites=("full",),
        minutes=78,
        notes=(
            "500 hidden units (a smaller model than the Table 2 rows: the authors' "
            "published command for their MNIST results uses 8000-unit layers, see "
            "made-binarized_mnist-1mask-h8000). At 500 units and one mask, Karpathy's "
            "pytorch-made README reports ~94.5 nats ('as shown in the paper', the first "
            "point of the paper's masks plot) without direct connections; ours with direct "
            "connections: 91.14. pytorch-generative reports 84.87 nats for MADE on MNIST, "
            "but with dynamically binarized data (a fresh Bernoulli draw of each image "
            "every epoch), a different and easier task than the fixed Larochelle-Murray "
            "binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-1mask-h8000-gpu",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="1mask-h8000-gpu",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 1,
            "order_agnostic": False,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 154,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_examples": 10000,
            "keep_best": True,
            "patience": 4,
        },
        evaluate={"num_samples": 0},
        published=_MADE_1MASK,
        suites=("gpu",),
        minutes=2,
        device="cuda",
        notes=(
            "Trained on one H200 beside 3 other MADE jobs and the GPU tests, all started "
            "together (`PARALLEL=1 benchmarks/gpu/run.sh 6 made tests`, session 4); each "
            "job sized its epochs to 6 minutes while the others ran. Early stopping "
            "(patience 4) ended it at epoch 11. pytorch-generative reports 84.87 nats for "
            "MADE on MNIST, but with dynamically binarized data (a fresh Bernoulli draw of "
            "each image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-1mask-h8000",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="1mask-h8000",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 1,
            "order_agnostic": False,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 30,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_examples": 10000,
            "keep_best": True,
            "patience": 4,
        },
        evaluate={"num_samples": 0},
        published=Published(
            {"test_nll_nats": 88.4},
            (
                "Germain et al. 2015, Table 2, MADE 1 hidden layer, 1 mask; the authors' "
                "published command for their MNIST results uses 8000-unit hidden layers, direct "
                "input->output connections, ReLU"
            ),
        ),
        suites=("full",),
        minutes=77,
        notes=(
            "8000 hidden units (the authors' scale), direct connections, AdamW 1e-3 cosine, "
            "batch 100, validation every epoch on the 10k valid split; reported weights = "
            "best validation epoch (never selected on test). Overfits after epoch 7 (valid "
            "89.59 -> 90.40 at epoch 11). pytorch-generative reports 84.87 nats for MADE on "
            "MNIST, but with dynamically binarized data (a fresh Bernoulli draw of each "
            "image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-h8000-gpu",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-h8000-gpu",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 32,
            "order_agnostic": False,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 107,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 1000,
            "eval_examples": 10000,
            "keep_best": True,
            "patience": 15,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS,
        suites=("gpu",),
        minutes=10,
        device="cuda",
        notes=(
            "Trained on one H200 beside 3 other MADE jobs and the GPU tests, all started "
            "together (`PARALLEL=1 benchmarks/gpu/run.sh 6 made tests`, session 4); each "
            "job sized its epochs to 6 minutes while the others ran. The 6-minute job limit "
            "stopped it at epoch 54.6 of its 107-epoch cosine schedule; its best validated "
            "weights (epoch 26: validation then rose, overfitting) were scored. 32 masks "
            "(connectivities: hidden degrees redrawn per mask), cycled one per minibatch "
            "(section 4.3); scored as the ensemble (log-mean-exp of the masks' "
            "probabilities) and with its first mask alone; validation every 2 epochs on the "
            "first 10,000 valid images. pytorch-generative reports 84.87 nats for MADE on "
            "MNIST, but with dynamically binarized data (a fresh Bernoulli draw of each "
            "image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-h8000",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-h8000",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 32,
            "order_agnostic": False,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 40,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 1000,
            "keep_best": True,
            "patience": 4,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS,
        suites=("full",),
        minutes=224,
        notes=(
            "32 masks (connectivities: hidden degrees redrawn per mask), natural order, "
            "cycled one per minibatch (section 4.3); scored as the ensemble (log-mean-exp "
            "of the masks' probabilities) and with its first mask alone; validation every 2 "
            "epochs on the first 2,000 valid images. Run through perceptzoo bench on 1 CPU "
            "thread, resumed across two sessions (7545 s logged, load 2-6): ensemble 90.00, "
            "first mask 92.17 (the retired script's run: 90.04 / 92.20). At the end of the "
            "cosine schedule the ensemble beats its own single mask by 2.2 nats but NOT the "
            "dedicated 1-mask model (88.93): valid 91.00 at epoch 20, 90.73 at 28, 90.63 at "
            "40 - it overfits (single-mask training loss ~85 vs valid ~93). "
            "pytorch-generative reports 84.87 nats for MADE on MNIST, but with "
            "dynamically binarized data (a fresh Bernoulli draw of each image every epoch), "
            "a different and easier task than the fixed Larochelle-Murray binarization used "
            "here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-orders-h500-cpu10ep",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-orders-h500-cpu10ep",
        model_config={
            "hidden_sizes": [500],
            "num_masks": 32,
            "order_agnostic": True,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 10,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 2500,
            "eval_examples": 10000,
            "checkpoint_every": 1000,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS_ORDERS,
        suites=("full",),
        minutes=37,
        notes=(
            "pytorch-generative reports 84.87 nats for MADE on MNIST, but with dynamically "
            "binarized data (a fresh Bernoulli draw of each image every epoch), a different "
            "and easier task than the fixed Larochelle-Murray binarization used here and in "
            "the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-orders-h500-cpu25ep",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-orders-h500-cpu25ep",
        model_config={
            "hidden_sizes": [500],
            "num_masks": 32,
            "order_agnostic": True,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 25,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 2500,
            "eval_examples": 10000,
            "checkpoint_every": 1000,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS_ORDERS,
        suites=("full",),
        minutes=24,
        notes=(
            "pytorch-generative reports 84.87 nats for MADE on MNIST, but with dynamically "
            "binarized data (a fresh Bernoulli draw of each image every epoch), a different "
            "and easier task than the fixed Larochelle-Murray binarization used here and in "
            "the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-orders-h8000-gpu",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-orders-h8000-gpu",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 32,
            "order_agnostic": True,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 108,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 1000,
            "eval_examples": 10000,
            "keep_best": True,
            "patience": 15,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS,
        suites=("gpu",),
        minutes=13,
        device="cuda",
        notes=(
            "Trained in two GPU calls (session 4): epochs 0-54 on one H200 beside 3 other "
            "MADE jobs and the GPU tests (`PARALLEL=1 benchmarks/gpu/run.sh 6 made tests`; "
            "sized to 108 epochs, stopped at the 6-minute job limit: ensemble test 88.53 "
            "then), then resumed alone on the same machine for epochs 54-108 (the cosine "
            "schedule's end); train time is the sum (595 s). The ensemble beats the "
            "dedicated one-mask model trained beside it (89.13, "
            "made-binarized_mnist-1mask-h8000-gpu) by 1.08 nats and the CPU one-mask model "
            "(88.93) by 0.88; each of its masks alone is far worse (first mask 93.65): "
            "orderings make the masks diverse enough that the mixture gains 5.6 nats, "
            "against 2.9 for 32 connectivities in one order "
            "(made-binarized_mnist-32masks-h8000-gpu). Validation still falling at the end "
            "(88.87), so more epochs would help. The result file was written by a second, "
            "--eval-only call of the finished run (same figures); its budget line and the "
            "one-mask figure (whose file the GPU copy had lost) were set here by hand. 32 "
            "masks (orderings and connectivities: hidden degrees redrawn per mask), cycled "
            "one per minibatch (section 4.3); scored as the ensemble (log-mean-exp of the "
            "masks' probabilities) and with its first mask alone; validation every 2 epochs "
            "on the first 10,000 valid images. pytorch-generative reports 84.87 nats for "
            "MADE on MNIST, but with dynamically binarized data (a fresh Bernoulli draw of "
            "each image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-orders-h8000",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-orders-h8000",
        model_config={
            "hidden_sizes": [8000],
            "num_masks": 32,
            "order_agnostic": True,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 40,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 1000,
            "keep_best": True,
            "patience": 15,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS,
        suites=("full",),
        minutes=67,
        notes=(
            "A 40-epoch cosine schedule (the retired script's run: 2 CPU threads, the machine "
            "nearly idle, 3066 s; re-run through the harness on one thread of a shared "
            "machine, resumed across two sessions: 10,057 s logged, test NLL 88.305 against "
            "its 88.302): the 32-mask ensemble (88.30) beats the one-mask model of the same "
            "size (88.93, made-binarized_mnist-1mask-h8000) by 0.63 nats, while each mask "
            "alone is far worse (first mask 92.56): orderings make the masks diverse enough "
            "for the mixture to gain 4.3 nats (32 connectivities in one order gain 2.2, "
            "made-binarized_mnist-32masks-h8000). Validation (first 2,000 valid images) "
            "90.36 at epoch 18, 89.29 at 26, 88.82 at 40. 32 masks (orderings and "
            "connectivities: hidden degrees redrawn per mask), cycled one per minibatch "
            "(section 4.3); scored as the ensemble (log-mean-exp of the masks' "
            "probabilities) and with its first mask alone; validation every 2 epochs on the "
            "first 2,000 valid images. pytorch-generative reports 84.87 nats for MADE on "
            "MNIST, but with dynamically binarized data (a fresh Bernoulli draw of each "
            "image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-binarized_mnist-32masks-orders-h8000x8000-gpu",
        model="made",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="32masks-orders-h8000x8000-gpu",
        model_config={
            "hidden_sizes": [8000, 8000],
            "num_masks": 32,
            "order_agnostic": True,
            "connectivity_agnostic": True,
            "direct_connections": True,
        },
        train={
            "epochs": 58,
            "batch_size": 100,
            "lr": 0.001,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 1000,
            "eval_examples": 10000,
            "keep_best": True,
            "patience": 15,
        },
        evaluate={"num_samples": 0},
        published=_MADE_32MASKS,
        suites=("gpu",),
        minutes=10,
        device="cuda",
        notes=(
            "Trained on one H200 beside 3 other MADE jobs and the GPU tests, all started "
            "together (`PARALLEL=1 benchmarks/gpu/run.sh 6 made tests`, session 4); each "
            "job sized its epochs to 6 minutes while the others ran. The authors' "
            "architecture (2 x 8000). The 6-minute job limit stopped it at epoch 31.2 of "
            "its 58-epoch cosine schedule, validation still falling; its best validated "
            "weights (epoch 30) were scored: an unfinished run. 32 masks (orderings and "
            "connectivities: hidden degrees redrawn per mask), cycled one per minibatch "
            "(section 4.3); scored as the ensemble (log-mean-exp of the masks' "
            "probabilities) and with its first mask alone; validation every 2 epochs on the "
            "first 10,000 valid images. pytorch-generative reports 84.87 nats for MADE on "
            "MNIST, but with dynamically binarized data (a fresh Bernoulli draw of each "
            "image every epoch), a different and easier task than the fixed "
            "Larochelle-Murray binarization used here and in the paper: not comparable."
        ),
    ),
    Recipe(
        name="made-digits-1mask",
        model="made",
        dataset="digits",
        task="digits_sample_quality",
        variant="1mask",
        model_config={
            "hidden_sizes": [500],
            "num_masks": 1,
            "order_agnostic": False,
            "connectivity_agnostic": True,
        },
        train={
            "epochs": 200,
            "batch_size": 100,
            "lr": 0.002,
            "grad_clip": 10.0,
            "warmup_steps": 200,
            "log_every": 100,
            "eval_every": 2500,
            "eval_examples": 10000,
            "checkpoint_every": 1000,
        },
        suites=("full",),
        minutes=4,
        notes=("digits: 17 grey levels, categorical outputs; no published figure for this dataset"),
    ),
    Recipe(
        name="nade-binarized_mnist-gpu",
        model="nade",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="gpu",
        model_config={"hidden_size": 500},
        train={
            "epochs": 25,
            "batch_size": 100,
            "lr": 0.001,
            "log_every": 50,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_NADE,
        suites=("gpu",),
        minutes=12,
        device="cuda",
        notes=(
            "budget: 12500 steps of batch 100 (25.00 epochs) on NVIDIA H200, shared with 6 "
            "other benchmark jobs (training time from the run's log), scored on cpu, 1 "
            "thread(s) of 2 cores (x86_64); the papers train to convergence, so a gap is "
            "expected."
        ),
    ),
    Recipe(
        name="nade-binarized_mnist",
        model="nade",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={"hidden_size": 500},
        train={
            "steps": 900,
            "batch_size": 32,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 1000,
            "eval_examples": 1000,
            "checkpoint_every": 250,
        },
        evaluate={"num_samples": 0},
        published=_NADE,
        suites=("full",),
        minutes=84,
        notes=(
            "test NLL on the full 10,000-image test split; CPU budget: 900 steps of batch 32 "
            "(0.58 epochs) on one shared core, one uninterrupted run through the harness "
            "(wall time includes contention with other jobs); the papers train to "
            "convergence on GPUs, so a gap is expected. The retired script's run (900 steps "
            "in several resumed segments, each resume restarting the cosine schedule; "
            "scored on every 2nd test image) gave 111.18 against 108.97 here."
        ),
    ),
    Recipe(
        name="nade-digits",
        model="nade",
        dataset="digits",
        task="digits_sample_quality",
        model_config={"hidden_size": 500},
        train={
            "steps": 800,
            "batch_size": 64,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=16,
        notes="CPU budget: 800 steps of batch 64 on one shared core, default model config.",
    ),
    Recipe(
        name="pixelcnn-binarized_mnist-gpu-e12",
        model="pixelcnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="gpu-e12",
        model_config=dict(_PIXELCNN_H64),
        train={
            "epochs": 12,
            "batch_size": 64,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 781,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_PIXELCNN,
        suites=("gpu",),
        minutes=11,
        device="cuda",
        notes=(
            "budget: 9372 steps of batch 64 (12.00 epochs) on NVIDIA H200, alone (training "
            "time from the run's log), scored on cpu, 1 thread(s) of 2 cores (x86_64); the "
            "papers train to convergence, so a gap is expected."
        ),
    ),
    Recipe(
        name="pixelcnn-binarized_mnist",
        model="pixelcnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={
            "hidden_channels": 32,
            "num_blocks": 6,
            "first_kernel": 7,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "epochs": 10,
            "batch_size": 32,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 1562,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_PIXELCNN,
        suites=("full",),
        minutes=162,
        notes=(
            "CPU budget: 15620 steps of batch 32 (10.00 epochs) on 1 thread(s) of a shared "
            "2-core machine (wall time includes contention with other jobs); the papers "
            "train to convergence on GPUs, so a gap is expected. Issue target <= 85 nats "
            "NOT reached: 89.12 (was 93.89 after 1.28 epochs); re-run through the harness "
            "(one thread, resumed across two sessions): 89.19. Validation (2,000 images) "
            "per epoch: 94.64, 91.77, 91.05, 90.73, 90.05, 89.71, 89.54, 89.29, 89.23, "
            "89.20 -- flattening: an 88k-parameter PixelCNN (h=32, 6 residual blocks) is "
            "too small; a larger one does not fit one contended CPU core in an hour (the "
            "paper's 81.30 uses a much larger network on GPUs)."
        ),
    ),
    Recipe(
        name="pixelcnn-binarized_mnist-h64-bf16",
        model="pixelcnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="h64-bf16",
        # The GPU recipe's network (h=64, 12 residual blocks, 665k parameters: 84.63 nats after
        # 12 epochs on an H200) trained on the CPU. bf16 autocast halves the step time on this
        # machine's AVX512-BF16 cores (0.79 s against 1.45 s per batch of 32 on one thread);
        # the weights, the optimizer and the test score stay fp32. Batch 32 for twice the
        # updates per epoch; EMA weights (0.999) are the ones scored.
        model_config=dict(_PIXELCNN_H64),
        train={
            "epochs": 8,
            "batch_size": 32,
            "lr": 0.001,
            "precision": "bf16",
            "ema_decay": 0.999,
            "log_every": 50,
            "eval_every": 3124,
            "eval_examples": 2000,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_PIXELCNN,
        suites=("full",),
        minutes=180,
        notes=(
            "CPU budget: 12496 steps of batch 32 (8.00 epochs) in bf16 autocast on a shared "
            "2-core machine; the issue's target is <= 85 nats on 2 CPU cores."
        ),
    ),
    Recipe(
        name="pixelcnn-digits",
        model="pixelcnn",
        dataset="digits",
        task="digits_sample_quality",
        model_config={
            "hidden_channels": 32,
            "num_blocks": 5,
            "first_kernel": 7,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 800,
            "batch_size": 64,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=17,
        notes="CPU budget: 800 steps of batch 64 on one shared core, default model config.",
    ),
    Recipe(
        name="pixelcnn-mnist",
        model="pixelcnn",
        dataset="mnist",
        task="mnist_bits_per_dim",
        model_config={
            "hidden_channels": 32,
            "num_blocks": 6,
            "first_kernel": 7,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "epochs": 1,
            "batch_size": 32,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 1562,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        published=Published(
            {},
            (
                "no published PixelCNN figure on 256-level MNIST was found to quote; the PixelCNN "
                "papers report binarized MNIST (nats) and CIFAR-10 / ImageNet (bits/dim)"
            ),
        ),
        # 784 sequential steps a sample, each one pixel's activations (cached sampling): 10,000
        # samples take about 9 CPU-minutes
        suites=("full",),
        minutes=10,
        notes=(
            "CPU budget: 1562 steps of batch 32 (1.00 epochs) on 2 thread(s) of a shared "
            "2-core machine (wall time includes contention with other jobs); the papers "
            "train to convergence on GPUs, so a gap is expected."
        ),
    ),
    Recipe(
        name="pixelrnn-binarized_mnist-gpu",
        model="pixelrnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="gpu",
        model_config={
            "hidden_channels": 64,
            "num_layers": 4,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "epochs": 4,
            "batch_size": 64,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 781,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_PIXELRNN,
        suites=("gpu",),
        minutes=16,
        device="cuda",
        notes=(
            "budget: 3124 steps of batch 64 (4.00 epochs) on NVIDIA H200, shared with 6 "
            "other benchmark jobs (training time from the run's log), scored on cpu, 1 "
            "thread(s) of 2 cores (x86_64); the papers train to convergence, so a gap is "
            "expected."
        ),
    ),
    Recipe(
        name="pixelrnn-binarized_mnist",
        model="pixelrnn",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={
            "hidden_channels": 32,
            "num_layers": 2,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 450,
            "batch_size": 32,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 1000,
            "eval_examples": 1000,
            "checkpoint_every": 250,
        },
        evaluate={"num_samples": 0},
        published=_PIXELRNN,
        suites=("full",),
        minutes=31,
        notes=(
            "test NLL on every 5-th of the 10,000 test images (all classes); CPU budget: "
            "450 steps of batch 32 (0.29 epochs) on one shared core (wall time includes "
            "contention with other jobs); the papers train to convergence on GPUs, so a gap "
            "is expected. Trained in two segments: 150 steps under heavy CPU contention "
            "(load average above 20; 975 s, cosine LR annealed to 0), then resumed to 450 "
            "steps when the machine was quieter (413 s; the schedule was recomputed for the "
            "new total, i.e. a warm restart)."
        ),
    ),
    Recipe(
        name="pixelrnn-digits",
        model="pixelrnn",
        dataset="digits",
        task="digits_sample_quality",
        model_config={
            "hidden_channels": 32,
            "num_layers": 2,
            "kernel": 3,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 800,
            "batch_size": 64,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=9,
        notes="CPU budget: 800 steps of batch 64 on one shared core, default model config.",
    ),
    Recipe(
        name="tabular-bars_stripes",
        model="tabular",
        dataset="bars_stripes",
        task="bars_stripes",
        model_config={"alpha": 0.0},
        train={"epochs": 1, "batch_size": 100, "lr": 0.001},
        evaluate={"num_samples": 0},
        published=Published(
            {"test_nll_nats": 3.091},
            "exact: entropy of the uniform distribution over the 22 bars-and-stripes patterns",
        ),
        suites=("full",),
        minutes=1,
        notes="exact ML fit by counting, one epoch over the 2,000 training draws",
    ),
    Recipe(
        name="transformer-binarized_mnist-gpu",
        model="transformer",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        variant="gpu",
        model_config={
            "embed_dim": 128,
            "num_heads": 4,
            "num_layers": 4,
            "dropout": 0.0,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "epochs": 4,
            "batch_size": 64,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 781,
            "checkpoint_every": 250,
            "keep_best": True,
        },
        evaluate={"num_samples": 0},
        published=_TRANSFORMER,
        suites=("gpu",),
        minutes=18,
        device="cuda",
        notes=(
            "budget: 3124 steps of batch 64 (4.00 epochs) on NVIDIA H200, shared with 6 "
            "other benchmark jobs (training time from the run's log), scored on cpu, 1 "
            "thread(s) of 2 cores (x86_64); the papers train to convergence, so a gap is "
            "expected."
        ),
    ),
    Recipe(
        name="transformer-binarized_mnist",
        model="transformer",
        dataset="binarized_mnist",
        task="binarized_mnist_nll",
        model_config={
            "embed_dim": 64,
            "num_heads": 4,
            "num_layers": 2,
            "dropout": 0.0,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 400,
            "batch_size": 16,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 1000,
            "eval_examples": 1000,
            "checkpoint_every": 250,
        },
        evaluate={"num_samples": 0},
        published=_TRANSFORMER,
        suites=("full",),
        minutes=19,
        notes=(
            "test NLL on every 10-th of the 10,000 test images (all classes); CPU budget: "
            "400 steps of batch 16 (0.13 epochs) on one shared core (wall time includes "
            "contention with other jobs); the papers train to convergence on GPUs, so a gap "
            "is expected. Trained in two segments: 80 steps under heavy CPU contention "
            "(load average above 20; 408 s, cosine LR annealed to 0), then resumed to 400 "
            "steps when the machine was quieter (395 s; the schedule was recomputed for the "
            "new total, i.e. a warm restart)."
        ),
    ),
    Recipe(
        name="transformer-digits",
        model="transformer",
        dataset="digits",
        task="digits_sample_quality",
        model_config={
            "embed_dim": 64,
            "num_heads": 4,
            "num_layers": 4,
            "dropout": 0.0,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 800,
            "batch_size": 64,
            "lr": 0.002,
            "log_every": 50,
            "eval_every": 200,
            "eval_examples": 180,
            "checkpoint_every": 200,
        },
        published=_DIGITS,
        suites=("full",),
        minutes=30,
        notes="CPU budget: 800 steps of batch 64 on one shared core, default model config.",
    ),
    Recipe(
        name="wavenet-fsdd",
        model="wavenet",
        dataset="fsdd",
        task="fsdd_bits_per_sample",
        model_config={
            "num_classes": 10,
            "dilations": [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128],
            "kernel_size": 2,
            "residual_channels": 32,
            "skip_channels": 64,
            "output": "auto",
            "num_mixtures": 5,
        },
        train={
            "steps": 600,
            "batch_size": 8,
            "lr": 0.001,
            "log_every": 50,
            "eval_every": 400,
            "eval_examples": 50,
            "checkpoint_every": 200,
            "num_samples": 8,
        },
        evaluate={"num_samples": 0},
        published=Published(
            {},
            (
                "no published bits/sample on FSDD; compare with the unigram entropy of the codes "
                "(a model without context) and 8 bits"
            ),
        ),
        suites=("full",),
        minutes=84,
        study=unigram_study,
        notes=(
            "CPU budget: 600 steps of 8 windows of 1024 samples on one shared core; "
            "test_bits_per_dim is bits per audio sample on the full test split (860 windows "
            "of 1024 samples). unigram_bits_per_sample: codes without context (fitted on "
            "train). The retired script scored 5.545 bits per sample (unigram 7.315) and "
            "drew 1 s per digit 0-3 (WAV in benchmarks/figures)."
        ),
    ),
]
