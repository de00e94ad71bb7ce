"""Attention-map distances for adversarial attention distillation (robust teacher → compact student).

The method of "attention-based adversarial robust distillation" (references §4.2) transfers the
robust teacher's attention maps on adversarial inputs to the student; its loss is not public (D8).
The trainer, :class:`amc_tf.defenses.robust_distill.RobustDistiller` (a training-time defence,
design D10), adds ``β · Σ_(t,s) d(A_t(x'), A_s(x'))`` over mapped layer pairs, where ``A`` is a
layer's attention probabilities averaged over heads (so teacher and student may differ in head
count and width) and ``d`` is one of

* ``at`` — attention transfer (Zagoruyko & Komodakis): flatten the L×L map, L2-normalise per
  sample, squared distance between the two unit vectors;
* ``mse`` — TinyBERT: squared distance between the two attention distributions of each query
  (a row of the map);
* ``kl`` — MiniLM: KL(A_teacher ‖ A_student) of each query's distribution.

Each is **summed over the map's entries** (keys) and averaged over queries and samples, so it is
O(1) whatever the sequence length: Zagoruyko's ``at_loss`` and TinyBERT's MSE *average* over the
entries, which on MCformer's 128×128 maps makes the term ~1e-4–1e-8 of this one and a β tuned for
32×32 CNN maps meaningless (their β = 1000 over 1,024 entries is β ≈ 1 here). Measured: between an
untrained student and teacher the averaged ``at`` term is ~5e-9, so at β = 1000 it contributes
nothing to the loss.

The maps come from :func:`amc_tf.models.mcformer.attention_model` (sub-models sharing the weights),
so nothing of the transformers is re-implemented.
"""

from __future__ import annotations

from amc_tf.errors import ConfigError
from amc_tf.runtime import tf

#: The attention distances (module docstring).
DISTANCES = ("at", "mse", "kl")


def head_average(maps: tf.Tensor) -> tf.Tensor:
    """``[N, heads, L, L]`` attention probabilities → their head mean ``[N, L, L]`` (rows still sum to 1)."""
    return tf.reduce_mean(maps, axis=1)


def attention_distance(teacher: tf.Tensor, student: tf.Tensor, distance: str = "at") -> tf.Tensor:
    """Scalar distance between two layers' attention maps (module docstring).

    Args:
        teacher: ``float32 [N, heads_t, L, L]`` teacher attention probabilities.
        student: ``float32 [N, heads_s, L, L]`` student attention probabilities (same N and L).
        distance: ``at``, ``mse`` or ``kl``.
    """
    a_t, a_s = head_average(teacher), head_average(student)
    if distance == "at":
        n = tf.shape(a_t)[0]
        f_t = tf.math.l2_normalize(tf.reshape(a_t, (n, -1)), axis=1)
        f_s = tf.math.l2_normalize(tf.reshape(a_s, (n, -1)), axis=1)
        return tf.reduce_mean(tf.reduce_sum(tf.square(f_t - f_s), axis=1))
    if distance == "mse":
        return tf.reduce_mean(tf.reduce_sum(tf.square(a_t - a_s), axis=-1))
    if distance == "kl":
        eps = 1e-12
        return tf.reduce_mean(tf.reduce_sum(a_t * (tf.math.log(a_t + eps) - tf.math.log(a_s + eps)), axis=-1))
    raise ConfigError(f"unknown attention distance {distance!r}; known: {list(DISTANCES)}")


def default_pairs(teacher_layers: int, student_layers: int) -> list[tuple[int, int]]:
    """Layer mapping (1-based): every student layer ``s`` takes the teacher layer at the same
    relative depth, ``t = ceil(s · T / S)`` (equal depths: layer i ↔ layer i)."""
    return [(-(-s * teacher_layers // student_layers), s) for s in range(1, student_layers + 1)]


__all__ = ["DISTANCES", "attention_distance", "default_pairs", "head_average"]
