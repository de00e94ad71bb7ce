"""Adversarial attention distillation and its baselines: a robust transformer teacher → a compact
transformer student (issue 15; the method of references §4.2, whose loss is not public: D8).

:class:`RobustDistiller` trains the student; ``method`` picks the objective:

* ``attention`` — adversarial windows ``x'`` are crafted against the **student** every batch,
  in-graph, with the online attacks of adversarial training (the trainer subclasses
  :class:`~amc_tf.defenses.adversarial_model.AdversarialTrainer`: same budget, PNR draws, pruning
  masks and ``fit`` plumbing); the loss is output distillation on ``x'``,
  ``α·T²·KL(p_T(teacher(x')) ‖ p_T(student(x'))) + (1 − α)·CE(y, student(x'))``, plus
  ``β · Σ_(t,s) d(A_t(x'), A_s(x'))`` over mapped layer pairs — the head-averaged attention maps of
  teacher and student on the *same* adversarial window (:mod:`amc_tf.distill.attention`: ``at``,
  ``mse`` or ``kl``);
* ``ard`` — Goldblum et al.'s adversarially robust distillation:
  ``α·T²·KL(p_T(teacher(x)) ‖ p_T(student(x'))) + (1 − α)·CE(y, student(x))`` (the teacher sees
  the *clean* window; their defaults α = 1, T = 30);
* ``kd`` — Hinton distillation from the robust teacher on clean windows (no attack, no attention).

Adversarial training alone and natural training are
:func:`amc_tf.defenses.adversarial_training.adversarial_train` and
:func:`amc_tf.training.fit.fit_classifier`. The stage functions below train one student through
``fit_classifier`` (early stopping, per-epoch checkpoints) and the stage cache, keyed by both
models' weights, the recipe, the data and the seed; no Prefect or MLflow here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amc_tf.classifier import stages
from amc_tf.classifier.cached import weights_digest
from amc_tf.config.defense import AdversarialTrainingConfig, TrainingBudget
from amc_tf.config.robust_distill import AttentionDistillConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_model import AdversarialTrainer, pack_snr
from amc_tf.defenses.adversarial_steps import OnlineAttack, online_attack
from amc_tf.distill.attention import DISTANCES, attention_distance, default_pairs
from amc_tf.distill.hinton import distillation_kl
from amc_tf.errors import ConfigError
from amc_tf.prune.apply import copy_model
from amc_tf.results import decode
from amc_tf.runtime import keras, set_seed, tf
from amc_tf.stage_cache import StageCache, stage
from amc_tf.training.fit import TrainResult, fit_classifier

#: The training methods of :class:`RobustDistiller`.
METHODS = ("attention", "ard", "kd")


class RobustDistiller(AdversarialTrainer):
    """Student trained from a frozen robust teacher on student-crafted adversarial windows.

    Args:
        student: The compact transformer (logits); ``student_maps`` its :func:`attention_model`.
        teacher: The robust teacher (logits; frozen here); ``teacher_maps`` likewise.
        mix: Online attacks and fractions crafting ``x'`` against the student ([] for ``kd``).
        budget: The training threat.
        method: ``attention``, ``ard`` or ``kd`` (module docstring).
        alpha: Weight of the output-distillation term (1 − alpha on the cross-entropy).
        temperature: Softening temperature T.
        beta: Weight of the attention term (``attention`` only).
        distance: ``at``, ``mse`` or ``kl``.
        pairs: ``(teacher layer, student layer)`` pairs, 1-based.
        **kwargs: :class:`AdversarialTrainer`'s options (``seed``, ``batch_size``, ``masks``).

    Fit on :func:`~amc_tf.defenses.adversarial_model.pack_snr` data through ``fit_classifier``;
    ``loss``, ``kd_loss``, ``ce_loss`` and ``attention_loss`` are tracked per epoch.
    """

    def __init__(
        self,
        student: keras.Model,
        teacher: keras.Model,
        mix: list[tuple[OnlineAttack, float]],
        budget: TrainingBudget,
        *,
        method: str = "attention",
        alpha: float = 0.9,
        temperature: float = 4.0,
        beta: float = 1.0,
        distance: str = "at",
        pairs: list[tuple[int, int]] | None = None,
        student_maps: keras.Model | None = None,
        teacher_maps: keras.Model | None = None,
        **kwargs: Any,
    ) -> None:
        if method not in METHODS:
            raise ConfigError(f"unknown distillation method {method!r}; known: {list(METHODS)}")
        if distance not in DISTANCES:
            raise ConfigError(f"unknown attention distance {distance!r}; known: {list(DISTANCES)}")
        if (method == "kd") == bool(mix):
            raise ConfigError(f"method {method!r} {'takes no' if method == 'kd' else 'needs an'} attack mix")
        if student.output_shape[-1] != teacher.output_shape[-1]:
            raise ConfigError(
                f"student and teacher disagree on the number of classes: "
                f"{student.output_shape[-1]} vs {teacher.output_shape[-1]}"
            )
        kwargs.setdefault("name", f"{student.name}_{method}")
        super().__init__(student, mix, budget, **kwargs)
        self.teacher = teacher
        self.teacher.trainable = False
        self.method = method
        self.alpha, self.temperature, self.beta = float(alpha), float(temperature), float(beta)
        self.distance = distance
        self.uses_attention = method == "attention" and self.beta > 0
        self.pairs = list(pairs or [])
        if self.uses_attention:
            from amc_tf.models.mcformer import attention_model

            self.student_maps = student_maps or attention_model(student)
            self.teacher_maps = teacher_maps or attention_model(teacher)
            n_t, n_s = len(self.teacher_maps.outputs) - 1, len(self.student_maps.outputs) - 1
            self.pairs = self.pairs or default_pairs(n_t, n_s)
            bad = [(t, s) for t, s in self.pairs if not (1 <= t <= n_t and 1 <= s <= n_s)]
            if bad:
                raise ConfigError(f"layer pairs {bad} out of range: teacher has {n_t} layers, student {n_s}")
        self.trackers = {k: keras.metrics.Mean(name=k) for k in ("loss", "kd_loss", "ce_loss", "attention_loss")}

    @property
    def metrics(self):
        out = list(self.trackers.values())
        if getattr(self, "compiled_metrics", None) is not None:
            out += self.compiled_metrics.metrics
        return out

    def attention_term(self, teacher_maps: list[tf.Tensor], student_maps: list[tf.Tensor]) -> tf.Tensor:
        """Σ over the mapped pairs of :func:`attention_distance` (unweighted)."""
        terms = [attention_distance(teacher_maps[t - 1], student_maps[s - 1], self.distance) for t, s in self.pairs]
        return tf.add_n(terms)

    def losses_on(self, x: tf.Tensor, x_adv: tf.Tensor, y: tf.Tensor, training: bool):
        """``(total, kd, ce, attention, student logits on x_adv)`` for clean ``x`` and its
        adversarial ``x_adv`` (the same tensor for ``kd`` and for validation)."""
        teacher_in = x if self.method in ("ard", "kd") else x_adv
        if self.uses_attention:
            t_logits, *t_maps = self.teacher_maps(teacher_in, training=False)
            s_logits, *s_maps = self.student_maps(x_adv, training=training)
            att = self.attention_term(t_maps, s_maps)
        else:
            t_logits = self.teacher(teacher_in, training=False)
            s_logits = self.classifier(x_adv, training=training)
            att = tf.constant(0.0)
        kd = distillation_kl(t_logits, s_logits, self.temperature) * self.temperature**2
        ce_logits = s_logits
        if self.method == "ard" and self.alpha < 1.0:  # ARD's hard-label term is on the clean window
            ce_logits = self.classifier(x, training=training)
        ce = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, ce_logits, from_logits=True))
        total = self.alpha * kd + (1.0 - self.alpha) * ce + self.beta * att
        if training and self.classifier.losses:
            total = total + tf.add_n(self.classifier.losses)
        return total, kd, ce, att, s_logits

    def _record(self, y, values) -> dict[str, tf.Tensor]:
        *terms, logits = values
        for tracker, value in zip(self.trackers.values(), terms):
            tracker.update_state(value)
        self.compiled_metrics.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        packed, y = data[0], data[1]
        x, snr = packed[:, :, : self.window], packed[:, 0, self.window]
        x_adv = x
        if self.attacks:  # the first batch_ratio of the batch made adversarial, as in AdversarialTrainer
            n_adv = tf.cast(tf.round(tf.cast(tf.shape(x)[0], tf.float32) * self.batch_ratio), tf.int32)
            x_adv = tf.concat([self.adversarial_part(x[:n_adv], y[:n_adv], snr[:n_adv])[0], x[n_adv:]], axis=0)
        with tf.GradientTape() as tape:
            values = self.losses_on(x, x_adv, y, training=True)
        self.apply_masked_gradients(tape, values[0])
        return self._record(y, values)

    def test_step(self, data):
        """Validation: the same loss on the clean windows (no attack), so early stopping watches a
        number of the training objective's form."""
        packed, y = data[0], data[1]
        x = packed[:, :, : self.window]
        return self._record(y, self.losses_on(x, x, y, training=False))


