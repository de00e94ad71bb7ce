"""Dataset caching keyed by the generator config hash (design D6).

A generated dataset is written once to ``<cache_dir>/<family>-<config_hash>-<code>.npz``
(atomically), where ``<code>`` digests the generator's source files, so editing the generator
invalidates old caches
and reused by every later run with the same generator config, so a rerun or resumed flow skips
generation. A cache file that fails to load (truncated, altered) is regenerated, not trusted.
"""

from __future__ import annotations

import sys
from pathlib import Path

from amc_tf.config.data import DataSpec
from amc_tf.data.dataset import IQDataset, load_dataset, save_dataset
from amc_tf.errors import DatasetError

_GENERATOR_MODULES = ("synthetic", "modulators", "modulations", "channel", "sources")


def generator_code_digest() -> str:
    """sha256 (8 hex digits) of the synthetic generator's source files."""
    import hashlib

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _GENERATOR_MODULES:
        path = here / f"{name}.py"
        if path.is_file():
            h.update(path.read_bytes())
    return h.hexdigest()[:8]


def cache_path(spec: DataSpec) -> Path:
    """Cache file of the generator config of ``spec`` (synthetic sources only)."""
    gen = spec.generator()
    if gen is None:
        raise DatasetError("only synthetic datasets are cached; file datasets are read in place")
    return Path(spec.cache_dir) / f"{gen.family}-{gen.config_hash()}-{generator_code_digest()}.npz"


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
            print(f"cache file {path} unusable ({err}); regenerating", file=sys.stderr)
    ds = generate(spec.generator(), progress=progress)
    save_dataset(ds, path)
    return ds, path, False
