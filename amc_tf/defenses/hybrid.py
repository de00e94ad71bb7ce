"""The hybrid training-time + run-time defence comparison (references §7): HTRD, LS-GNA + NR, the
two-fold defence, and the training-time defences alone, all judged by adaptive attacks.

From one trained classifier, :func:`hybrid_evaluation`

1. fine-tunes it three ways: CAT (:func:`~amc_tf.defenses.cat.cat_train`), LS-GNA
   (:func:`~amc_tf.defenses.ls_gna.ls_gna_train`) and the paper's PGD+FGSM adversarial training
   (:func:`~amc_tf.defenses.adversarial_training.adversarial_train`);
2. puts a run-time rejector behind each: neural rejection on the CAT model (**HTRD**) and on the
   LS-GNA model (**LS-GNA + NR**), the auto-encoder detector behind the adversarially trained
   model (**two-fold**);
3. evaluates the three, plus CAT and LS-GNA without rejection (:class:`NoRejection`), over a PNR
   grid with the adaptive attack through each defence and its non-adaptive twin
   (:func:`~amc_tf.evaluation.rejection.evaluate_rejector`).

Without a rejector the "adaptive" attack is PGD-L2 on the logit margin
``z_y − max_{j≠y} z_j`` (the objective of :class:`~amc_tf.attacks.adaptive.RejectionPGD` with
``S_0 = −∞``) and the non-adaptive one PGD-L2 on the cross-entropy; the reported robust accuracy of
every defence is the per-window worst case over all the attacks run on it
(:func:`~amc_tf.evaluation.rejection.evaluate_rejector`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amc_tf.attacks.adaptive_settings import AdaptiveAttackConfig
from amc_tf.config.defense import AdversarialTrainingConfig
from amc_tf.config.hardening import CatConfig, LsGnaConfig
from amc_tf.config.rejection import AutoencoderConfig, NeuralRejectionConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_training import adversarial_train
from amc_tf.defenses.autoencoder import AutoencoderDetector
from amc_tf.defenses.cat import cat_train
from amc_tf.defenses.ls_gna import ls_gna_train
from amc_tf.defenses.rejection import NeuralRejection
from amc_tf.evaluation.rejection import RejectionReport, evaluate_rejector
from amc_tf.progress import say
from amc_tf.runtime import keras, tf

#: The defences in the order of the report, with the training they sit on.
DEFENCES = ("htrd", "ls_gna_nr", "two_fold", "cat", "ls_gna")


class NoRejection:
    """A bare classifier in the rejector interface: never rejects; its scores are the logits."""

    threshold = -np.inf

    def __init__(self, classifier: keras.Model, batch_size: int = 256):
        self.classifier, self.batch_size = classifier, batch_size
        self.n_classes = int(classifier.output_shape[-1])

    def tf_scores(self, x: tf.Tensor) -> tf.Tensor:
        return tf.cast(self.classifier(x, training=False), tf.float64)

    def predict_with_rejection(self, x: np.ndarray) -> np.ndarray:
        logits = self.classifier.predict(np.asarray(x, np.float32), batch_size=self.batch_size, verbose=0)
        return np.argmax(logits, axis=1).astype(np.int64)

    def describe(self) -> dict[str, Any]:
        return {"kind": "none"}


@dataclass
class HybridSettings:
    """Every recipe of the comparison (the papers' defaults unless given)."""

    cat: CatConfig = field(default_factory=CatConfig)
    ls_gna: LsGnaConfig = field(default_factory=LsGnaConfig)
    adversarial: AdversarialTrainingConfig = field(default_factory=AdversarialTrainingConfig)
    rejection: NeuralRejectionConfig = field(default_factory=NeuralRejectionConfig)
    autoencoder: AutoencoderConfig = field(default_factory=AutoencoderConfig)
    attack: AdaptiveAttackConfig = field(default_factory=AdaptiveAttackConfig)
    pnr_db: tuple[float, ...] = (-20.0, -15.0, -10.0, -5.0, 0.0)


@dataclass
class HybridOutcome:
    """The report, the five defences (for plots and further attacks) and the hardened models."""

    report: RejectionReport
    defences: dict[str, Any]
    models: dict[str, keras.Model]

    def robust_accuracy(self, name: str) -> list[float]:
        """Per PNR, the fraction of windows of ``name`` defended against every attack (worst case)."""
        curve = next(c for c in self.report.curves if c.defence == name)
        return list(curve.worst_accuracy)


def harden_one(kind: str, model: keras.Model, train: IQDataset, val: IQDataset, settings: HybridSettings, seed: int):
    """One fine-tuning of ``model``: ``kind`` in ``cat``, ``ls_gna``, ``adversarial``. Returns ``(model, result)``."""
    if kind == "cat":
        say("hybrid", f"CAT fine-tuning on {len(train)} windows")
        return cat_train(model, train, val, settings.cat, seed=seed)
    if kind == "ls_gna":
        say("hybrid", f"LS-GNA fine-tuning on {len(train)} windows")
        return ls_gna_train(model, train, val, settings.ls_gna, seed=seed)
    if kind == "adversarial":
        say("hybrid", "PGD+FGSM adversarial training (the two-fold defence's classifier)")
        result = adversarial_train(model, train, val, settings.adversarial, seed=seed)
        return result.model, result
    raise ValueError(f"unknown hardening {kind!r}; known: {list(HARDENINGS)}")


#: The three fine-tunings, in order.
HARDENINGS = ("cat", "ls_gna", "adversarial")


def harden(model: keras.Model, train: IQDataset, val: IQDataset, settings: HybridSettings, seed: int) -> dict:
    """The three fine-tunings of ``model``: ``{"cat", "ls_gna", "adversarial"}`` → Keras models."""
    return {kind: harden_one(kind, model, train, val, settings, seed)[0] for kind in HARDENINGS}


def build_defences(models: dict, train: IQDataset, val: IQDataset, settings: HybridSettings, seed: int) -> dict:
    """Fit the rejectors on the hardened models: the five defences of :data:`DEFENCES`."""
    say("hybrid", "fitting neural rejection (RBF SVMs) and the auto-encoder detector")
    return {
        "htrd": NeuralRejection(models["cat"], settings.rejection).fit(train.x, train.y, val.x, seed=seed),
        "ls_gna_nr": NeuralRejection(models["ls_gna"], settings.rejection).fit(train.x, train.y, val.x, seed=seed),
        "two_fold": AutoencoderDetector(models["adversarial"], settings.autoencoder).fit(train.x, val.x, seed=seed),
        "cat": NoRejection(models["cat"]),
        "ls_gna": NoRejection(models["ls_gna"]),
    }


def evaluate_defence(defence: Any, name: str, test: IQDataset, settings: HybridSettings):
    """The rejection curve of one defence on ``test`` over ``settings.pnr_db`` (adaptive and not)."""
    say("hybrid", f"attacking {name} over {len(settings.pnr_db)} PNR points ({len(test)} windows)")
    return evaluate_rejector(defence, test.x, test.y, test.snr, list(settings.pnr_db), settings.attack, name)


def hybrid_evaluation(
    model: keras.Model,
    train: IQDataset,
    val: IQDataset,
    test: IQDataset,
    settings: HybridSettings | None = None,
    *,
    seed: int = 0,
) -> HybridOutcome:
    """Harden ``model``, fit the rejectors and evaluate the five defences on ``test`` (module docstring).

    Args:
        model: A trained logits classifier ``[N, 2, L] → [N, C]`` (not modified).
        train: Training windows (fine-tuning, SVMs, auto-encoder); ``val``: clean windows that set
            the reject thresholds; ``test``: the windows attacked (true labels, SNR labels).
        settings: The recipes, the attack and the PNR grid.
        seed: Seeds every training and fit.
    """
    settings = settings or HybridSettings()
    models = harden(model, train, val, settings, seed)
    defences = build_defences(models, train, val, settings, seed)
    curves = [evaluate_defence(defences[name], name, test, settings) for name in DEFENCES]
    return HybridOutcome(RejectionReport(curves), defences, models)
