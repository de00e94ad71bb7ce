"""CAT — customized adversarial training (Cheng, Lei, Chen, Dhillon, Hsieh 2020; references §7.1).

Hand-written because neither Keras nor ART has it (there is no official code; the public PyTorch
reimplementation's PGD is effectively one step, below). Every training example i carries its own
budget, stored as a scale ``s_i ∈ [0, 1]`` of the radius of the PNR ``pnr_max_db`` with its own SNR
label (:mod:`amc_tf.config.hardening`), initialised at 0. On each mini-batch (:class:`CatTrainer`):

1. ``s_i ← min(s_i + η, 1)`` (tentatively);
2. multi-step PGD within each example's own ball ``s_i·R_i`` against the smoothed label
   ``ỹ_i = (1 − c·s_i)·onehot(y_i) + c·s_i·u_i``, ``u_i ~ Dirichlet(1, …, 1)`` (one fresh draw per
   example per step, :func:`dirichlet`), every step starting where the previous one ended — the
   reimplementation re-reads the clean input at the top of each iteration, which this does not;
3. the model (inference mode) classifies the adversarial batch; a misclassified example gets its
   increase undone, ``s_i ← s_i`` (:func:`cat_update`; the reference's add-undo-clip, exactly);
4. one optimizer step on the adversarial batch against ỹ recomputed with the updated ``s_i``
   (the same u).

The scale is clipped to ε_max *before* crafting too, so no example is attacked beyond
``pnr_max_db``. The example's training-set position travels with it as one more time column
(:func:`pack_index`, after the SNR column), so Keras' shuffling keeps it right. The scales are a
non-trainable weight of the trainer (saved by per-epoch checkpoints and restored with the best
weights); :func:`cat_train` returns them.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from amc_tf.attacks.compiled import auto_micro_batch, parts_for
from amc_tf.config.defense import TrainingBudget
from amc_tf.config.hardening import CatConfig
from amc_tf.data.dataset import IQDataset
from amc_tf.defenses.adversarial_model import pack_snr
from amc_tf.defenses.adversarial_steps import OnlineAttack, craft, radius
from amc_tf.defenses.hardening_model import SoftLabelTrainer, run_recipe
from amc_tf.defenses.hardening_results import CatResult, training_summary
from amc_tf.errors import ConfigError
from amc_tf.progress import say
from amc_tf.runtime import keras, tf

#: Largest training set whose positions a float32 column holds exactly (2^24).
MAX_EXAMPLES = 2**24


def pack_index(ds: IQDataset) -> IQDataset:
    """``ds`` as ``float32 [N, 2, L + 2]``: the SNR column (dB, :func:`pack_snr`), then the position ``0…N−1``.

    Raises:
        ConfigError: more than :data:`MAX_EXAMPLES` windows (positions would round in float32).
    """
    if len(ds) > MAX_EXAMPLES:
        raise ConfigError(f"CAT indexes at most {MAX_EXAMPLES} training windows, got {len(ds)}")
    packed = pack_snr(ds)
    index = np.broadcast_to(np.arange(len(ds), dtype=np.float32)[:, None, None], (len(ds), 2, 1))
    return replace(packed, x=np.concatenate([packed.x, index], axis=2))


def dirichlet(n: tf.Tensor, k: int, seed: tf.Tensor) -> tf.Tensor:
    """``float32 [n, k]`` draws of Dirichlet(1, …, 1): normalised Exp(1) variables ``−log U`` (stateless)."""
    u = tf.random.stateless_uniform(tf.stack([n, k]), seed, minval=1e-12, maxval=1.0)
    e = -tf.math.log(u)
    return e / tf.reduce_sum(e, axis=1, keepdims=True)


def smooth_labels(y: tf.Tensor, scale: tf.Tensor, u: tf.Tensor, c: float) -> tf.Tensor:
    """CAT's adaptive label ``(1 − c·s)·onehot(y) + c·s·u`` ``float32 [N, C]``.

    Args:
        y: Labels ``int64 [N]``; scale: budgets ``s float32 [N]`` in [0, 1]; u: ``float32 [N, C]``
            probability rows (:func:`dirichlet`); c: smoothing slope (``c·s ≤ 1``).
    """
    mass = tf.reshape(c * scale, (-1, 1))
    return (1.0 - mass) * tf.one_hot(y, tf.shape(u)[1], dtype=u.dtype) + mass * u


def cat_update(scale: tf.Tensor, broken: tf.Tensor, eta: float) -> tuple[tf.Tensor, tf.Tensor]:
    """CAT's budget rule: ``(tried, updated)`` scales ``float32 [N]``.

    ``tried = min(s + η, 1)`` is the budget the batch is attacked at; ``updated`` keeps it where
    the attack failed and is ``s`` (the increase undone) where ``broken [N] bool`` (misclassified).
    """
    tried = tf.clip_by_value(scale + eta, 0.0, 1.0)
    return tried, tf.where(broken, scale, tried)


class CatTrainer(SoftLabelTrainer):
    """Classifier + CAT's per-example budgets (module docstring); fit on :func:`pack_index` data.

    Args:
        classifier: Logits model ``[N, 2, L] → [N, C]``; frozen layers already ``trainable = False``.
        config: The recipe.
        n_train: Training-set size (length of the budget array).
        masks, seed: As :class:`~amc_tf.defenses.hardening_model.SoftLabelTrainer`.

    Metrics: ``loss``/``accuracy`` of the adversarial batch trained on, ``grown`` (fraction of
    the epoch's examples whose budget grew) and ``eps_scale`` (mean scale over the training set
    after the step: the mean radius in units of ε_max).
    """

    def __init__(self, classifier: keras.Model, config: CatConfig, n_train: int, *, masks=None, seed: int = 0):
        budget = TrainingBudget(pnr_db=config.pnr_max_db, linf_convention=config.linf_convention)
        batch = config.train.batch_size
        super().__init__(classifier, budget, masks=masks, seed=seed, batch_size=batch, name=f"{classifier.name}_cat")
        self.attack = OnlineAttack(
            f"cat_pgd_{config.norm.value}", config.norm, config.steps, config.step_fraction, config.random_start, False
        )
        self.eta, self.c = float(config.eta), float(config.c)
        self.craft_parts = parts_for(batch, auto_micro_batch(classifier))
        self.scale = self.add_weight(name="cat_scale", shape=(int(n_train),), initializer="zeros", trainable=False)
        self.grown_tracker = keras.metrics.Mean(name="grown")

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy_tracker, self.grown_tracker]

    def max_radius(self, x: tf.Tensor, snr: tf.Tensor) -> tf.Tensor:
        """ε_max of each window ``float32 [N]`` in the attack's norm (PNR ``pnr_max_db``, own SNR)."""
        return radius(self.budget, x, snr, tf.fill(tf.shape(snr), float(self.budget.pnr_db)), self.attack.norm)

    def craft_at(self, x: tf.Tensor, target: tf.Tensor, snr: tf.Tensor, scale: tf.Tensor) -> tf.Tensor:
        """PGD windows ``[N, 2, L]`` within ``scale [N]`` × ε_max of ``x`` against soft labels ``target [N, C]``."""
        return craft(
            self.classifier,
            self.attack,
            x,
            target,
            scale * self.max_radius(x, snr),
            n_classes=self.n_classes,
            steps=self.attack.steps,
            seed=self._seed(2),
            parts=self.craft_parts,
        )

    def train_step(self, data):
        packed, y = data[0], tf.reshape(tf.cast(data[1], tf.int64), [-1])
        x, snr = self.unpack(packed)
        index = tf.cast(packed[:, 0, self.window + 1], tf.int32)
        old = tf.gather(self.scale, index)
        u = dirichlet(tf.shape(x)[0], self.n_classes, self._seed(1))
        tried = tf.clip_by_value(old + self.eta, 0.0, 1.0)
        x_adv = self.craft_at(x, smooth_labels(y, tried, u, self.c), snr, tried)
        broken = tf.argmax(self.classifier(x_adv, training=False), axis=1) != y
        _, new = cat_update(old, broken, self.eta)
        self.scale.scatter_nd_update(index[:, None], new)
        self.grown_tracker.update_state(tf.cast(new > old, tf.float32))
        logs = self.fit_soft(x_adv, y, smooth_labels(y, new, u, self.c))
        return {**logs, "grown": self.grown_tracker.result(), "eps_scale": tf.reduce_mean(self.scale)}


