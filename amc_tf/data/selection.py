"""Validation of a (classes, SNRs, max-per-key) selection of a RadioML file, shared by the
RML2016 and RML2018 loaders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from amc_tf.errors import DatasetError

Selection = tuple[tuple[str, ...] | None, tuple[int, ...] | None, int | None]


def check_selection(
    classes: Sequence[str] | None,
    snrs: Sequence[int] | None,
    max_per_key: int | None,
    known_classes: Sequence[str],
    source: str,
) -> Selection:
    """Validate a (classes, SNRs, max-per-key) selection against a source's class vocabulary.

    Args:
        classes: Class names to keep, in the order their new indices should follow; None = all.
        snrs: SNR labels (dB) to keep; None = all.
        max_per_key: Keep at most this many windows per (class, SNR) key, in file order; None = all.
        known_classes: The source's class names.
        source: Source name used in messages (e.g. ``"RML2016.10a"``).

    Returns:
        The same three values as tuples / int, or None where no selection was asked.

    Raises:
        DatasetError: unknown class names, duplicates, non-integer SNRs, or ``max_per_key < 1``.
    """
    if classes is not None:
        classes = tuple(classes)
        if not classes:
            raise DatasetError("empty class selection: give at least one class name")
        bad_type = [c for c in classes if not isinstance(c, str)]
        if bad_type:
            raise DatasetError(f"class names must be strings, got {bad_type}")
        unknown = [c for c in classes if c not in known_classes]
        if unknown:
            raise DatasetError(f"unknown class name(s) {unknown} for {source}; known classes are {list(known_classes)}")
        dupes = sorted({c for c in classes if classes.count(c) > 1})
        if dupes:
            raise DatasetError(f"class name(s) {dupes} given more than once")
    if snrs is not None:
        snrs = tuple(snrs)
        if not snrs:
            raise DatasetError("empty SNR selection: give at least one SNR in dB")
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in snrs):
            raise DatasetError(f"SNRs must be integers (dB), got {list(snrs)}")
        snrs = tuple(sorted({int(s) for s in snrs}))
    if max_per_key is not None:
        if not isinstance(max_per_key, (int, np.integer)) or isinstance(max_per_key, bool) or max_per_key < 1:
            raise DatasetError(f"max_per_key must be a positive integer, got {max_per_key!r}")
        max_per_key = int(max_per_key)
    return classes, snrs, max_per_key
