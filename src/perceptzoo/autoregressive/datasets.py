"""Datasets this family brings, made loadable by name until `perceptzoo.data` lists them.

`bars_stripes` (`perceptzoo.data.bars_stripes`: tiny binary images with a known distribution,
the default of the tabular model) and `fsdd` (`perceptzoo.data.fsdd`: real speech as mu-law
codes, the default of WaveNet). `install()` adds them to `perceptzoo.data.load` / `data.info`
when the data package does not know them yet; it changes nothing once it does.
"""

from __future__ import annotations

from perceptzoo import data
from perceptzoo.data import bars_stripes, fsdd

INFOS = {"bars_stripes": bars_stripes.INFO, "fsdd": fsdd.INFO}


def install() -> None:
    loaders = data._LOADERS  # noqa: SLF001  (the data package's own table of loaders)
    loaders.setdefault("bars_stripes", lambda split, root: bars_stripes.load(split))
    loaders.setdefault("fsdd", lambda split, root: fsdd.load(split, root))
    if getattr(data.info, "_autoregressive_datasets", False):
        return
    base_info = data.info

    def info(name: str, data_dir=None):
        if name in INFOS:
            return INFOS[name]
        return base_info(name, data_dir)

    info._autoregressive_datasets = True
    info.__doc__ = base_info.__doc__
    data.info = info
