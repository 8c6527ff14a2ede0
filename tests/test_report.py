"""BENCHMARKS.md is generated from result files, published figures beside ours."""

from __future__ import annotations

import json

from perceptzoo.bench.report import write_report


def test_report_puts_published_figures_beside_ours(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "made-binarized_mnist-1mask.json").write_text(json.dumps({
        "model": "made", "dataset": "binarized_mnist", "variant": "1mask",
        "config": {}, "metrics": {"test_nll_nats": 88.9},
        "published": {"test_nll_nats": 88.40, "source": "Germain et al. 2015, Table 2"},
        "wall_time_s": 12.0, "device": "cpu", "commit": "abc", "date": "2026-11-26",
        "parameters": 1_200_000, "notes": "a note"}))
    text = write_report(results, tmp_path / "BENCHMARKS.md").read_text()
    row = next(line for line in text.splitlines() if line.startswith("| [made]"))
    cells = [c.strip() for c in row.split("|")]
    assert cells[2] == "88.9" and cells[3] == "88.4 (Germain et al. 2015, Table 2)"
    assert cells[4] == "+0.5" and cells[5] == "12 s" and "1.2M" in cells and "abc" in cells
    assert "## Details" in text and "](DETAILS.md)" in text  # every run: a page beside it
    details = (tmp_path / "DETAILS.md").read_text()
    assert "### autoregressive" in details or "### other" in details
    assert ("- **made**: [`binarized_mnist-1mask`](results/made-binarized_mnist-1mask.json) "
            "test_nll_nats 88.9 (12 s)") in details


def test_report_names_the_training_device_of_a_run_scored_elsewhere(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "pixelcnn-binarized_mnist-gpu.json").write_text(json.dumps({
        "model": "pixelcnn", "dataset": "binarized_mnist", "variant": "gpu", "config": {},
        "metrics": {"test_nll_nats": 84.6}, "wall_time_s": 1.0, "device": "cpu, 2 thread(s)",
        "train_device": "NVIDIA H200", "commit": "abc", "date": "2026-11-26"}))
    text = write_report(results, tmp_path / "BENCHMARKS.md").read_text()
    assert "H200 (scored on cpu)" in text


def _one_result(results) -> None:
    results.mkdir(parents=True)
    (results / "made-binarized_mnist.json").write_text(json.dumps({
        "model": "made", "dataset": "binarized_mnist", "variant": "", "config": {},
        "metrics": {"test_nll_nats": 88.9}, "wall_time_s": 12.0, "device": "cpu",
        "commit": "abc", "date": "2026-11-26"}))


def test_a_page_written_elsewhere_gets_its_details_beside_it_not_beside_the_results(tmp_path):
    """An editable install reads the repository's results by default: a page written to
    another folder must not write DETAILS.md into the repository's benchmarks/."""
    from perceptzoo.cli import main

    results = tmp_path / "repo" / "benchmarks" / "results"
    _one_result(results)
    page = tmp_path / "site" / "BENCHMARKS.md"
    assert main(["report", str(results), "--out", str(page)]) == 0
    assert not (results.parent / "DETAILS.md").exists()
    details = (tmp_path / "site" / "DETAILS.md").read_text()
    assert "](DETAILS.md)" in page.read_text()
    assert "(../repo/benchmarks/results/made-binarized_mnist.json)" in details
    assert "[the leaderboard](BENCHMARKS.md)" in details
    chosen = tmp_path / "elsewhere" / "runs.md"
    assert main(["report", str(results), "--out", str(page), "--details", str(chosen)]) == 0
    assert "](../elsewhere/runs.md)" in page.read_text() and chosen.exists()


def test_the_repository_layout_keeps_benchmarks_md_at_the_root_and_details_in_benchmarks(
        tmp_path, monkeypatch):
    """`perceptzoo report --out BENCHMARKS.md` from the repository's root: the checked-in
    layout, BENCHMARKS.md linking to benchmarks/DETAILS.md, which links back."""
    from perceptzoo.cli import main

    repo = tmp_path / "repo"
    _one_result(repo / "benchmarks" / "results")
    monkeypatch.chdir(repo)
    assert main(["report", "benchmarks/results", "--out", "BENCHMARKS.md"]) == 0
    text = (repo / "BENCHMARKS.md").read_text()
    assert "[DETAILS.md](benchmarks/DETAILS.md)" in text
    assert "(benchmarks/results/made-binarized_mnist.json)" in text
    details = (repo / "benchmarks" / "DETAILS.md").read_text()
    assert "[the leaderboard](../BENCHMARKS.md)" in details
    assert "(results/made-binarized_mnist.json)" in details
    assert not (repo / "DETAILS.md").exists()