#: Code whose source determines a distilled student.
ROBUST_DISTILL_CODE = (
    "amc_tf.distill",
    "amc_tf.defenses.robust_distill",
    "amc_tf.defenses.adversarial_model",
    "amc_tf.defenses.adversarial_steps",
    "amc_tf.attacks.compiled",
    "amc_tf.models",
    "amc_tf.training",
    "amc_tf.data.splits",
)


def distiller(
    method: str,
    student: keras.Model,
    teacher: keras.Model,
    adversarial: AdversarialTrainingConfig,
    losses: AttentionDistillConfig,
    *,
    seed: int,
) -> RobustDistiller:
    """The trainer of ``method`` (``ard``, ``kd``, ``attention``) for ``student`` (trained in place)."""
    mix = [] if method == "kd" else [(online_attack(e.attack), e.fraction) for e in adversarial.mix]
    ard = method == "ard"
    return RobustDistiller(
        student,
        teacher,
        mix,
        adversarial.budget,
        method=method,
        alpha=losses.ard_alpha if ard else losses.alpha,
        temperature=losses.ard_temperature if ard else losses.temperature,
        beta=losses.beta if method == "attention" else 0.0,
        distance=losses.distance,
        pairs=[tuple(p) for p in losses.pairs] if losses.pairs else None,
        seed=seed,
        batch_size=adversarial.train.batch_size,
        batch_ratio=adversarial.batch_ratio,
    )


