"""`perceptzoo bench`: recipes as data, run-or-resume under a budget, one leaderboard.

- `recipe.py`    the Recipe dataclass, the leaderboard's tasks (TASKS) and the suites;
- `recipes/`     one module per family, each a list `RECIPES` (model, data, budget, the published
                 figure with its paper, table and row, and what is comparable);
- `harness.py`   runs recipes, each in its own process, resuming unfinished runs; writes results;
- `results.py`   the result-file schema (DESIGN.md), commit, device, training time, parameters;
- `metrics.py`   the real-vs-real Fréchet floor at the same sample size, class accuracy;
- `report.py`    the leaderboard (one table per task, one row per model) and BENCHMARKS.md;
- `html.py`      the self-contained HTML report (`perceptzoo report --out report.html`);
- `tensorboard.py` a run folder's scalars and samples as TensorBoard events (optional extra).

    perceptzoo bench --suite quick         # one model of every family, minutes on a laptop
    perceptzoo bench made --suite full     # every full-suite recipe of MADE
    perceptzoo report                      # BENCHMARKS.md from benchmarks/results/
"""
