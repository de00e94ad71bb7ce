"""Transferability of adversarial examples between classifiers: a source × target accuracy matrix.

Examples crafted white-box on one *source* model (true labels, a PNR budget per example from its
SNR label, design D4) are fed to every *target* model; the accuracy each target keeps on them is
one cell of the matrix, one matrix per PNR. The diagonal is the white-box robust accuracy; an
off-diagonal cell near the target's clean accuracy says the attack does not transfer, one near
the diagonal says the two models share their adversarial directions — the black-box threat when
an attacker only has a surrogate (Papernot et al., "Transferability in machine learning", 2016;
the AMC papers compare VT-CNN2, compressed and transformer classifiers this way). Each source is
attacked once per PNR, so the cost is ``sources x PNRs`` attacks plus cheap forward passes.

:func:`transferability_matrix` computes a :class:`Transferability`; :func:`transferability_figure`
draws it as heat-maps (rows = source, columns = target, one panel per PNR).
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from amc_tf.attacks.base import check_classifier
from amc_tf.attacks.budgets import Budget, LinfConvention, audit
from amc_tf.attacks.compiled import logits_fn
from amc_tf.attacks.registry import build_attack
from amc_tf.attacks.settings import AttackSettings
from amc_tf.errors import ConfigError
from amc_tf.io import write_json
from amc_tf.models.inference import predict_classes
from amc_tf.progress import say
from amc_tf.results import Result
from amc_tf.runtime import keras


@dataclasses.dataclass(frozen=True)
class Transferability(Result):
    """Accuracy of every target model on the adversarial examples of every source model.

    Attributes:
        sources: Models the examples were crafted on (rows), in the caller's order.
        targets: Models the examples were evaluated on (columns), in the caller's order.
        pnr_db: The budgets (dB PNR), one matrix each.
        accuracy: ``accuracy[pnr][source][target]`` in [0, 1]; ``pnr`` is a float of ``pnr_db``.
        clean: Clean accuracy of each target on the same examples.
        n_examples: Examples attacked (the same for every source).
        attack: The attack's settings (name, norm, run options, its own settings; no budget).
        audit_ok: Every crafted perturbation within its budget and finite.
        seconds: Wall time of the whole matrix.
    """

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    pnr_db: tuple[float, ...]
    accuracy: dict[float, dict[str, dict[str, float]]]
    clean: dict[str, float]
    n_examples: int
    attack: dict[str, Any]
    audit_ok: bool = True
    seconds: float = 0.0

    @property
    def diagonal(self) -> dict[float, dict[str, float]]:
        """``{pnr: {model: white-box accuracy}}`` for every model that is both source and target."""
        both = [name for name in self.sources if name in self.targets]
        return {pnr: {name: self.accuracy[pnr][name][name] for name in both} for pnr in self.pnr_db}

    def matrix(self, pnr: float) -> np.ndarray:
        """``float64 [sources, targets]`` accuracies at ``pnr`` (rows and columns in field order)."""
        table = self.accuracy[float(pnr)]
        return np.array([[table[src][dst] for dst in self.targets] for src in self.sources], dtype=np.float64)

    def to_json(self) -> dict[str, Any]:
        """JSON form; the PNR keys of ``accuracy`` become strings (``"-10"``), as JSON needs."""
        out = super().to_json()
        out["accuracy"] = {_pnr_key(pnr): table for pnr, table in self.accuracy.items()}
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Transferability:
        """Rebuild a result from :meth:`to_json` (after a JSON round trip)."""
        pnr_db = tuple(float(p) for p in data["pnr_db"])
        return cls(
            sources=tuple(data["sources"]),
            targets=tuple(data["targets"]),
            pnr_db=pnr_db,
            accuracy={pnr: data["accuracy"][_pnr_key(pnr)] for pnr in pnr_db},
            clean=dict(data["clean"]),
            n_examples=int(data["n_examples"]),
            attack=dict(data["attack"]),
            audit_ok=bool(data["audit_ok"]),
            seconds=float(data["seconds"]),
        )

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_json` atomically."""
        return write_json(path, self.to_json())

    def metrics(self) -> dict[str, float]:
        """Flat metrics for MLflow: ``transfer.<source>.<target>.acc.pnr<pnr>`` and ``clean.<target>.acc``."""
        out = {f"clean.{name}.acc": acc for name, acc in self.clean.items()}
        for pnr, table in self.accuracy.items():
            for src, row in table.items():
                out.update({f"transfer.{src}.{dst}.acc.pnr{pnr:g}": acc for dst, acc in row.items()})
        return {**out, "audit_ok": float(self.audit_ok), "seconds": self.seconds}


