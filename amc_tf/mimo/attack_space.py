"""The coordinates a cell attack works in, and the data domain it must stay in (D4, issue 12).

A cell attack's L∞ ball, its step α and its projection live in one coordinate space ``c``:

* ``metres``: ``c = x``, the reported positions themselves (the paper's text);
* ``normalized``: ``c = (T(x) − mean)/std``, the model's own standardised input, with ``T`` the
  identity or, for a dB-scaled model (the original MR network), ``10·log10`` — the space of the
  public models the paper attacked (``Input_tr_normalized``). ``mean``/``std`` are read from the
  model's :class:`~amc_tf.models.mimo_dnn.Standardize` layer, so an ε of 0.1 is 0.1 training
  standard deviations of every feature (≈ 14 m per coordinate in 500 m cells for a linear model).

The map is increasing per feature, so the sign of a gradient is the same in both spaces and the
data domain — every UE inside its own cell (the paper's x_adv ∈ 𝒳), :func:`cell_bounds` — is a box
in either. Gradients are taken in ``c`` by differentiating through the inverse map.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from amc_tf.config.mimo import EpsUnit, MimoSystemConfig
from amc_tf.errors import AttackError, ModelError
from amc_tf.mimo.geometry import bs_positions
from amc_tf.models.mimo_dnn import Standardize, ToDecibel, to_decibel
from amc_tf.runtime import tf

#: Floor of the dB map in metres (that of :class:`~amc_tf.models.mimo_dnn.ToDecibel`).
_DB_FLOOR_M = 1e-3


def eps_unit(value: EpsUnit | str) -> EpsUnit:
    """Resolve a unit name; unknown names raise :class:`AttackError`."""
    try:
        return EpsUnit(value)
    except ValueError:
        raise AttackError(f"unknown eps unit {value!r}; known: {[u.value for u in EpsUnit]}") from None


def cell_bounds(system: MimoSystemConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature box of the data domain: each UE's coordinates inside its own cell.

    Returns:
        ``(lo, hi)``, ``float32 [2·L·K]`` metres in the feature order of
        :func:`amc_tf.mimo.geometry.features` (x of every UE, then y).
    """
    bs = bs_positions(system)  # [L, 2]
    half = system.cell_side_m / 2
    centre = np.concatenate([np.repeat(bs[:, 0], system.ues_per_cell), np.repeat(bs[:, 1], system.ues_per_cell)])
    return (centre - half).astype(np.float32), (centre + half).astype(np.float32)


@dataclasses.dataclass(frozen=True, eq=False)
class InputSpace:
    """The attack coordinates of one model.

    Attributes:
        unit: ``metres`` or ``normalized``.
        mean, std: ``float64 [F]`` statistics of the model's standardisation (normalized only).
        db: The model standardises ``10·log10`` of the coordinates.
    """

    unit: EpsUnit
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    db: bool = False

    @classmethod
    def of(cls, model: Any, unit: EpsUnit | str) -> InputSpace:
        """The space of ``model`` in ``unit`` (normalized needs a :class:`Standardize` layer)."""
        unit = eps_unit(unit)
        if unit is EpsUnit.METRES:
            return cls(unit)
        layers = [layer for layer in model.layers if isinstance(layer, Standardize)]
        if len(layers) != 1:
            raise ModelError(
                f"eps_unit 'normalized' needs a model with one Standardize layer; {model.name!r} has {len(layers)}"
            )
        db = any(isinstance(layer, ToDecibel) for layer in model.layers)
        return cls(unit, np.asarray(layers[0].mean), np.asarray(layers[0].std), db)

    @property
    def key(self) -> tuple[str, bool]:
        """What a compiled gradient depends on besides the model."""
        return self.unit.value, self.db

    def encode(self, x: np.ndarray) -> np.ndarray:
        """Metres ``[N, F]`` → attack coordinates ``float32 [N, F]``."""
        if self.unit is EpsUnit.METRES:
            return np.asarray(x, dtype=np.float32)
        u = to_decibel(x) if self.db else np.asarray(x, dtype=np.float64)
        return ((u - self.mean) / self.std).astype(np.float32)

    def decode(self, c: np.ndarray) -> np.ndarray:
        """Attack coordinates ``[N, F]`` → metres ``float32 [N, F]``."""
        if self.unit is EpsUnit.METRES:
            return np.asarray(c, dtype=np.float32)
        u = self.mean + self.std * np.asarray(c, dtype=np.float64)
        return (10.0 ** (u / 10.0) if self.db else u).astype(np.float32)

    def decode_tf(self, c: Any) -> Any:
        """:meth:`decode` in TensorFlow (differentiable), ``float32``."""
        if self.unit is EpsUnit.METRES:
            return c
        u = tf.constant(self.mean, tf.float32) + tf.constant(self.std, tf.float32) * c
        return tf.pow(10.0, u / 10.0) if self.db else u

    def bounds(self, lo_m: np.ndarray, hi_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A box in metres as a box in attack coordinates (the map is increasing per feature)."""
        lo_m, hi_m = np.asarray(lo_m, dtype=np.float64), np.asarray(hi_m, dtype=np.float64)
        if self.db:
            lo_m = np.maximum(lo_m, _DB_FLOOR_M)
        return self.encode(lo_m[None])[0], self.encode(hi_m[None])[0]


def displacement_m(x: np.ndarray, x_adv: np.ndarray) -> dict[str, float]:
    """How far crafted positions moved, in metres: ``{"mean_abs": mean |Δ| per coordinate,
    "mean_linf": mean over examples of max |Δ|, "max_abs": largest |Δ|}``."""
    delta = np.abs(np.asarray(x_adv, dtype=np.float64) - np.asarray(x, dtype=np.float64))
    if delta.size == 0:
        return {"mean_abs": 0.0, "mean_linf": 0.0, "max_abs": 0.0}
    return {
        "mean_abs": float(delta.mean()),
        "mean_linf": float(delta.max(axis=1).mean()),
        "max_abs": float(delta.max()),
    }
