"""The leaderboard: one table per task, one row per model (its best run), sorted by the figure,
published figures and their source beside ours; BENCHMARKS.md readable (leaderboard first)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from perceptzoo.bench.report import leaderboard, leaderboard_markdown, load_results, write_report

REPO = Path(__file__).resolve().parents[2]


def _write(folder: Path, name: str, **fields) -> None:
    record = {"model": "made", "dataset": "binarized_mnist", "variant": "", "config": {},
              "metrics": {}, "published": {}, "wall_time_s": 60.0, "device": "cpu",
              "commit": "abc1234", "date": "2026-11-30"} | fields
    (folder / f"{name}.json").write_text(json.dumps(record))


def test_best_run_per_model_sorted_by_the_figure_with_the_gap_to_the_paper(tmp_path):
    _write(tmp_path, "made-a", metrics={"test_nll_nats": 90.0},
           published={"test_nll_nats": 88.4, "source": "Germain et al. 2015, Table 2"})
    _write(tmp_path, "made-b", metrics={"test_nll_nats": 89.0},
           published={"test_nll_nats": 88.4, "source": "Germain et al. 2015, Table 2"})
    _write(tmp_path, "nade-a", model="nade", metrics={"test_nll_nats": 95.0})
    _write(tmp_path, "pixelcnn-a", model="pixelcnn", metrics={"test_nll_nats": 85.0})
    rows = leaderboard(load_results(tmp_path))["binarized_mnist_nll"]
    assert [r["result"]["_file"] for r in rows] == ["pixelcnn-a.json", "made-b.json",
                                                   "nade-a.json"]
    assert rows[1]["runs"] == 2  # made's best of its two runs
    text = leaderboard_markdown(load_results(tmp_path))
    made_row = next(line for line in text.splitlines() if line.startswith("| [made]"))
    assert "89" in made_row and "88.4 (Germain et al. 2015, Table 2)" in made_row
    assert "+0.6" in made_row  # gap = ours - published


def test_an_ablation_never_takes_its_models_row(tmp_path):
    """The unrolled GAN's K = 0 run is DCGAN's game, not the unrolled GAN: on Fashion-MNIST it
    scored better than K = 5 and took the model's row."""
    _write(tmp_path, "made-a", metrics={"test_nll_nats": 90.0})
    _write(tmp_path, "made-k0", metrics={"test_nll_nats": 85.0}, ablation="one mask")
    _write(tmp_path, "nade-k0", model="nade", metrics={"test_nll_nats": 80.0}, ablation="x")
    rows = leaderboard(load_results(tmp_path))["binarized_mnist_nll"]
    assert [(r["result"]["_file"], r["runs"]) for r in rows] == [("made-a.json", 1)]


def test_a_higher_is_better_table_puts_the_largest_first(tmp_path):
    _write(tmp_path, "a", model="dqn", dataset="CartPole-v1", family="rl",
           metrics={"mean_return": 200.0})
    _write(tmp_path, "b", model="reinforce", dataset="CartPole-v1", family="rl",
           metrics={"mean_return": 480.0})
    rows = leaderboard(load_results(tmp_path))["rl"]
    assert [r["value"] for r in rows] == [480.0, 200.0]


def test_generative_models_of_every_family_share_the_sample_quality_table(tmp_path):
    for model, family, fd in [("pixelcnn", "autoregressive", 30.0), ("realnvp", "flows", 60.0),
                              ("ddpm", "diffusion", 20.0), ("vae", "vae", 40.0),
                              ("dcgan", "gans", 25.0)]:
        _write(tmp_path, model, model=model, family=family, dataset="digits",
               metrics={"frechet_distance": fd, "precision": 0.5, "recall": 0.5,
                        "real_vs_real_frechet_distance": 5.0, "test_nll_nats": fd + 50})
    tables = leaderboard(load_results(tmp_path))
    quality = [r["result"]["model"] for r in tables["digits_sample_quality"]]
    assert quality == ["ddpm", "dcgan", "pixelcnn", "vae", "realnvp"]
    assert len(tables["digits_nll"]) == 5  # the same runs, ranked by likelihood too
    text = leaderboard_markdown(load_results(tmp_path), tasks=["digits_sample_quality"])
    assert "real_vs_real_frechet_distance" in text and "Digits" in text


def test_a_task_outside_the_table_list_gets_its_own_table(tmp_path):
    _write(tmp_path, "beta_vae", model="beta_vae", dataset="sprites", task="disentanglement",
           figure="mig", metrics={"mig": 0.3})
    _write(tmp_path, "vae", model="vae", dataset="sprites", task="disentanglement",
           figure="mig", metrics={"mig": 0.1})
    rows = leaderboard(load_results(tmp_path))["disentanglement"]
    assert [r["value"] for r in rows] == [0.3, 0.1]  # MIG: higher is better


