"""The HTML report: built from a small results folder, then loaded and clicked in headless Chromium.

The browser test drives Debian's `chromium` over the Chrome DevTools protocol (a websocket; no
browser download, no Selenium): it loads the page from disk, reads the DOM, clicks a table
header with a real mouse event and saves a screenshot under the test's tmp_path (its path is
printed; `pytest -s` shows it). It is skipped, saying why, where chromium is not installed;
`.ci/run` installs it.

    python tests/bench/test_html_report.py docs/report.png   # the screenshot in the README
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from perceptzoo.bench.html import (
    leaderboard_rows,
    load_results,
    scatter_points,
    speed_bars,
    write_html,
)
from perceptzoo.errors import UserError

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(n)), None)


# ---------------------------------------------------------------- a small results folder


def _result(model: str, dataset: str, metrics: dict, variant: str = "", **extra) -> dict:
    return {"model": model, "dataset": dataset, "variant": variant, "config": {},
            "metrics": metrics, "published": {}, "wall_time_s": 2000.0,
            "device": "cpu, 1 thread(s) of 2 cores", "commit": "abc1234",
            "date": "2026-11-30", **extra}


def _png(path: Path, shade: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("L", (56, 28), color=shade)
    img.paste(255 - shade, (10, 6, 20, 22))
    img.save(path)


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Three binarized-MNIST density models (one with two runs), three MNIST samplers (exact
    likelihood, a bound, none), curves in a result, a run folder, figures found by name."""
    res = tmp_path / "benchmarks" / "results"
    res.mkdir(parents=True)
    figures = tmp_path / "benchmarks" / "figures"
    _png(figures / "pixelcnn_grid.png", 30)
    _png(figures / "autoregressive_nade_binarized_mnist.png", 60)
    _png(figures / "unrelated_plot.png", 90)
    _png(figures / "gan" / "modes.png", 200)  # a sub-folder named after the model
    run = tmp_path / "runs" / "ddpm-mnist"
    _png(run / "samples.png", 120)
    (run / "metrics.jsonl").write_text("\n".join(json.dumps(r) for r in [
        {"step": 10, "kind": "train", "loss": 0.9, "lr": 1e-3, "time_s": 1.0},
        {"step": 20, "kind": "train", "loss": 0.5, "lr": 1e-3, "time_s": 2.0},
        {"step": 30, "kind": "train", "loss": 0.4, "lr": 1e-3, "time_s": 3.0},
        {"step": 30, "kind": "valid", "loss": 0.45},
        {"step": 30, "kind": "eval", "frechet_distance": 142.0}]))
    files = {
        "made-binarized_mnist.json": _result(
            "made", "binarized_mnist", {"test_nll_nats": 88.9, "train_time_s": 900.0},
            published={"test_nll_nats": 88.4, "source": "Germain et al. 2015, Table 2"},
            parameters=1_000_000),
        "made-binarized_mnist-small.json": _result(
            "made", "binarized_mnist", {"test_nll_nats": 95.0, "train_time_s": 100.0},
            variant="small"),
        "pixelcnn-binarized_mnist.json": _result(
            "pixelcnn", "binarized_mnist", {"test_nll_nats": 84.0, "train_time_s": 7000.0},
            published={"test_nll_nats": 81.3, "source": "van den Oord et al. 2016, Table 4"},
            samples="figures/pixelcnn_grid.png",
            curves={"train loss": [[100, 120.0], [200, 100.0], [300, 92.0]],
                    "valid nll": {"step": [100, 300], "value": [110.0, 90.0]}}),
        "nade-binarized_mnist.json": _result(
            "nade", "binarized_mnist", {"test_nll_nats": 90.5, "train_time_s": 300.0}),
        "glow-mnist.json": _result(
            "glow", "mnist", {"test_bits_per_dim": 2.3, "frechet_distance": 450.0,
                              "precision": 0.05, "recall": 0.05, "sampling_time_s": 10.0},
            config={"evaluate": {"num_samples": 1000}},
            samples="figures/pixelcnn_grid.png"),  # a figure two models share
        "ddpm-mnist.json": _result(
            "ddpm", "mnist", {"test_bits_per_dim_bound": 2.65, "frechet_distance": 142.0,
                              "real_vs_real_frechet_distance": 40.0,
                              "sampling_time_s_per_image": 4.0},
            run="runs/ddpm-mnist"),
        "gan-mnist.json": _result("gan", "mnist", {"frechet_distance": 60.0},
                                  task="mnist_sample_quality"),
        "vae-mnist.json": _result("vae", "mnist", {"test_bits_per_dim": 1.9,  # an ELBO bound
                                                   "frechet_distance": 300.0}),
    }
    for name, r in files.items():
        (res / name).write_text(json.dumps(r))
    return res


