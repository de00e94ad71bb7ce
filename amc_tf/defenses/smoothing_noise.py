"""The noise of randomized smoothing: σ from the config, and seeded, batched Monte-Carlo counts.

Each window's noise comes from its own generator ``SeedSequence([seed, phase, index])``, so a
certificate depends only on the seed, the phase (selection or estimation), the window's index,
the number of draws and the batch size, never on global random state. Several windows' noisy
copies share a forward pass when few draws are needed; many draws split over passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from amc_tf.config.certify import SmoothingConfig
from amc_tf.errors import ConfigError
from amc_tf.progress import Progress
from amc_tf.runtime import keras, tf

#: Sampling phases: selection (n0) and estimation (n) draw from independent streams.
SELECTION, ESTIMATION = 0, 1


def mean_power(x: np.ndarray) -> float:
    """Mean power per real component ``mean(x²)`` of windows ``[N, 2, L]`` (input units squared)."""
    return float(np.mean(np.square(np.asarray(x, dtype=np.float64)))) if np.size(x) else 0.0


def resolve_sigma(config: SmoothingConfig, x: np.ndarray) -> float:
    """The absolute σ of ``config`` for the windows ``x`` (``nsr_db``: relative to their mean power)."""
    try:
        return config.sigma_for(mean_power(x))
    except ValueError as err:
        raise ConfigError(f"smoothing sigma: {err}") from None


def forward_classes(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """``x -> argmax f(x)`` through one compiled inference pass (retraced only on new shapes)."""
    fn = tf.function(lambda t: tf.argmax(model(t, training=False), axis=1, output_type=tf.int32), reduce_retracing=True)
    return lambda batch: fn(tf.convert_to_tensor(batch)).numpy()


def _example_rng(seed: int, phase: int, index: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), phase, int(index)]))


def _blocks(n_examples: int, draws: int, batch_size: int) -> Iterator[tuple[int, int, int]]:
    """``(first, last, k)``: examples ``[first, last)`` each take ``k`` more draws in one forward pass.

    Small ``draws`` pack several examples per pass; large ones split one example over passes.
    """
    if draws <= batch_size:
        group = max(1, batch_size // draws)
        for start in range(0, n_examples, group):
            yield start, min(n_examples, start + group), draws
        return
    for i in range(n_examples):
        for done in range(0, draws, batch_size):
            yield i, i + 1, min(batch_size, draws - done)


def noisy_counts(
    classes_of: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    sigma: float,
    draws: int,
    n_classes: int,
    *,
    seed: int,
    phase: int,
    batch_size: int,
    progress: Progress | None = None,
) -> np.ndarray:
    """Class counts of the base classifier on ``draws`` noisy copies of each window.

    Example ``i``'s noise comes from its own generator ``SeedSequence([seed, phase, i])`` and is
    drawn in order, so its counts depend only on the seed, the phase, its index and ``draws``.

    Args:
        classes_of: ``float32 [M, 2, L] -> int [M]`` base-classifier decisions.
        x: Windows ``float32 [N, 2, L]``.
        sigma: Noise standard deviation per real component (input units).
        draws: Noisy copies per window.
        n_classes: Number of classes ``C``.
        seed: Root seed of the noise.
        phase: :data:`SELECTION` or :data:`ESTIMATION` (independent streams).
        batch_size: Noisy windows per forward pass.
        progress: Counts finished examples when given.

    Returns:
        ``int64 [N, C]`` counts; each row sums to ``draws``.
    """
    counts = np.zeros((x.shape[0], n_classes), np.int64)
    rngs: dict[int, np.random.Generator] = {}
    for first, last, k in _blocks(x.shape[0], draws, batch_size):
        noise = np.concatenate(
            [
                rngs.setdefault(i, _example_rng(seed, phase, i)).standard_normal((k, *x.shape[1:]), np.float32)
                for i in range(first, last)
            ]
        )
        batch = np.repeat(x[first:last], k, axis=0) + np.float32(sigma) * noise
        decided = classes_of(batch).astype(np.int64)
        owner = np.repeat(np.arange(last - first), k)
        counts[first:last] += np.bincount(owner * n_classes + decided, minlength=(last - first) * n_classes).reshape(
            last - first, n_classes
        )
        if counts[last - 1].sum() == draws:  # the block finished its examples
            for i in range(first, last):
                rngs.pop(i, None)
            if progress is not None:
                progress.update(last - first)
    return counts


__all__ = ["ESTIMATION", "SELECTION", "forward_classes", "mean_power", "noisy_counts", "resolve_sigma"]
