"""The named choices of the massive-MIMO configs (precoders, gain methods, normalisation, channel
draws, attack units, cell attacks and objectives), as string enums that YAML values validate into.
:mod:`amc_tf.config.mimo` re-exports them."""

from __future__ import annotations

from enum import Enum

from amc_tf.errors import ConfigError


class Precoder(str, Enum):
    """Downlink precoders: maximum ratio and multi-cell MMSE (book §4.1, §7.1)."""

    MR = "MR"
    MMMSE = "MMMSE"


def precoder(name: str | Precoder) -> Precoder:
    """Resolve a precoder name (unknown: :class:`ConfigError`)."""
    try:
        return Precoder(name)
    except ValueError:
        raise ConfigError(f"unknown precoder {name!r}; known: {[p.value for p in Precoder]}") from None


class CorrelationModel(str, Enum):
    """Local scattering: eq. 2.24's approximation (the dataset's) or eq. 2.23 by quadrature."""

    APPROX = "approx"
    EXACT = "exact"


class GainMethod(str, Enum):
    """MR terms by Monte Carlo with the book's per-realisation precoder normalisation (default), or
    in closed form (average normalisation: fast, own-UE variance 2–3.5× the book's, design D7)."""

    CLOSED_FORM = "closed_form"
    MONTE_CARLO = "monte_carlo"


class Normalisation(str, Enum):
    """Precoder normalisation in the Monte Carlo: ``w = v/‖v‖`` per realisation (the book's code)
    or ``w = v / sqrt(E‖v‖²)`` (the assumption under the MR closed form)."""

    INSTANTANEOUS = "instantaneous"
    AVERAGE = "average"


class ChannelDraws(str, Enum):
    """How the Monte Carlo draws the CN(0, I) samples behind each BS's channels.

    ``independent`` draws every (BS, UE) link separately, as the book's code does. ``shared_bs``
    draws one set per UE link index and colours it with each BS's own correlation factor: every
    BS's channels keep their exact joint distribution (each hardening-bound term involves the
    channels at one BS only — its own precoders and every UE's channel to it), so each term's
    estimate is unbiased with the same variance, while the Monte-Carlo errors of different BSs'
    terms become correlated. It draws L_bs times fewer samples, which are ~40 % of an MR setup.
    """

    SHARED_BS = "shared_bs"
    INDEPENDENT = "independent"


class EpsUnit(str, Enum):
    """Unit of the cell attacks' L∞ budgets, steps and projections (design D4).

    ``metres`` perturbs the reported positions in metres (the paper's text). ``normalized`` works
    in the model's standardised input space — ``(x − mean)/std`` per feature, or for a dB-scaled
    model ``(10·log10 x − mean)/std`` — which is what the paper's numbers were produced with: it
    attacked the public models that take ``Input_tr_normalized``. Results are reported in both.
    """

    METRES = "metres"
    NORMALIZED = "normalized"


class CellAttackName(str, Enum):
    """Cell attacks on the power regressor, one class each in :mod:`amc_tf.mimo.cell_attacks`."""

    FGSM = "FGSM"
    PGDM = "PGDM"
    MIFGSM = "MIFGSM"
    RANDOM = "RANDOM"


class AttackObjective(str, Enum):
    """What a cell attack maximises (:mod:`amc_tf.mimo.attack_objectives`)."""

    TOTAL_POWER = "total_power"
    REGRESSION_LOSS = "regression_loss"