# ---------------------------------------------------------------- the page, without a browser


def test_each_model_keeps_its_best_run_sorted_by_the_tasks_figure(results):
    rows = leaderboard_rows("binarized_mnist_nll", load_results(results))
    assert [r["result"]["model"] for r in rows] == ["pixelcnn", "made", "nade"]
    made = rows[1]
    assert made["value"] == 88.9 and made["runs"] == 2  # the 95-nat variant is not its best
    sq = leaderboard_rows("mnist_sample_quality", load_results(results))
    assert [r["result"]["model"] for r in sq] == ["gan", "ddpm", "vae", "glow"]
    bpd = leaderboard_rows("mnist_bits_per_dim", load_results(results))
    # ddpm's figure is named a bound, so not this table's; the VAE's bound is under the key
    assert [r["result"]["model"] for r in bpd] == ["vae", "glow"]


def test_a_run_on_the_current_protocol_is_preferred_to_a_marked_one(tmp_path):
    """A Fréchet distance scored against the head of the split (†) is not comparable: the
    model's row and scatter point are its current-protocol run; a † run alone is marked."""
    res = tmp_path / "results"
    res.mkdir()
    (res / "glow-mnist-gpu.json").write_text(json.dumps(_result(
        "glow", "mnist", {"frechet_distance": 46.0}, frechet_reference="head")))
    (res / "glow-mnist.json").write_text(json.dumps(_result(
        "glow", "mnist", {"frechet_distance": 472.0})))
    (res / "realnvp-mnist-gpu.json").write_text(json.dumps(_result(
        "realnvp", "mnist", {"frechet_distance": 48.0}, frechet_reference="head")))
    rows = leaderboard_rows("mnist_sample_quality", load_results(res))
    by_model = {r["result"]["model"]: r for r in rows}
    assert by_model["glow"]["result"]["_file"] == "glow-mnist.json"
    assert by_model["glow"]["runs"] == 2 and not by_model["glow"]["marks"]
    assert by_model["realnvp"]["marks"]  # its only run: shown, marked
    points = {p["model"]: p for p in scatter_points(load_results(res))["mnist"]}
    assert points["glow"]["fd"] == 472.0
    page = write_html(res, tmp_path / "report.html").read_text()
    assert "48 †" in page and "46 †" not in page


def test_scatter_tells_exact_likelihoods_bounds_and_implicit_models_apart(results):
    points = {p["model"]: p for p in scatter_points(load_results(results))["mnist"]}
    assert {m: p["kind"] for m, p in points.items()} == {
        "glow": "exact", "ddpm": "bound", "vae": "bound", "gan": "none"}
    assert points["glow"]["bpd"] == 2.3 and points["gan"]["bpd"] is None


def test_sampling_speed_is_per_image(results):
    bars, totals = speed_bars(load_results(results))
    assert {b["model"]: b["seconds"] for b in bars} == pytest.approx({"glow": 0.01, "ddpm": 4.0})
    assert totals == []


def test_the_page_is_self_contained_with_every_figure_inlined(results, tmp_path):
    page = write_html(results, tmp_path / "report.html").read_text()
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page and "<link" not in page and "<script src" not in page
    # pixelcnn's named grid (glow names it too), ddpm's run samples, nade's and gan's figures
    # found by name; not the unrelated one
    assert page.count('<img class="sample"') == 5 and "unrelated_plot.png" not in page
    # each file's bytes once: glow's copy of pixelcnn's grid takes the first one's source
    assert page.count("data:image/png;base64,") == 4
    shared = re.findall(r'<img class="sample" alt="pixelcnn_grid.png" ([\w-]+="[^"]*")', page)
    assert shared[0].startswith('id="media-') and shared[1] == f'data-same="{shared[0][4:-1]}"'
    assert page.count('<svg class="curve"') == 2  # pixelcnn's own curves, ddpm's metrics.jsonl
    assert "Germain et al. 2015, Table 2" in page and "+0.5" in page  # gap beside the source
    assert page.count("upper bound on the NLL (the ELBO") == 1  # the VAE's bits/dim is marked


