"""`perceptzoo bench` and `perceptzoo report` from the command line."""

from __future__ import annotations

import json

from perceptzoo.cli import main


def _result(folder, name="made-digits", **fields):
    folder.mkdir(exist_ok=True)
    record = {"model": "made", "dataset": "digits", "variant": "", "config": {},
              "metrics": {"test_nll_nats": 90.0, "frechet_distance": 20.0},
              "published": {}, "wall_time_s": 30.0, "device": "cpu", "commit": "abc1234",
              "date": "2026-11-30", "parameters": 1000} | fields
    (folder / f"{name}.json").write_text(json.dumps(record))


def test_report_writes_markdown_from_a_results_folder(tmp_path, capsys):
    _result(tmp_path / "results")
    out = tmp_path / "B.md"
    assert main(["report", str(tmp_path / "results"), "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Benchmarks") and "### Digits (8x8, embedded)" in text
    assert str(out) in capsys.readouterr().out


def test_report_writes_html_when_out_ends_in_html(tmp_path):
    _result(tmp_path / "results")
    out = tmp_path / "report.html"
    assert main(["report", str(tmp_path / "results"), "--out", str(out)]) == 0
    assert out.read_text().lstrip().lower().startswith("<!doctype html")


def test_report_on_a_missing_folder_says_what_to_pass(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "found no results" in err and "perceptzoo report FOLDER" in err


def test_bench_lists_recipes_and_rejects_an_unknown_name(capsys):
    assert main(["bench", "--list"]) == 0
    listing = capsys.readouterr().out
    assert "made-digits-quick" in listing and "quick" in listing
    assert main(["bench", "no-such-recipe"]) == 2
    assert "no recipe or model named" in capsys.readouterr().err
