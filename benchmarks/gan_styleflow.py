"""StyleFlow edits on the StyleGAN of the `stylegan-digits` recipe (`perceptzoo bench
stylegan-digits`; its run folder benchmarks/work/stylegan-digits).

NUM_PAIRS latents w = f(z) of the averaged generator (no truncation, noise off) are rendered
and their attributes measured: the digits classifier's class (one-hot), stroke thickness and
slant (`flows.styleflow.measure_attributes`, standardised). A StyleFlow (conditional coupling
flow, 8 couplings of 128 hidden units) is fitted to p(w | a) for FLOW_STEPS Adam steps. Then
for 256 held-out latents each edit changes one attribute (thickness +-1 std, slant +-1 std, the
class to the next digit) and re-renders; measured: the change of the edited attribute (in std
units, or the fraction now classified as the asked-for digit) and the mean absolute change of
the other two continuous attributes.

    .venv/bin/python benchmarks/gan_styleflow.py
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from common import WORK, Timer, data_dir, write_result

from perceptzoo.core import runner
from perceptzoo.flows.styleflow import StyleFlow, measure_attributes
from perceptzoo.gans.common import to_data_space
from perceptzoo.metrics import classifier
from perceptzoo.viz.images import save_grid, to_uint8

FIGURES = Path(__file__).resolve().parent / "figures" / "gans"
NUM_PAIRS = 4000
NUM_EDIT = 256
FLOW_STEPS = 1000


def main() -> None:
    torch.set_num_threads(1)
    data_dir()
    run = WORK / "stylegan-digits"
    if not (run / "model.safetensors").exists():
        raise SystemExit("train the StyleGAN first: perceptzoo bench stylegan-digits")
    trained = json.loads((run / "bench.json").read_text())
    model = runner.load(run)
    net, levels = model.generator_ema, model.cfg.num_levels
    head = classifier.load_classifier("digits")
    g = torch.Generator().manual_seed(0)

    def render(w: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return to_data_space(net.synthesize(w[:, None].expand(-1, net.num_ws, -1), "none"),
                                 levels)

    def attributes(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        with torch.no_grad():
            label = head(images).argmax(1)
        att = measure_attributes(images, levels)
        return label, torch.stack([att["thickness"], att["slant"]], 1)

    with Timer() as t:
        with torch.no_grad():
            w = net.map(torch.randn(NUM_PAIRS + NUM_EDIT, model.cfg.latent_dim, generator=g))
        images = torch.cat([render(w[i:i + 500]) for i in range(0, len(w), 500)])
        label, cont = attributes(images)
        mean, std = cont[:NUM_PAIRS].mean(0), cont[:NUM_PAIRS].std(0)
        cond = torch.cat([F.one_hot(label, 10).float(), (cont - mean) / std], 1)
        flow = StyleFlow(w_dim=w.shape[1], num_attributes=cond.shape[1], hidden=128,
                         num_layers=8)
        flow.fit_normalisation(w[:NUM_PAIRS])
        opt = torch.optim.Adam(flow.parameters(), lr=1e-3)
        for i in range(FLOW_STEPS):
            idx = torch.randint(0, NUM_PAIRS, (256,), generator=g)
            loss = -flow.log_prob(w[idx], cond=cond[idx]).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            if i % 250 == 0:
                print(i, loss.item(), flush=True)
        with torch.no_grad():
            held_nll = float(-flow.log_prob(w[NUM_PAIRS:], cond=cond[NUM_PAIRS:]).mean())
        w0, c0 = w[NUM_PAIRS:], cond[NUM_PAIRS:]
        l0, cont0 = label[NUM_PAIRS:], (cont[NUM_PAIRS:] - mean) / std
        metrics: dict[str, float] = {"heldout_nll_nats_per_w": round(held_nll, 3)}
        rows = [images[NUM_PAIRS:NUM_PAIRS + 12]]
        for name, column, delta in (("thickness", 10, 1.0), ("thickness", 10, -1.0),
                                    ("slant", 11, 1.0), ("slant", 11, -1.0)):
            new = c0.clone()
            new[:, column] += delta
            edited = render(flow.edit(w0, c0, new))
            _, cont1 = attributes(edited)
            cont1 = (cont1 - mean) / std
            moved = cont1 - cont0
            k = column - 10
            sign = "plus" if delta > 0 else "minus"
            metrics[f"{name}_{sign}1std_target_change_std"] = round(float(moved[:, k].mean()), 3)
            metrics[f"{name}_{sign}1std_other_abs_change_std"] = round(
                float(moved[:, 1 - k].abs().mean()), 3)
            rows.append(edited[:12])
        target = (l0 + 1) % 10
        new = c0.clone()
        new[:, :10] = F.one_hot(target, 10).float()
        edited = render(flow.edit(w0, c0, new))
        l1, cont1 = attributes(edited)
        metrics["class_edit_success"] = round(float((l1 == target).float().mean()), 3)
        metrics["class_edit_unchanged_before"] = round(float((l0 == target).float().mean()), 3)
        metrics["class_edit_continuous_abs_change_std"] = round(
            float(((cont1 - mean) / std - cont0).abs().mean()), 3)
        rows.append(edited[:12])
        FIGURES.mkdir(parents=True, exist_ok=True)
        save_grid(to_uint8(torch.cat(rows), levels), FIGURES / "styleflow_digits_edits.png",
                  scale=6, nrow=12)
    print(metrics, flush=True)
    write_result("styleflow", "digits", "stylegan-edits", config={
        "generator_run": f"recipe {trained['recipe']} trained at {trained['commit']} "
                         f"(config {trained['config_hash']})",
        "num_pairs": NUM_PAIRS, "num_edited": NUM_EDIT,
        "flow": {"hidden": 128, "num_layers": 8, "steps": FLOW_STEPS, "batch_size": 256,
                 "lr": 1e-3},
        "attributes": "digits classifier class (one-hot), thickness, slant (standardised)"},
        metrics=metrics, wall_time_s=t.seconds,
        published={"note": "Abdal et al. 2021 edit FFHQ faces with a CNF; no comparable "
                           "figure on digits", "source": "Abdal et al. 2021"},
        notes="Figure rows: originals; thickness +1 std; -1 std; slant +1 std; -1 std; class "
              "-> next digit. Attribute changes measured on the re-rendered edits.")


if __name__ == "__main__":
    main()
