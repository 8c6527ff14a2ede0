"""The Markdown leaderboard (BENCHMARKS.md with DETAILS.md's "Other tasks") and the HTML page
show the same tables: the same tasks in the same order, the same rows (model, run file) in the
same order, and the same figure on each row. Both pages render `report.leaderboard`; this
checks what a reader sees, parsed back from each page."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from perceptzoo.bench.html import render
from perceptzoo.bench.report import fmt, load_results, write_report
from perceptzoo.errors import UserError

REPO = Path(__file__).resolve().parents[2]

Row = tuple[str, str, str]  # (result file, metric, figure as the Markdown page prints it)


def _write(folder: Path, name: str, **fields) -> None:
    record = {"model": "made", "dataset": "binarized_mnist", "variant": "", "config": {},
              "metrics": {}, "published": {}, "wall_time_s": 60.0, "device": "cpu",
              "commit": "abc1234", "date": "2026-11-30"} | fields
    (folder / f"{name}.json").write_text(json.dumps(record))


def markdown_tables(*pages: Path) -> dict[str, list[Row]]:
    """title -> rows of every leaderboard table on `pages`, in page order."""
    tables: dict[str, list[Row]] = {}
    for page in pages:
        lines = page.read_text().splitlines()
        for i, line in enumerate(lines):
            if not (line.startswith("### ") and i + 2 < len(lines)
                    and lines[i + 2].startswith("| model |")):
                continue
            head = [c.strip() for c in lines[i + 2].strip("|").split(" | ")]
            col = next(j for j, c in enumerate(head) if c.startswith("ours ("))
            main = head[col].removeprefix("ours (").rsplit(" ", 1)[0]
            rows = []
            for row in lines[i + 4:]:
                if not row.startswith("| "):
                    break
                cells = [c.strip() for c in row.strip("|").split(" | ")]
                file = re.search(r"\]\([^)]*?([^/)]+\.json)\)", cells[0]).group(1)
                ours = re.match(r"(\S+)(?: \(([^)]+)\))?", cells[col])
                rows.append((file, ours.group(2) or main, ours.group(1)))
            tables[line[4:]] = rows
    return tables


def html_tables(page: str) -> dict[str, list[Row]]:
    """title -> rows of every leaderboard table of the HTML page, in page order."""
    tables: dict[str, list[Row]] = {}
    for title, table in re.findall(r'<h3 id="task-[^"]*">(.*?)</h3>.*?(<table class="sortable '
                                   r'leaderboard".*?</table>)', page, flags=re.S):
        rows = [(file, metric, fmt(float(value))) for value, file, metric in re.findall(
            r'<td data-sort="([^"]*)" title="([^"]*?\.json): ([^"]*)" class="num">', table)]
        tables[html.unescape(title)] = rows
    return tables


def _both(results_dir: Path, tmp_path: Path) -> tuple[dict, dict]:
    out = write_report(results_dir, tmp_path / "page" / "BENCHMARKS.md")
    markdown = markdown_tables(out, out.parent / "DETAILS.md")
    return markdown, html_tables(render(load_results(results_dir)))


def test_the_markdown_and_html_leaderboards_show_the_same_tables(tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    # a study's own task with a higher-is-better figure (MIG): the larger first on both pages
    _write(res, "beta_vae-sprites", model="beta_vae", dataset="sprites",
           task="sprites_disentanglement", figure="mig", metrics={"mig": 0.1, "elbo": -50.0})
    _write(res, "factor_vae-sprites", model="factor_vae", dataset="sprites",
           task="sprites_disentanglement", figure="mig", metrics={"mig": 0.3})
    # a task a result names with no figure: its first figure, on both pages
    _write(res, "linear_ae-digits", model="linear_ae", dataset="digits", task="autoencoders",
           metrics={"test_mse": 0.02, "train_time_s": 3.0})
    # a task of its own on MNIST: not in the MNIST sample-quality table on either page
    _write(res, "pix2pix-mnist", model="pix2pix", dataset="mnist", task="translation_edges",
           figure="frechet_distance", metrics={"frechet_distance": 20.0})
    _write(res, "gan-mnist", model="gan", dataset="mnist", metrics={"frechet_distance": 60.0})
    _write(res, "vae-mnist", model="vae", dataset="mnist",
           metrics={"frechet_distance": 90.0, "test_bits_per_dim": 1.9})
    # a table per dataset: rows by dataset, then by the figure
    _write(res, "gan-8", model="gan", dataset="toy2d:8gaussians", metrics={"mmd": 0.5})
    _write(res, "wgan_gp-8", model="wgan_gp", dataset="toy2d:8gaussians", metrics={"mmd": 0.2})
    _write(res, "gan-25", model="gan", dataset="toy2d:25gaussians", metrics={"mmd": 0.9})
    # best of two runs
    _write(res, "made-a", metrics={"test_nll_nats": 90.0})
    _write(res, "made-b", metrics={"test_nll_nats": 89.0})
    _write(res, "nade-a", model="nade", metrics={"test_nll_nats": 95.0})
    markdown, page = _both(res, tmp_path)
    assert list(markdown) == list(page)
    assert markdown == page
    assert [f for f, *_ in page["sprites disentanglement"]] == ["factor_vae-sprites.json",
                                                                "beta_vae-sprites.json"]
    assert page["autoencoders"] == [("linear_ae-digits.json", "test_mse", "0.02")]
    mnist = next(rows for title, rows in page.items() if title.startswith("MNIST: sample"))
    assert [f for f, *_ in mnist] == ["gan-mnist.json", "vae-mnist.json"]
    toy = next(rows for title, rows in page.items() if title.startswith("2D toy"))
    assert [f for f, *_ in toy] == ["gan-25.json", "wgan_gp-8.json", "gan-8.json"]


def test_the_repositorys_own_results_give_the_same_tables_on_both_pages(tmp_path):
    results = REPO / "benchmarks" / "results"
    if not any(results.glob("*.json")):
        pytest.skip("no benchmarks/results in this checkout")
    markdown, page = _both(results, tmp_path)
    assert list(markdown) == list(page)
    for title in markdown:
        assert markdown[title] == page[title], title


def test_an_unreadable_result_or_a_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(UserError, match="perceptzoo bench"):
        load_results(tmp_path / "nowhere")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserError, match="bad.json is not valid JSON.*fix or remove it"):
        load_results(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"metrics": {}}))
    with pytest.raises(UserError, match="bad.json is not a benchmark result"):
        write_report(tmp_path, tmp_path / "BENCHMARKS.md")


def test_the_family_is_filled_in_and_a_result_is_not_rewritten(tmp_path):
    _write(tmp_path, "dqn", model="dqn", dataset="CartPole-v1", metrics={"mean_return": 1.0})
    (r,) = load_results(tmp_path)
    assert r["_family"] == "rl" and "family" not in r