def test_benchmarks_md_starts_with_the_leaderboard_and_stays_readable(tmp_path):
    details = tmp_path / "DETAILS.md"
    out = write_report(REPO / "benchmarks" / "results", tmp_path / "BENCHMARKS.md", details)
    text = out.read_text()
    assert text.index("## Leaderboard") < text.index("## Details")
    assert "### Binarized MNIST" in text
    # measured as the checked-in page would be: links from the repository root, not from a
    # temporary folder (whose depth, and so the links' length, depends on the machine)
    here = os.path.relpath((REPO / "benchmarks" / "results").resolve(), tmp_path.resolve())
    as_checked_in = text.replace(here + "/", "benchmarks/results/")
    assert len(as_checked_in.encode()) < 25_000, len(as_checked_in.encode())
    # every run is one line of the details page, linked from the leaderboard's page
    assert "](DETAILS.md)" in text
    lines = [x for x in details.read_text().splitlines() if x.startswith("- **")]
    runs = sum(x.count("; [`") + 1 for x in lines)
    assert runs == len(list((REPO / "benchmarks" / "results").glob("*.json")))
    # links point at the result files, relative to where the page is
    assert "/benchmarks/results/" in text or "results/" in text


def test_a_result_of_its_own_task_stays_out_of_the_unconditional_tables(tmp_path):
    """A translation (edges -> digits) is scored on MNIST too, but it sees the edge map: it is
    in its own table, not among the unconditional generators."""
    _write(tmp_path, "dcgan", model="dcgan", dataset="mnist",
           metrics={"frechet_distance": 40.0})
    _write(tmp_path, "pix2pix", model="pix2pix", dataset="mnist",
           task="translation_edges2digits", metrics={"frechet_distance": 4.0})
    tables = leaderboard(load_results(tmp_path))
    assert [r["result"]["model"] for r in tables["mnist_sample_quality"]] == ["dcgan"]
    assert [r["result"]["model"] for r in tables["translation_edges2digits"]] == ["pix2pix"]


def test_a_figure_scored_against_the_head_of_the_split_is_marked(tmp_path):
    _write(tmp_path, "old", model="glow", dataset="mnist", frechet_reference="head",
           metrics={"frechet_distance": 46.0})
    _write(tmp_path, "new", model="vae", dataset="mnist", metrics={"frechet_distance": 400.0})
    text = leaderboard_markdown(load_results(tmp_path))
    glow = next(line for line in text.splitlines() if line.startswith("| [glow]"))
    vae = next(line for line in text.splitlines() if line.startswith("| [vae]"))
    assert "46 †" in glow and "†" not in vae
    assert "before commit 7cb7671" in text


def test_a_run_on_the_current_protocol_wins_the_row_over_a_marked_better_one(tmp_path):
    """A † figure (scored against the head of the split) is lower but not comparable: the
    model's row shows its current-protocol run, and the † run only counts toward ×N."""
    _write(tmp_path, "glow-gpu", model="glow", dataset="mnist", frechet_reference="head",
           metrics={"frechet_distance": 46.0, "test_bits_per_dim": 1.05})
    _write(tmp_path, "glow-cpu", model="glow", dataset="mnist",
           metrics={"frechet_distance": 472.0, "test_bits_per_dim": 1.30})
    _write(tmp_path, "vae", model="vae", dataset="mnist", metrics={"frechet_distance": 400.0})
    tables = leaderboard(load_results(tmp_path))
    quality = tables["mnist_sample_quality"]
    glow = next(row for row in quality if row["result"]["model"] == "glow")
    assert glow["result"]["_file"] == "glow-cpu.json" and glow["runs"] == 2
    assert not glow["marks"]
    assert [row["result"]["model"] for row in quality] == ["vae", "glow"]
    # the mark is of the Fréchet distance only: the bits/dim of the † run stays comparable
    bpd = tables["mnist_bits_per_dim"][0]
    assert bpd["result"]["_file"] == "glow-gpu.json" and not bpd["marks"]
    text = leaderboard_markdown(load_results(tmp_path), tasks=["mnist_sample_quality"])
    assert "†" not in text and "before commit 7cb7671" not in text


def test_a_marked_run_shows_when_it_is_the_models_only_one(tmp_path):
    _write(tmp_path, "old", model="glow", dataset="mnist", frechet_reference="head",
           metrics={"frechet_distance": 46.0})
    _write(tmp_path, "older", model="glow", dataset="mnist", frechet_reference="head",
           metrics={"frechet_distance": 80.0})
    rows = leaderboard(load_results(tmp_path))["mnist_sample_quality"]
    assert len(rows) == 1 and rows[0]["result"]["_file"] == "old.json" and rows[0]["runs"] == 2
    assert rows[0]["marks"] and rows[0]["marks"][0][0] == "†"
    text = leaderboard_markdown(load_results(tmp_path))
    assert "46 †" in text and "before commit 7cb7671" in text


def test_a_study_task_is_a_table_of_the_details_page_not_of_the_leaderboard(tmp_path):
    """The page keeps the leaderboard's tasks; a task a study names for itself gets its table
    on the details page, and the page names it with a link there."""
    results = tmp_path / "results"
    results.mkdir()
    _write(results, "beta_vae", model="beta_vae", dataset="sprites", task="disentanglement",
           figure="mig", metrics={"mig": 0.3})
    _write(results, "vae", model="vae", dataset="binarized_mnist",
           metrics={"test_nll_nats": 90.0})
    out = write_report(results, tmp_path / "BENCHMARKS.md", tmp_path / "DETAILS.md")
    page, details = out.read_text(), (tmp_path / "DETAILS.md").read_text()
    assert "### Binarized MNIST" in page and "### disentanglement" not in page
    assert "(DETAILS.md#other-tasks): disentanglement." in page
    assert details.index("## Other tasks") < details.index("### disentanglement") \
        < details.index("## Every run")