def cat_train(
    model: keras.Model,
    train: IQDataset,
    val: IQDataset | None,
    config: CatConfig,
    *,
    seed: int,
    checkpoint_dir: str | Path | None = None,
) -> tuple[keras.Model, CatResult]:
    """CAT-train a copy of ``model`` (the input model is not modified).

    Args:
        model: Logits classifier ``float32 [N, 2, L] → [N, C]`` (trained, or freshly built).
        train: Training windows, integer labels and SNR labels (dB); budgets are indexed by position.
        val: Clean validation set (early stopping when ``config.train.patience > 0``; else optional).
        config: The recipe (:class:`~amc_tf.config.hardening.CatConfig`).
        seed: Seeds TensorFlow, the random starts and the Dirichlet draws (same seed, same numbers on CPU).
        checkpoint_dir: Per-epoch checkpoints (budgets included); an interrupted run resumes from them.

    Returns:
        ``(classifier, result)``: the trained plain classifier (original ``trainable`` flags,
        loadable by :func:`amc_tf.models.loading.load_model`) and :class:`CatResult` (the final
        budget scales ``eps_scale float32 [N]`` by training-set position; with a validation set and
        ``restore_best_weights``, those of the best epoch, with its weights).

    Raises:
        ConfigError: an unknown ``freeze`` layer, a model/data mismatch, or too many windows.
    """
    packed = pack_index(train)
    say(
        "cat",
        f"CAT of {model.name}: ε_max {config.pnr_max_db:g} dB PNR, η {config.eta:g}, c {config.c:g}, "
        f"PGD-{config.norm.value} {config.steps} steps of {config.step_size:g}·ε_i/{config.steps}",
    )
    run = run_recipe(
        model,
        packed,
        val,
        config,
        lambda clf, masks: CatTrainer(clf, config, len(train), masks=masks, seed=seed),
        seed=seed,
        label="cat",
        checkpoint_dir=checkpoint_dir,
    )
    scale = run.trainer.scale.numpy().astype(np.float32)
    result = CatResult(**training_summary(run, len(train)), pnr_max_db=config.pnr_max_db, eps_scale=scale)
    say("cat", f"done: mean ε scale {result.eps_scale_mean:.3f}, {result.at_max_fraction:.1%} of windows at ε_max")
    return run.model, result


__all__ = ["MAX_EXAMPLES", "CatTrainer", "cat_train", "cat_update", "dirichlet", "pack_index", "smooth_labels"]
