"""Every family's benchmark recipes: `all_recipes()` collects the `RECIPES` of each module here."""

from __future__ import annotations

import importlib
import pkgutil

from perceptzoo.bench.recipe import Recipe


def all_recipes() -> list[Recipe]:
    recipes: list[Recipe] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        recipes.extend(getattr(module, "RECIPES", []))
    names = [r.name for r in recipes]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"recipe names used twice: {dupes}")
    return recipes
