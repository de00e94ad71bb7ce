"""The dataset a data spec describes, generated once and then read from the cache (design D6).

A synthetic dataset is an entry of the project's one cache (:mod:`amc_tf.cache`), named by its
family, the hash of its generator config and the digest of the generator's source, so editing
either makes a new entry and an unchanged rerun reads the old one. A cache file that fails to
load (truncated, altered) is regenerated, not trusted. File datasets (``data.path``) are read
in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from amc_tf import cache
from amc_tf.data.dataset import IQDataset, load_dataset, save_dataset
from amc_tf.errors import DatasetError
from amc_tf.progress import say

if TYPE_CHECKING:  # the spec is passed in; data/ does not import the config layer at run time
    from amc_tf.config.data import DataSpec

#: The modules whose source determines a synthetic dataset.
GENERATOR_CODE = (
    "amc_tf.data.synthetic",
    "amc_tf.data.modulators",
    "amc_tf.data.modulations",
    "amc_tf.data.channel",
    "amc_tf.data.sources",
)


def cache_path(spec: DataSpec) -> Path:
    """Cache file of the generator config of ``spec`` (synthetic sources only)."""
    gen = spec.generator()
    if gen is None:
        raise DatasetError("only synthetic datasets are cached; file datasets are read in place")
    return cache.entry_path(spec.cache_dir, gen.family, gen, GENERATOR_CODE, suffix=".npz")


def materialise(spec: DataSpec, *, progress: bool = True) -> tuple[IQDataset, Path, bool]:
    """Load or generate the dataset described by ``spec``.

    Returns:
        ``(dataset, path, cache_hit)`` — ``path`` is the ``.npz`` the data lives in;
        ``cache_hit`` is True when nothing had to be generated.
    """
    if spec.path is not None:
        ds = load_dataset(spec.path)
        if spec.classes is not None or spec.snrs is not None:
            ds = ds.select(spec.classes, spec.snrs)
            if len(ds) == 0:
                raise DatasetError(f"{spec.path}: no example matches classes={spec.classes} snrs={spec.snrs}")
        return ds, Path(spec.path), True
    from amc_tf.data.synthetic import generate

    path = cache_path(spec)
    if path.is_file():
        try:
            return load_dataset(path), path, True
        except DatasetError as err:
            say("data", f"cache file {path} unusable ({err}); regenerating")
    ds = generate(spec.generator(), progress=progress)
    save_dataset(ds, path)
    return ds, path, False
