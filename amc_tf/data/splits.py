"""Seeded splits stratified by (class, SNR) (design D2).

scikit-learn's ``train_test_split(stratify=...)`` does the per-stratum bookkeeping; this module
only builds the joint (class, SNR) key and chains two splits for train/validation/test.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from amc_tf.data.dataset import IQDataset
from amc_tf.errors import ConfigError


def stratify_key(ds: IQDataset) -> np.ndarray:
    """One integer per example identifying its (class, SNR) stratum."""
    snr_index = np.searchsorted(np.array(ds.snrs), ds.snr)
    return ds.y.astype(np.int64) * len(ds.snrs) + snr_index


def stratified_split(ds: IQDataset, *, train: float, val: float, test: float, seed: int) -> dict[str, IQDataset]:
    """Split ``ds`` into train / val / test, each stratum split in the same proportions.

    Args:
        ds: The dataset.
        train, val, test: Fractions summing to 1 (``val`` may be 0: no validation split).
        seed: Seed of the shuffles.

    Returns:
        ``{"train": ..., "val": ... (absent if val == 0), "test": ...}``.
    """
    fr = {"train": train, "val": val, "test": test}
    if any(v < 0 for v in fr.values()) or abs(sum(fr.values()) - 1.0) > 1e-6:
        raise ConfigError(f"split fractions must be >= 0 and sum to 1, got {fr}")
    if train <= 0 or test <= 0:
        raise ConfigError("split fractions for train and test must be > 0")
    key = stratify_key(ds)
    n_strata = len(np.unique(key))
    idx = np.arange(len(ds))
    for name, frac in fr.items():
        if frac > 0 and frac * len(ds) < n_strata:
            raise ConfigError(
                f"split '{name}' ({frac:.3f} of {len(ds)} examples) is smaller than the number of "
                f"(class, SNR) strata ({n_strata}); use more windows per key"
            )
    rest_idx, test_idx = train_test_split(idx, test_size=test, random_state=seed, stratify=key)
    out = {"test": ds.subset(np.sort(test_idx))}
    if val > 0:
        train_idx, val_idx = train_test_split(
            rest_idx, test_size=val / (train + val), random_state=seed + 1, stratify=key[rest_idx]
        )
        out["val"] = ds.subset(np.sort(val_idx))
    else:
        train_idx = rest_idx
    out["train"] = ds.subset(np.sort(train_idx))
    return out
