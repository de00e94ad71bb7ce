"""Hinton knowledge distillation as a Keras model that owns its loss (Hinton, Vinyals & Dean 2015).

The student learns from the hard labels and from the teacher's temperature-softened soft-max:

    p_T(z) = softmax(z / T)
    L_distill = [T² ·] KL(p_T(teacher) ‖ p_T(student))      (batch mean)
    L_ce      = CE(y, softmax(student))                      (T = 1, hard labels)
    L         = alpha · L_distill + (1 − alpha) · L_ce

with the first compression paper's values T = 10, alpha = 0.1 (distilled VT-CNN2 = ``f_D``;
the same VT-CNN2 trained alone is the standard model ``f_S``).

**Two forms, ``scale_t2``.** The gradient of the softened term with respect to the student's logits
scales as 1/T² (Hinton et al. §2), so Hinton et al. multiply ``L_distill`` by T² to keep the
hard/soft balance set by ``alpha`` independent of T (``scale_t2=True``, the class default). The
first compression paper writes the loss as ``alpha · L_d + (1 − alpha) · L_c`` *without* T²
(``scale_t2=False``, what ``configs/rml2016_compress.yaml`` uses): at T = 10 its soft term weighs
a hundred times less than in Hinton's form, so the student is trained mostly by the hard labels.
The README says which form gives the better student here. The tracked ``distillation_loss``
metric is always the term as it enters the total (scaled when ``scale_t2`` is on).

The model follows keras-io's ``Distiller`` pattern: ``train_step`` computes the loss, the teacher is
frozen (``trainable = False``, always called with ``training=False`` so its BatchNorm statistics
and dropout stay in inference mode) and only the student's trainable variables receive gradients;
each term is a running-mean metric (``loss``, ``student_loss``, ``distillation_loss`` and their
``val_`` versions), so ``fit``, callbacks and early stopping keep working. ``call`` is the student:
``predict`` returns student logits ``[N, K]``. The model saves and loads in the ``.keras`` format.
"""

from __future__ import annotations

from typing import Any

from amc_tf.errors import ConfigError
from amc_tf.runtime import keras, tf


def softened_log_probs(logits: tf.Tensor, temperature: float) -> tf.Tensor:
    """log softmax(logits / T), ``float32 [N, K]``."""
    return tf.nn.log_softmax(logits / temperature, axis=-1)


def distillation_kl(teacher_logits: tf.Tensor, student_logits: tf.Tensor, temperature: float) -> tf.Tensor:
    """Batch-mean KL(p_T(teacher) ‖ p_T(student)) in nats (scalar, no T² factor).

    Args:
        teacher_logits: ``float32 [N, K]`` teacher logits.
        student_logits: ``float32 [N, K]`` student logits.
        temperature: Softening temperature T > 0.
    """
    log_t = softened_log_probs(teacher_logits, temperature)
    log_s = softened_log_probs(student_logits, temperature)
    return tf.reduce_mean(tf.reduce_sum(tf.exp(log_t) * (log_t - log_s), axis=-1))