def _pnr_key(pnr: float) -> str:
    return f"{float(pnr):g}"


def _check_models(models: Mapping[str, keras.Model], x: np.ndarray) -> int:
    """The common number of classes; :class:`ConfigError` naming the model that does not fit ``x``
    or the others."""
    if not models:
        raise ConfigError("a transferability matrix needs at least one model")
    counts = {}
    for name, model in models.items():
        n_classes, window = check_classifier(model)
        if x.shape[1:] != (2, window):
            raise ConfigError(f"model {name!r} takes windows [N, 2, {window}], but x has shape {x.shape}")
        counts[name] = n_classes
    if len(set(counts.values())) > 1:
        described = ", ".join(f"{name!r}: {n}" for name, n in counts.items())
        raise ConfigError(f"every model must have the same number of classes; got {described}")
    return next(iter(counts.values()))


def _check_data(x: Any, y: Any, snr: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, snr = np.asarray(x), np.asarray(y), np.asarray(snr)
    if x.ndim != 3 or x.shape[1] != 2:
        raise ConfigError(f"x must be I/Q windows [N, 2, L], got shape {x.shape}")
    if y.shape != (x.shape[0],) or snr.shape != (x.shape[0],):
        raise ConfigError(
            f"x, y and snr must hold one entry per example: got {x.shape[0]} windows, y {y.shape}, snr {snr.shape}"
        )
    if x.shape[0] == 0:
        raise ConfigError("a transferability matrix needs at least one example")
    if not np.issubdtype(y.dtype, np.integer):
        raise ConfigError(f"y must be integer class indices, got dtype {y.dtype}")
    return x.astype(np.float32, copy=False), y.astype(np.int64, copy=False), snr


def _check_grid(pnr_db: float | Sequence[float]) -> tuple[float, ...]:
    try:
        grid = tuple(float(p) for p in np.atleast_1d(np.asarray(pnr_db, dtype=np.float64)))
    except (TypeError, ValueError):
        raise ConfigError(f"pnr_db must be a number or a list of numbers (dB), got {pnr_db!r}") from None
    if not grid:
        raise ConfigError("pnr_db must hold at least one PNR (dB)")
    if not all(np.isfinite(grid)):
        raise ConfigError(f"every PNR must be a finite number of dB, got {list(grid)}")
    if len({_pnr_key(p) for p in grid}) != len(grid):
        raise ConfigError(f"pnr_db must not repeat a value, got {list(grid)}")
    return grid


def transferability_matrix(
    models: Mapping[str, keras.Model],
    x: np.ndarray,
    y: np.ndarray,
    snr: np.ndarray,
    *,
    attack: str | AttackSettings,
    pnr_db: float | Sequence[float],
    sources: Sequence[str] | None = None,
    linf: LinfConvention | str = LinfConvention.ENERGY_MATCHED,
    batch_size: int = 256,
    seed: int = 0,
    progress: bool = False,
) -> Transferability:
    """Craft adversarial examples on each source model and evaluate every model on them.

    Every source is attacked white-box with the true labels, once per PNR, with the same attack
    settings and ``seed``, so the diagonal is exactly what the attack alone measures on that model.
    A universal attack is fitted on ``x`` itself (its PNR budget then needs one SNR); a minimal one
    (DeepFool) is projected onto each PNR's ball.

    Args:
        models: ``{name: logits classifier}``, all taking ``x``'s windows and with one class count;
            every model is a target (the columns, in this order).
        x: Clean windows ``float32 [N, 2, L]``.
        y: True labels ``int [N]``.
        snr: Nominal SNR labels ``int [N]`` (dB); each example's budget is read from its own.
        attack: Registry name, or a settings model (e.g. ``PGDL2Settings(steps=20)``).
        pnr_db: One PNR or several (dB); one matrix per value.
        sources: Names of the models to craft on (the rows; default every model).
        linf: How L∞ attacks read each PNR's radius (:class:`~amc_tf.attacks.budgets.LinfConvention`).
        batch_size: Examples per compiled call of the attack and of the forward passes.
        seed: Seed of the attack (PGD's random start, ...).
        progress: Print one line per source and PNR on stderr.

    Returns:
        The :class:`Transferability` (``accuracy[pnr][source][target]``, ``clean[target]``).

    Raises:
        ConfigError: no model, a model that does not take ``x`` or differs in class count (named),
            mismatched lengths of ``x``/``y``/``snr``, labels out of range, a bad PNR grid or an
            unknown source.
        AttackError: an unknown attack or bad attack setting.
        ModelError: a model that is not an I/Q logits classifier.
    """
    start = time.perf_counter()
    x, y, snr = _check_data(x, y, snr)
    n_classes = _check_models(models, x)
    if y.min() < 0 or y.max() >= n_classes:
        raise ConfigError(f"labels must lie in [0, {n_classes - 1}], found [{y.min()}, {y.max()}]")
    grid = _check_grid(pnr_db)
    rows = tuple(models) if sources is None else tuple(sources)
    unknown = [name for name in rows if name not in models]
    if unknown or not rows:
        raise ConfigError(f"sources must be names of the models {sorted(models)}; got {list(rows)}")

    def correct(name: str, windows: np.ndarray) -> np.ndarray:
        return predict_classes(logits_fn(models[name]), windows, batch_size) == y

    clean = {name: float(correct(name, x).mean()) for name in models}
    accuracy: dict[float, dict[str, dict[str, float]]] = {pnr: {} for pnr in grid}
    settings: dict[str, Any] = {}
    audit_ok = True
    for src in rows:
        for pnr in grid:
            crafted = build_attack(attack, models[src], budget=Budget.pnr(pnr, linf), batch_size=batch_size, seed=seed)
            x_adv = crafted.generate(x, y, snr=snr)
            radius = np.full(len(x), crafted.radius) if crafted.universal else crafted.resolve_radius(x, snr)
            checked = audit(x, x_adv, radius, crafted.norm, snr)
            audit_ok = audit_ok and checked.ok
            settings = {k: v for k, v in crafted.settings().items() if k != "budget"}
            accuracy[pnr][src] = {dst: float(correct(dst, x_adv).mean()) for dst in models}
            if progress:
                row = ", ".join(f"{dst} {acc:.3f}" for dst, acc in accuracy[pnr][src].items())
                say("transfer", f"{settings['name']} on {src} at {pnr:g} dB PNR: {row}")
    if not audit_ok:
        warnings.warn("transferability: a crafted perturbation is over its budget or not finite", stacklevel=2)
    return Transferability(
        sources=rows,
        targets=tuple(models),
        pnr_db=grid,
        accuracy=accuracy,
        clean=clean,
        n_examples=int(x.shape[0]),
        attack=settings,
        audit_ok=audit_ok,
        seconds=time.perf_counter() - start,
    )


def plot_transferability(result: Transferability):
    """Heat-maps of ``result``: rows = source, columns = target (with its clean accuracy), cells
    annotated, one panel per PNR. Returns the Figure."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n_rows, n_cols = len(result.sources), len(result.targets)
    width, height = 1.1 * n_cols + 2.2, 0.8 * n_rows + 1.8
    fig, axes = plt.subplots(
        1, len(result.pnr_db), figsize=(width * len(result.pnr_db), height), squeeze=False, layout="constrained"
    )
    columns = [f"{name}\n(clean {result.clean[name]:.2f})" for name in result.targets]
    image = None
    for ax, pnr in zip(axes[0], result.pnr_db):
        grid = result.matrix(pnr)
        image = ax.imshow(grid, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        for i in range(n_rows):
            for j in range(n_cols):
                colour = "black" if grid[i, j] > 0.6 else "white"
                weight = "bold" if result.sources[i] == result.targets[j] else "normal"
                ax.text(j, i, f"{grid[i, j]:.2f}", ha="center", va="center", fontsize=9, color=colour, weight=weight)
        ax.set_xticks(range(n_cols), labels=columns, fontsize=8)
        ax.set_yticks(range(n_rows), labels=result.sources, fontsize=8)
        ax.set_xlabel("evaluated on (target)")
        ax.set_ylabel("crafted on (source)")
        ax.set_title(f"{result.attack.get('name', 'attack')} at {pnr:g} dB PNR", fontsize=10)
    fig.colorbar(image, ax=axes[0].tolist(), fraction=0.046, pad=0.04, label="accuracy")
    fig.suptitle(f"Transferability, {result.n_examples} examples (diagonal: white-box)", fontsize=10)
    return fig


def transferability_figure(result: Transferability, path: str | Path) -> Path:
    """Write :func:`plot_transferability` of ``result`` as a PNG at ``path`` (atomically)."""
    from amc_tf.evaluation.rejection_plots import save_png

    return save_png(plot_transferability(result), path)


__all__ = ["Transferability", "plot_transferability", "transferability_figure", "transferability_matrix"]
