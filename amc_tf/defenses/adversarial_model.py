"""The adversarial-training model: a ``keras.Model`` around a classifier that owns its ``train_step``.

Follows the keras-io ``Distiller`` pattern (style habit 3, design D10): ``fit``, callbacks, early
stopping and the project's checkpoints keep working, and ``call`` is the classifier. Each
``train_step`` (1) replaces ``batch_ratio`` of the batch by adversarial examples, split among the
attacks of the mix in their proportions and crafted in-graph
(:mod:`amc_tf.defenses.adversarial_steps`; input gradients only), (2) takes one optimizer step on the
trainable weights only — frozen layers are ``trainable = False`` before compiling, so they get
neither gradients nor optimizer slots —, and (3) keeps pruned weights at exactly zero.

**Why masks in ``train_step``, not a kernel constraint.** The Keras-native constraint would be the
neater hook, but a constraint is part of the layer's config: the trained model would save with a
custom class that the safe loader (design D9) refuses, and a variable's constraint is fixed when it
is created. So the trainer does what TF-MOT's ``PruneLowMagnitude`` does, in-graph: the gradient
of a pruned weight is multiplied by its mask (the optimizer's moments for it stay zero) and the
mask is re-applied after the update (exact zeros whatever the optimizer, weight decay included).
With ``mix = []`` it is a plain training step with those rules: offline fine-tuning uses it too.

Inputs carry their SNR label: the trainer takes ``float32 [N, 2, L + 1]`` whose last time sample is
the SNR in dB (:func:`pack_snr`), so it fits through :func:`amc_tf.training.fit.fit_classifier`'s
``IQDataset`` interface unchanged; ``call`` strips that column.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from amc_tf.attacks.compiled import auto_micro_batch, parts_for
from amc_tf.config.defense import TrainingBudget
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_steps import OnlineAttack, craft, example_pnr_db, radius, split_counts
from amc_tf.progress import say
from amc_tf.runtime import keras, tf


def pack_snr(ds: IQDataset) -> IQDataset:
    """``ds`` with the SNR label (dB) appended as one more time sample in both rows: ``[N, 2, L + 1]``."""
    snr = np.broadcast_to(ds.snr.astype(np.float32)[:, None, None], (len(ds), 2, 1))
    return IQDataset(np.concatenate([ds.x, snr], axis=2), ds.y, ds.snr, ds.classes, dict(ds.manifest))


@dataclass
class _Untracked:
    """State Keras must not track as weights (a plain object is not a trackable): the PGD-k
    variable, the per-attack counters and the pruning masks."""

    steps: tf.Variable
    crafted: list[tf.Variable]
    masks: list[tuple[tf.Variable, tf.Tensor]] = field(default_factory=list)


class AdversarialTrainer(keras.Model):
    """Classifier + in-graph adversarial examples (module docstring).

    Args:
        classifier: Logits model ``[N, 2, L] → [N, C]``; its frozen layers already ``trainable = False``.
        mix: ``(attack, fraction)`` pairs, fractions summing to 1 ([] = clean steps).
        budget: The training threat.
        batch_ratio: Fraction of each batch made adversarial.
        masks: ``{variable name: 0/1 array}`` of pruned weights to keep at zero.
        seed: Seed of the random starts and PNR draws.
        pgd_schedule: PGD attacks take k from :meth:`set_pgd_steps` (a per-epoch schedule)
            instead of their own ``steps``.
        batch_size: Nominal batch (sizes the micro-batches of the attack's gradient calls).

    Compile with an optimizer, loss and metrics (``fit_classifier`` does), then fit on
    :func:`pack_snr` data.
    """

    def __init__(
        self,
        classifier: keras.Model,
        mix: list[tuple[OnlineAttack, float]],
        budget: TrainingBudget,
        *,
        batch_ratio: float = 1.0,
        masks: dict[str, np.ndarray] | None = None,
        seed: int = 0,
        pgd_schedule: bool = False,
        batch_size: int = 256,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("name", f"{classifier.name}_at")
        super().__init__(**kwargs)
        self.classifier = classifier
        self.attacks = [attack for attack, _ in mix]
        self.fractions = [float(f) for _, f in mix]
        self.budget = budget
        self.batch_ratio = float(batch_ratio)
        self.seed = int(seed)
        self.pgd_schedule = bool(pgd_schedule)
        self.n_classes = int(classifier.output_shape[-1])
        self.window = int(classifier.input_shape[2])
        micro = auto_micro_batch(classifier)
        adv = max(1, round(batch_size * batch_ratio))
        self.parts = [parts_for(max(1, round(adv * f)), micro) for f in self.fractions]
        by_name = {v.name: v for v in classifier.trainable_variables}
        state = _Untracked(
            tf.Variable(1, dtype=tf.int32, trainable=False),
            [tf.Variable(0, dtype=tf.int64, trainable=False) for _ in mix],
        )
        state.masks = [(by_name[k], tf.constant(m, by_name[k].dtype)) for k, m in (masks or {}).items()]
        self.state = state
        self.built = True

    # -- keras plumbing -----------------------------------------------------------------------
    def call(self, inputs, training=False):
        return self.classifier(inputs[:, :, : self.window], training=training)

    @property
    def output_shape(self):
        return self.classifier.output_shape

    def set_pgd_steps(self, k: int) -> None:
        """The k of every scheduled (PGD) attack from the next step on."""
        self.state.steps.assign(int(k))

    def crafted_counts(self) -> list[int]:
        """Adversarial examples crafted so far by each attack of the mix."""
        return [int(c.numpy()) for c in self.state.crafted]

    # -- the adversarial batch ----------------------------------------------------------------
    def _seed(self, salt: int) -> tf.Tensor:
        step = tf.cast(self.optimizer.iterations, tf.int64) if self.optimizer is not None else tf.constant(0, tf.int64)
        return tf.stack([tf.constant(self.seed * 7919 + salt, tf.int64), step])

    def adversarial_part(self, x: tf.Tensor, y: tf.Tensor, snr: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """Adversarial windows for the whole of ``x`` (split among the mix) and their radii ``[N]``."""
        n = tf.shape(x)[0]
        pnr = example_pnr_db(self.budget, n, self._seed(1))
        counts = split_counts(n, self.fractions)
        xs = tf.split(x, counts, num=len(counts))
        ys, ss, ps = (tf.split(t, counts, num=len(counts)) for t in (y, snr, pnr))
        outs, radii = [], []
        for i, attack in enumerate(self.attacks):
            eps = radius(self.budget, xs[i], ss[i], ps[i], attack.norm)
            steps = self.state.steps if attack.scheduled and self.pgd_schedule else attack.steps
            outs.append(
                craft(
                    self.classifier,
                    attack,
                    xs[i],
                    ys[i],
                    eps,
                    n_classes=self.n_classes,
                    steps=steps,
                    seed=self._seed(10 + i),
                    parts=self.parts[i],
                )
            )
            radii.append(eps)
            self.state.crafted[i].assign_add(tf.cast(counts[i], tf.int64))
        return tf.concat(outs, axis=0), tf.concat(radii, axis=0)

    def train_step(self, data):
        packed, y = data[0], data[1]
        x, snr = packed[:, :, : self.window], packed[:, 0, self.window]
        if self.attacks:
            n_adv = tf.cast(tf.round(tf.cast(tf.shape(x)[0], tf.float32) * self.batch_ratio), tf.int32)
            x_adv, _ = self.adversarial_part(x[:n_adv], y[:n_adv], snr[:n_adv])
            x = tf.concat([x_adv, x[n_adv:]], axis=0)
        with tf.GradientTape() as tape:
            logits = self.classifier(x, training=True)
            loss = self.compiled_loss(y, logits, regularization_losses=self.classifier.losses)
        self.apply_masked_gradients(tape, loss)
        self.compiled_metrics.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}

    def apply_masked_gradients(self, tape: tf.GradientTape, loss: tf.Tensor) -> None:
        """One optimizer step on the classifier's trainable weights from ``tape``'s ``loss``, pruned
        weights held at exactly zero (module docstring); subclasses with their own loss reuse it."""
        variables = self.classifier.trainable_variables
        grads = tape.gradient(loss, variables)
        masks = {id(v): m for v, m in self.state.masks}
        grads = [g * masks[id(v)] if id(v) in masks and g is not None else g for g, v in zip(grads, variables)]
        self.optimizer.apply_gradients(zip(grads, variables))
        for variable, mask in self.state.masks:
            variable.assign(variable * mask)


class EpochControl(keras.callbacks.Callback):
    """Sets the PGD-k of each epoch (``schedule(epoch) -> k or None``) and prints one line per epoch."""

    def __init__(self, trainer: AdversarialTrainer, schedule, label: str = "defend") -> None:
        super().__init__()
        self.trainer, self.schedule, self.label = trainer, schedule, label
        self._t0 = 0.0
        self._k: int | None = None

    def on_epoch_begin(self, epoch, logs=None):
        self._k = self.schedule(epoch)
        if self._k is not None:
            self.trainer.set_pgd_steps(self._k)
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._t0
        shown = ", ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items())
        k = f", PGD k={self._k}" if self._k is not None else ""
        say(self.label, f"epoch {epoch + 1}: {shown}{k} ({seconds:.1f} s)")


__all__ = ["AdversarialTrainer", "EpochControl", "pack_snr"]