def distill_student(
    method: str,
    student: keras.Model,
    teacher: keras.Model,
    parts: dict[str, IQDataset],
    adversarial: AdversarialTrainingConfig,
    losses: AttentionDistillConfig,
    *,
    seed: int,
    checkpoint_dir: str | Path | None = None,
) -> tuple[keras.Model, TrainResult]:
    """A copy of ``student`` trained by ``method`` from ``teacher`` for ``adversarial.train``'s epochs.

    Returns:
        ``(trained student, its training record)``; ``student`` itself is not modified.
    """
    set_seed(seed)
    model = copy_model(student)
    trainer = distiller(method, model, teacher, adversarial, losses, seed=seed)
    val = parts.get("val")
    fitted = fit_classifier(
        trainer,
        pack_snr(parts["train"]),
        pack_snr(val) if val is not None and len(val) else None,
        adversarial.train,
        checkpoint_dir=checkpoint_dir,
    )
    return model, fitted


def cached_distill_student(
    method: str,
    student: keras.Model,
    teacher: keras.Model,
    parts: dict[str, IQDataset],
    adversarial: AdversarialTrainingConfig,
    losses: AttentionDistillConfig,
    *,
    seed: int,
    cache: StageCache,
    data_key: dict[str, Any],
    out_path: str | Path,
) -> tuple[keras.Model, TrainResult, bool]:
    """:func:`distill_student` through the stage cache; the model is saved to ``out_path``.

    Returns:
        ``(model, record, hit)``.
    """
    quiet = adversarial.model_copy(update={"train": adversarial.train.model_copy(update={"verbose": 0})})
    key = {
        **data_key,
        "method": method,
        "student": weights_digest(student),
        "teacher": weights_digest(teacher),
        "adversarial": quiet,
        "losses": losses,
        "seed": seed,
    }
    st = stage(f"robust-distill-{method}", key, ROBUST_DISTILL_CODE)
    made: dict[str, Any] = {}

    def compute() -> TrainResult:
        made["model"], record = distill_student(
            method, student, teacher, parts, adversarial, losses, seed=seed, checkpoint_dir=cache.checkpoint_dir(st)
        )
        stages.save(made["model"], out_path)
        return record

    record, hit = cache.run(st, {"model.keras": out_path}, compute, lambda d: decode(TrainResult, d))
    return made.get("model") or stages.load(out_path), record, hit


__all__ = [
    "METHODS",
    "ROBUST_DISTILL_CODE",
    "RobustDistiller",
    "cached_distill_student",
    "distill_student",
    "distiller",
]