def test_a_missing_or_broken_results_folder_says_what_to_do(tmp_path):
    with pytest.raises(UserError, match="perceptzoo bench"):
        write_html(tmp_path / "nowhere", tmp_path / "r.html")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(UserError, match="bad.json is not valid JSON"):
        write_html(tmp_path, tmp_path / "r.html")


# ---------------------------------------------------------------- headless Chromium over CDP


class Browser:
    """Headless chromium and one page, driven over the DevTools protocol's websocket."""

    def __init__(self, width: int = 1280, height: int = 900, timeout: float = 30.0):
        from websockets.sync.client import connect

        self.profile = tempfile.mkdtemp(prefix="perceptzoo-chromium-")
        args = [CHROMIUM, "--headless=new", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--hide-scrollbars", "--mute-audio",
                "--remote-debugging-port=0", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stack = contextlib.ExitStack()
        self.timeout, self.next_id, self.events = timeout, 0, []
        try:
            self.ws = self.stack.enter_context(connect(self._page_socket(), max_size=None,
                                                       open_timeout=timeout))
            self.send("Page.enable")
            self.send("Runtime.enable")
        except BaseException:
            self.close()
            raise

    def _page_socket(self) -> str:
        """The websocket address of the browser's first page (its port from the profile)."""
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.time() + self.timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"{CHROMIUM} did not start (exit {self.proc.poll()})")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        while time.time() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as reply:
                pages = [t for t in json.load(reply) if t.get("type") == "page"]
            if pages:
                return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.1)
        raise RuntimeError(f"{CHROMIUM} opened no page")

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv(timeout=self.timeout))
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", url=url)
        deadline = time.time() + self.timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.time() > deadline:
                raise TimeoutError(f"{url} did not load")
            self.events.append(json.loads(self.ws.recv(timeout=self.timeout)))

    def js(self, expression: str):
        out = self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                        awaitPromise=True)
        if "exceptionDetails" in out:
            raise RuntimeError(f"{expression}: {out['exceptionDetails']}")
        return out["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click (mouse down and up) at the middle of the element."""
        box = self.js(f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
                      "e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
                      "return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1],
                      button="left", clickCount=1)

    def screenshot(self, path: Path, top: float = 0, height: float | None = None) -> Path:
        """`height` CSS pixels of the page from `top` (default: all of it)."""
        width, full = self.js("[document.documentElement.scrollWidth,"
                              " document.documentElement.scrollHeight]")
        self.js("window.scrollTo(0, 0)")
        height = min(full - top, height or full)
        clip = {"x": 0, "y": top, "width": width, "height": height, "scale": 1}
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True,
                         clip=clip)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        self.stack.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def _column(browser: Browser, task: str, col: int) -> list[str]:
    return browser.js(f"Array.from(document.querySelectorAll('table[data-task=\"{task}\"] tbody "
                      f"tr')).map(r => r.cells[{col}].textContent.trim().split(' ')[0])")


@pytest.mark.skipif(CHROMIUM is None, reason="headless test needs Debian's `chromium` package "
                    "(apt-get install chromium); .ci/run installs it")
