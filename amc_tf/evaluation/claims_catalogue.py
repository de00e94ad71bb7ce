"""The headline claims of the five papers, each with the paper's number, how our number is read
from a run's metrics, and the rule that decides whether it supports the claim (the report built
from them is :mod:`amc_tf.evaluation.claims`).

Paper numbers are those of ``docs/references`` and of the modules that reproduce them
(:mod:`amc_tf.defenses.defend_table`, :mod:`amc_tf.defenses.hybrid`); metric names are those the
flows log (the defend table's ``clean_<model>`` / ``pgd_gain_<model>`` / ``direction_*``, the
hybrid flow's ``<defence>.robust.pnr<P>``, the MIMO flow's ``<prec>_<arch>_<training>_<attack>_success``,
the robust_distill flow's ``margin_pt_<attack>`` / ``direction_*``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

Evidence = Mapping[str, float]

HOLDS, FAILS, UNMEASURED = "holds", "does not hold", "not measured"


@dataclasses.dataclass(frozen=True)
class Claim:
    """One headline claim.

    Attributes:
        key: Stable identifier (the metric names of the report use it).
        paper: Which paper.
        statement: The claim, as the paper makes it.
        paper_value: The paper's number, as text.
        kinds: Pipeline kinds whose runs measure it (the first with a run is used).
        unit: Unit of our number.
        ours: Our number from a run's evidence (None when the evidence lacks it).
        rule: When our number supports the claim (text, shown in the report).
        holds: The rule.
    """

    key: str
    paper: str
    statement: str
    paper_value: str
    kinds: tuple[str, ...]
    unit: str
    ours: Callable[[Evidence], float | None]
    rule: str
    holds: Callable[[float], bool]


def _metric(name: str, scale: float = 1.0) -> Callable[[Evidence], float | None]:
    return lambda ev: None if name not in ev else scale * float(ev[name])


def _diff(a: str, b: str, scale: float = 100.0) -> Callable[[Evidence], float | None]:
    return lambda ev: None if a not in ev or b not in ev else scale * (float(ev[a]) - float(ev[b]))


def _best(suffix: str, prefix_part: str = "") -> Callable[[Evidence], float | None]:
    """The largest metric ending in ``suffix`` (and containing ``prefix_part``), in percent."""

    def measure(ev: Evidence) -> float | None:
        values = [float(v) for k, v in ev.items() if k.endswith(suffix) and prefix_part in k]
        return 100.0 * max(values) if values else None

    return measure


def _pair_gap(standard: str, adversarial: str, suffix: str) -> Callable[[Evidence], float | None]:
    """Largest (standard − adversarially trained) gap over the MIMO model sets, in points."""

    def measure(ev: Evidence) -> float | None:
        gaps = [
            100.0 * (float(v) - float(ev[k.replace(standard, adversarial)]))
            for k, v in ev.items()
            if k.endswith(suffix) and f"_{standard}_" in k and k.replace(standard, adversarial) in ev
        ]
        return max(gaps) if gaps else None

    return measure


AMC = "AMC compression + adversarial training (KD, Net-Trim, AT)"
HYB = "Hybrid training and rejection (CAT, LS-GNA, neural rejection)"
MIMO = "Adversarial attacks on massive-MIMO power allocation"
UAP = "PCA-based universal perturbations (Sadeghi & Larsson 2019)"
ATT = "Attention-based adversarial robust distillation (MCformer)"
_CLASSIFIER_KINDS = ("pipeline", "defend")
#: (rule, holds) pairs shared by several claims.
_POSITIVE = ("ours > 0", lambda v: v > 0.0)
_NON_NEGATIVE = ("ours ≥ 0", lambda v: v >= 0.0)
_TRUE = ("true", lambda v: v > 0.5)

CLAIMS: tuple[Claim, ...] = (
    Claim(
        "kd_raises_clean",
        AMC,
        "Hinton KD raises the student's clean accuracy (f_D over f_S, 10 dB)",
        "+4.66 pt (77.97 vs 73.31 %)",
        _CLASSIFIER_KINDS,
        "pt",
        _diff("clean_f_D", "clean_f_S", 1.0),
        *_POSITIVE,
    ),
    Claim(
        "nettrim_keeps_accuracy",
        AMC,
        "Net-Trim keeps the distilled student's accuracy (f_P vs f_D, 10 dB)",
        "−0.90 pt (77.07 vs 77.97 %)",
        _CLASSIFIER_KINDS,
        "pt",
        _diff("clean_f_P", "clean_f_D", 1.0),
        "ours ≥ −2 pt",
        lambda v: v >= -2.0,
    ),
    Claim(
        "at_clean_drop_least_f_D",
        AMC,
        "Adversarial training costs f_D the least clean accuracy",
        "2.36 pt (f_P 3.66, f_S 6.33)",
        _CLASSIFIER_KINDS,
        "bool",
        _metric("direction_clean_drop_least_f_D"),
        *_TRUE,
    ),
    Claim(
        "at_raises_pgd_f_S",
        AMC,
        "Adversarial training raises f_S's accuracy under PGD",
        "Fig. 3",
        _CLASSIFIER_KINDS,
        "bool",
        _metric("direction_at_raises_pgd_linf_f_S"),
        *_TRUE,
    ),
    Claim(
        "pgd_gain_f_D_adv",
        AMC,
        "Under PGD at 0 dB PNR, f_D^adv is above f_S^adv",
        "≈ +20 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("pgd_gain_f_D_adv"),
        *_POSITIVE,
    ),
    Claim(
        "pgd_gain_f_P_adv",
        AMC,
        "Under PGD at 0 dB PNR, f_P^adv is above f_S^adv",
        "≈ +20 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("pgd_gain_f_P_adv"),
        *_POSITIVE,
    ),
    Claim(
        "fgm_gain_f_D_adv",
        AMC,
        "Under FGM (mean over the PNR grid), f_D^adv is above f_S^adv",
        "≈ +12 pt",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("fgm_gain_f_D_adv"),
        *_POSITIVE,
    ),
    Claim(
        "compression_ratio",
        AMC,
        "Net-Trim + gzip makes f_P much smaller than f_S",
        "(sparsity, not a ratio, in the paper)",
        ("pipeline", "compress"),
        "×",
        _metric("gzip_ratio_fP_over_fS"),
        "ours < 1",
        lambda v: v < 1.0,
    ),
    Claim(
        "uap_beats_noise",
        UAP,
        "The SVD universal perturbation lowers accuracy more than noise of the same power",
        "Fig. 3 (PSR −20…0 dB)",
        _CLASSIFIER_KINDS,
        "pt",
        _metric("uap_minus_noise_f_S"),
        *_POSITIVE,
    ),
    Claim(
        "cat_over_ls_gna",
        HYB,
        "CAT is more robust than LS-GNA (adaptive PGD, −10 dB PNR)",
        "+17 pt",
        ("hybrid",),
        "pt",
        _diff("cat.robust.pnr-10", "ls_gna.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_over_ls_gna_nr",
        HYB,
        "HTRD is more robust than LS-GNA + neural rejection (−10 dB PNR)",
        "+12 pt",
        ("hybrid",),
        "pt",
        _diff("htrd.robust.pnr-10", "ls_gna_nr.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_over_two_fold",
        HYB,
        "HTRD is more robust than the two-fold (auto-encoder) defence (−10 dB PNR)",
        "+30 pt",
        ("hybrid",),
        "pt",
        _diff("htrd.robust.pnr-10", "two_fold.robust.pnr-10"),
        *_NON_NEGATIVE,
    ),
    Claim(
        "htrd_clean",
        HYB,
        "HTRD keeps the clean accuracy of LS-GNA + NR",
        "78.7 vs 75.5 %",
        ("hybrid",),
        "pt",
        _diff("htrd.clean_accuracy", "ls_gna_nr.clean_accuracy"),
        "ours ≥ −2 pt",
        lambda v: v >= -2.0,
    ),
    Claim(
        "mimo_fgsm_success",
        MIMO,
        "FGSM on the UE positions makes the predicted allocation infeasible",
        "58–91 % of setups",
        ("mimo",),
        "%",
        _best("_FGSM_success", "_standard_"),
        "ours ≥ 58 %",
        lambda v: v >= 58.0,
    ),
    Claim(
        "mimo_at_lowers_success",
        MIMO,
        "Adversarial training lowers FGSM's success",
        "Fig. 6",
        ("mimo",),
        "pt",
        _pair_gap("standard", "adversarial", "_FGSM_success"),
        *_POSITIVE,
    ),
    Claim(
        "mcformer_att_over_sota_pgd",
        ATT,
        "The attention-distilled compact transformer beats the state of the art (AT alone, ARD) "
        "under white-box PGD (mean over PNR ≥ −10 dB)",
        "> +15 pt",
        ("robust_distill",),
        "pt",
        _metric("margin_pt_pgd_linf"),
        *_POSITIVE,
    ),
    Claim(
        "mcformer_att_over_sota_fgm",
        ATT,
        "The attention-distilled compact transformer beats the state of the art (AT alone, ARD) "
        "under white-box FGM (mean over PNR ≥ −10 dB)",
        "> +15 pt",
        ("robust_distill",),
        "pt",
        _metric("margin_pt_fgm"),
        *_POSITIVE,
    ),
    Claim(
        "mcformer_att_clean",
        ATT,
        "The attention-distilled compact transformer keeps its clean accuracy (within the run's "
        "tolerance of the best other student)",
        "(abstract only)",
        ("robust_distill",),
        "bool",
        _metric("direction_clean_within_tolerance"),
        *_TRUE,
    ),
)


__all__ = ["CLAIMS", "FAILS", "HOLDS", "UNMEASURED", "Claim", "Evidence"]
