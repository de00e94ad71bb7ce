"""The names and layer widths of the two seed-table power regressors (D7), as plain data: the
config layer validates architecture names against them without importing TensorFlow, and
:mod:`amc_tf.models.mimo_dnn` builds the networks from them."""

from __future__ import annotations

from enum import Enum


class Arch(str, Enum):
    """The two seed-table regressors."""

    M1 = "M1"
    M2 = "M2"


#: Hidden widths before the 5-unit layer.
HIDDEN: dict[Arch, tuple[int, ...]] = {Arch.M1: (64, 32, 32, 32), Arch.M2: (512, 256, 128, 128)}
#: Parameter counts of the seed tables.
PARAMS: dict[Arch, int] = {Arch.M1: 6_981, Arch.M2: 202_373}