def test_report_in_headless_chromium(results, tmp_path):
    page = write_html(results, tmp_path / "report.html")
    browser = Browser()
    try:
        browser.open(page.resolve().as_uri())
        tables = browser.js("Array.from(document.querySelectorAll('table.leaderboard'))"
                            ".map(t => [t.dataset.task, t.tBodies[0].rows.length])")
        assert tables == [["binarized_mnist_nll", 3], ["mnist_bits_per_dim", 2],
                          ["mnist_sample_quality", 4]]
        images = browser.js("Array.from(document.images).map(i => [i.complete, i.naturalWidth,"
                            " i.getBoundingClientRect().width])")
        assert len(images) == 5 and all(ok and w == 56 and shown > 0 for ok, w, shown in images)
        scatter = browser.js("(() => { const s = document.querySelector('svg.scatter');"
                             " const r = s.getBoundingClientRect();"
                             " return [r.width, r.height, Array.from(s.querySelectorAll("
                             "'g[data-kind]')).map(g => [g.dataset.kind,"
                             " g.querySelector('.point').getBBox().width])]; })()")
        assert scatter[0] > 300 and scatter[1] > 200
        assert sorted(k for k, _ in scatter[2]) == ["bound", "bound", "exact", "none"]
        assert all(w > 0 for _, w in scatter[2])
        # pixelcnn's two series from its result, ddpm's train and valid loss from its run
        assert browser.js("document.querySelectorAll('svg.curve polyline').length") == 4
        assert browser.js("document.querySelectorAll('svg.speed rect.bar').length") == 2

        task = "binarized_mnist_nll"
        assert _column(browser, task, 0) == ["pixelcnn", "made", "nade"]  # by NLL, best first
        heads = browser.js(f"Array.from(document.querySelectorAll('table[data-task=\"{task}\"]"
                           " thead th')).map(h => h.textContent)")
        assert heads[:6] == ["model", "dataset", "variant", "ours (test_nll_nats)", "published",
                             "gap"]
        assert heads[-4:] == ["train wall time", "device", "parameters", "commit"]
        wall = f'table[data-task="{task}"] thead th:nth-child({heads.index("train wall time") + 1})'
        browser.click(wall)
        assert _column(browser, task, 0) == ["nade", "made", "pixelcnn"]  # 300 s, 900 s, 7000 s
        assert browser.js(f"document.querySelector('{wall}').getAttribute('aria-sort')") \
            == "ascending"
        browser.click(wall)
        assert _column(browser, task, 0) == ["pixelcnn", "made", "nade"]
        browser.click(f'table[data-task="{task}"] thead th:nth-child(1)')  # text: by name
        assert _column(browser, task, 0) == ["made", "nade", "pixelcnn"]

        shot = browser.screenshot(tmp_path / "report.png")
        print(f"\nscreenshot of the report: {shot}")
        with Image.open(shot) as img:
            assert img.width >= 1000 and img.height > 900
            assert len(img.convert("L").resize((64, 64)).getcolors(4096) or []) > 8  # not blank
    finally:
        browser.close()


def docs_screenshot(out: Path, top_height: int = 1900) -> Path:
    """docs/report.png: the report of the real results in `benchmarks/results`, its top (the
    first leaderboards) above its charts section (the scatter and sampling speed), one grey
    rule between the two captures."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        page = write_html(root / "benchmarks" / "results", Path(tmp) / "report.html")
        browser = Browser(width=1530)
        try:
            browser.open(page.resolve().as_uri())
            start, end = browser.js("['scatter', 'models'].map(i => document.getElementById(i)"
                                    ".getBoundingClientRect().top + window.scrollY - 12)")
            head = browser.screenshot(Path(tmp) / "head.png", 0, top_height)
            charts = browser.screenshot(Path(tmp) / "charts.png", start, end - start)
        finally:
            browser.close()
        with Image.open(head) as a, Image.open(charts) as b:
            sheet = Image.new("RGB", (max(a.width, b.width), a.height + 6 + b.height), "#999")
            sheet.paste(a, (0, 0))
            sheet.paste(b, (0, a.height + 6))
            out.parent.mkdir(parents=True, exist_ok=True)
            sheet.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    return out


if __name__ == "__main__":
    if CHROMIUM is None:
        sys.exit("needs chromium (apt-get install chromium)")
    print(docs_screenshot(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/report.png")))


def test_a_result_whose_config_names_the_model_as_a_string_is_drawn(tmp_path):
    """Study scripts write `config.model` as the model's name: the page must still build."""
    folder = tmp_path / "results"
    folder.mkdir()
    result = _result("vae", "binarized_mnist", {"test_nll_nats": 99.2}, task="binarized_mnist_nll")
    result["config"] = {"model": "vae", "train": {"epochs": 20}}
    (folder / "vae-binarized_mnist.json").write_text(json.dumps(result))
    page = write_html(folder, tmp_path / "report.html").read_text()
    assert "99.2" in page