def _validate(alpha: float, temperature: float) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise ConfigError(f"alpha must be a number in [0, 1], got {alpha!r}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ConfigError(f"temperature must be a positive number, got {temperature!r}")


@keras.utils.register_keras_serializable(package="amc_tf")
class Distiller(keras.Model):
    """Student + frozen teacher trained with ``alpha · [T²·]KL + (1 − alpha) · CE`` (module docstring).

    Args:
        student: Logits model ``[N, ...] → [N, K]`` to train.
        teacher: Trained logits model with the same input and ``K``; frozen here.
        alpha: Weight of the distillation term, in [0, 1] (paper: 0.1).
        temperature: Softening temperature T > 0 (paper: 10).
        scale_t2: Multiply the distillation term by T² (Hinton's recommendation; default on;
            the first compression paper's loss has no T²: off).

    Compile with an optimizer and metrics only (the loss is the model's own), e.g.
    ``d.compile(keras.optimizers.Adam(1e-3), metrics=[keras.metrics.SparseCategoricalAccuracy("accuracy")])``,
    then ``d.fit(x, y_int, ...)`` with integer labels ``int64 [N]``.
    """

    def __init__(
        self,
        student: keras.Model,
        teacher: keras.Model,
        alpha: float = 0.1,
        temperature: float = 10.0,
        scale_t2: bool = True,
        **kwargs: Any,
    ) -> None:
        _validate(alpha, temperature)
        if not isinstance(student, keras.Model) or not isinstance(teacher, keras.Model):
            raise ConfigError("student and teacher must be keras models")
        if student is teacher:
            raise ConfigError("student and teacher must be different models")
        s_out, t_out = student.output_shape, teacher.output_shape
        if s_out[-1] != t_out[-1]:
            raise ConfigError(f"student and teacher disagree on the number of classes: {s_out[-1]} vs {t_out[-1]}")
        kwargs.setdefault("name", "distiller")
        super().__init__(**kwargs)
        self.student = student
        self.teacher = teacher
        self.teacher.trainable = False
        self.alpha = float(alpha)
        self.temperature = float(temperature)
        self.scale_t2 = bool(scale_t2)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.student_loss_tracker = keras.metrics.Mean(name="student_loss")
        self.distillation_loss_tracker = keras.metrics.Mean(name="distillation_loss")
        self.built = True  # both sub-models are built functional models; nothing is created lazily

    # -- the loss -----------------------------------------------------------------------------
    @property
    def distill_weight(self) -> float:
        """Weight of the distillation term in the total loss (``alpha`` here)."""
        return self.alpha

    @property
    def ce_weight(self) -> float:
        """Weight of the hard-label cross-entropy (``1 − alpha`` here)."""
        return 1.0 - self.alpha

    def compute_losses(self, y: tf.Tensor, student_logits: tf.Tensor, teacher_logits: tf.Tensor):
        """Return ``(total, ce, distill)`` scalars for integer labels ``y [N]`` and ``[N, K]`` logits.

        ``distill`` already includes the T² factor when ``scale_t2`` is on.
        """
        ce = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, student_logits, from_logits=True))
        kd = distillation_kl(teacher_logits, student_logits, self.temperature)
        if self.scale_t2:
            kd = kd * (self.temperature**2)
        total = self.distill_weight * kd + self.ce_weight * ce
        return total, ce, kd

    # -- keras plumbing -----------------------------------------------------------------------
    def call(self, inputs, training=False):
        return self.student(inputs, training=training)

    @property
    def output_shape(self):
        """The student's logits shape ``(None, K)`` (so generic training code can check ``K``)."""
        return self.student.output_shape

    @property
    def metrics(self):
        out = [self.loss_tracker, self.student_loss_tracker, self.distillation_loss_tracker]
        if getattr(self, "compiled_metrics", None) is not None:
            out += self.compiled_metrics.metrics
        return out

    def _record(self, y, student_logits, total, ce, kd) -> dict[str, tf.Tensor]:
        self.loss_tracker.update_state(total)
        self.student_loss_tracker.update_state(ce)
        self.distillation_loss_tracker.update_state(kd)
        self.compiled_metrics.update_state(y, student_logits)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        x, y = data[0], data[1]
        teacher_logits = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_logits = self.student(x, training=True)
            total, ce, kd = self.compute_losses(y, student_logits, teacher_logits)
        variables = self.student.trainable_variables
        grads = tape.gradient(total, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return self._record(y, student_logits, total, ce, kd)

    def test_step(self, data):
        x, y = data[0], data[1]
        teacher_logits = self.teacher(x, training=False)
        student_logits = self.student(x, training=False)
        total, ce, kd = self.compute_losses(y, student_logits, teacher_logits)
        return self._record(y, student_logits, total, ce, kd)

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "student": keras.saving.serialize_keras_object(self.student),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "alpha": self.alpha,
            "temperature": self.temperature,
            "scale_t2": self.scale_t2,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects=None):
        config = dict(config)
        config["student"] = keras.saving.deserialize_keras_object(config["student"], custom_objects=custom_objects)
        config["teacher"] = keras.saving.deserialize_keras_object(config["teacher"], custom_objects=custom_objects)
        return cls(**config)
