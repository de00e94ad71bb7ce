"""Compiled attack loops and micro-batching: the TensorFlow building blocks of the native attacks.

Each attack's inner loop is one ``tf.function`` (batch dimension left open, so one trace serves
every batch size), cached per model so that the attack objects of a PNR sweep share it; gradients
are taken with respect to the input only. Steps and projections follow ART 1.20's TensorFlow-v2
PGD operation by operation (``x + eps_step * dir``, then ``x0 + proj(x - x0)``; the L2 direction
as ``|g| * (1/||g||) * sign(g)``) and the loss is ART's softmax cross-entropy on logits, summed
rather than averaged, so deterministic runs agree with ART to float32 rounding. Inside a compiled
call the batch can be cut into ``parts`` micro-batches (:func:`split_apply`) that TensorFlow runs
side by side and that keep activations in cache (:func:`auto_micro_batch`); the price is the
summation order of some kernels (last-bit differences), and ``micro_batch=None`` reproduces
ART's rounding exactly. XLA is not used: it was slower on CPU.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from amc_tf.attacks.budgets import Norm
from amc_tf.runtime import tf

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

#: Target size of a micro-batch's largest activation (see the module docstring).
CACHE_BYTES = 8 * 2**20


def auto_micro_batch(model: Any) -> int:
    """Examples per micro-batch so that the largest layer output stays near :data:`CACHE_BYTES`.

    Reads the layers' static output shapes (float32); a model without them gets 32.
    """
    largest = 0
    for layer in getattr(model, "layers", []):
        try:
            shapes = layer.output_shape
        except (AttributeError, RuntimeError):
            continue
        for shape in shapes if isinstance(shapes, list) else [shapes]:
            dims = [d for d in (shape or ())[1:]]
            if dims and all(isinstance(d, int) for d in dims):
                size = 1
                for d in dims:
                    size *= d
                largest = max(largest, size)
    return max(1, CACHE_BYTES // (4 * largest)) if largest else 32


def cached(model: Any, key: tuple, build: Callable[[], Any]) -> Any:
    """``build()`` once per ``(model, key)``; later calls return the same compiled function."""
    per_model = _CACHE.setdefault(model, {})
    if key not in per_model:
        per_model[key] = build()
    return per_model[key]


def parts_for(batch_size: int, micro_batch: int) -> int:
    """Number of micro-batches a batch of ``batch_size`` is cut into."""
    return max(1, -(-int(batch_size) // int(micro_batch)))


def split_apply(fn: Callable[..., Any], parts: int, *tensors: tf.Tensor) -> Any:
    """``fn(*tensors)`` computed on ``parts`` batch slices and concatenated (same result, per example).

    ``fn`` returns a tensor or a tuple of tensors, each with the batch as its first axis. Slices
    are as even as possible; a batch smaller than ``parts`` (but not empty) is padded with copies
    of its first example so that no slice is empty (``batch_jacobian`` cannot take an empty
    batch), and the padding is cut off the result.
    """
    if parts == 1:
        return fn(*tensors)
    n = tf.shape(tensors[0])[0]
    pad = tf.maximum(parts - n, 0)
    tensors = [tf.concat([t, tf.repeat(t[:1], pad, axis=0)], axis=0) for t in tensors]
    total = n + pad
    sizes = total // parts + tf.cast(tf.range(parts) < total % parts, tf.int32)
    pieces = [tf.split(t, sizes, num=parts, axis=0) for t in tensors]
    outs = [fn(*(p[i] for p in pieces)) for i in range(parts)]
    if isinstance(outs[0], tuple):
        return tuple(tf.concat([o[k] for o in outs], axis=0)[:n] for k in range(len(outs[0])))
    return tf.concat(outs, axis=0)[:n]


def _spec(model: Any) -> tf.TensorSpec:
    return tf.TensorSpec([None, 2, int(model.input_shape[2])], tf.float32)


def logits_fn(model: Any, parts: int = 1) -> Callable:
    """Compiled ``x [N, 2, L] float32 -> logits [N, C] float32`` (inference mode, ``parts`` micro-batches)."""

    def build():
        @tf.function(input_signature=[_spec(model)], reduce_retracing=True)
        def logits(x):
            return split_apply(lambda t: model(t, training=False), parts, x)

        return logits

    return cached(model, ("logits", parts), build)


def loss_and_gradient(model: Any, x: tf.Tensor, y: tf.Tensor, n_classes: int) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
    """Per-example cross-entropy ``[N]``, its input gradient ``[N, 2, L]`` and the logits ``[N, C]``."""
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        logits = model(x, training=False)
        loss = tf.nn.softmax_cross_entropy_with_logits(tf.one_hot(y, n_classes, dtype=logits.dtype), logits)
        total = tf.reduce_sum(loss)
    return loss, tape.gradient(total, x), logits


def loss_gradient_fn(model: Any, n_classes: int, parts: int = 1) -> Callable:
    """Compiled ``(x [N,2,L], y int64 [N]) -> (loss [N], grad [N,2,L], logits [N,C])``."""

    def build():
        @tf.function(input_signature=[_spec(model), tf.TensorSpec([None], tf.int64)], reduce_retracing=True)
        def fn(x, y):
            return split_apply(lambda a, b: loss_and_gradient(model, a, b, n_classes), parts, x, y)

        return fn

    return cached(model, ("loss_grad", n_classes, parts), build)


def _per_example(v: tf.Tensor) -> tf.Tensor:
    return tf.reshape(v, (tf.shape(v)[0], -1))


def steepest_direction(grad: tf.Tensor, norm: Norm) -> tf.Tensor:
    """Unit-norm ascent direction: ``sign(g)`` (L-inf) or ``g / ||g||_2`` (L2; zero stays zero)."""
    if norm is Norm.LINF:
        return tf.sign(grad)
    flat = _per_example(grad)
    n = tf.norm(flat, ord=2, axis=1, keepdims=True)
    # divide_no_nan(1, n) is ART's where(n == 0, 0, 1 / n) with the same correctly rounded
    # division; a literal 1 / n is rewritten by Grappler's constant folding into Reciprocal, whose
    # vectorised kernel can be 1 ulp off (and then L2 steps drift from ART's).
    flat = tf.abs(flat) * tf.math.divide_no_nan(tf.ones_like(n), n)
    return tf.reshape(flat, tf.shape(grad)) * tf.sign(grad)


def project_ball(delta: tf.Tensor, eps: tf.Tensor, norm: Norm) -> tf.Tensor:
    """Project ``delta [N,2,L]`` onto per-example balls of radius ``eps [N]`` (exact for L2 and L-inf)."""
    if norm is Norm.LINF:
        e = tf.reshape(eps, (-1, 1, 1))
        return tf.sign(delta) * tf.minimum(tf.abs(delta), e)
    flat = _per_example(delta)
    e = tf.reshape(eps, (-1, 1))
    n = tf.norm(flat, ord=2, axis=1, keepdims=True)
    flat = flat * tf.where(n == 0, tf.zeros_like(n), tf.minimum(1.0, e / n))
    return tf.reshape(flat, tf.shape(delta))


def l1_normalise(grad: tf.Tensor) -> tf.Tensor:
    """``g / ||g||_1`` per example (MI-FGSM's accumulation term; zero stays zero)."""
    n = tf.reduce_sum(tf.abs(_per_example(grad)), axis=1)
    return grad * tf.reshape(tf.math.divide_no_nan(tf.ones_like(n), n), (-1, 1, 1))


def iterative_fn(
    model: Any, n_classes: int, norm: Norm, steps: int, momentum: bool, score: bool, parts: int = 1
) -> Callable:
    """Compiled PGD / MI-FGSM loop on one batch.

    The returned function maps ``(x0 [N,2,L], y int64 [N], eps [N], step [N], delta0 [N,2,L],
    mu [])`` to ``(x_adv [N,2,L], loss [N], correct bool [N])``, the last two evaluated at
    ``x_adv`` (used to keep the best of several restarts; only computed with ``score``, else
    zeros: the extra forward pass is skipped). ``delta0`` is the random start (zeros
    for none); with ``momentum`` the update direction is that of ``g_t = mu g_{t-1} + grad/||grad||_1``.
    """

    def build():
        spec = _spec(model)
        vec = tf.TensorSpec([None], tf.float32)

        @tf.function(
            input_signature=[spec, tf.TensorSpec([None], tf.int64), vec, vec, spec, tf.TensorSpec([], tf.float32)],
            reduce_retracing=True,
        )
        def run(x0, y, eps, step, delta0, mu):
            x_adv = x0 + delta0
            acc = tf.zeros_like(x0)
            step3 = tf.reshape(step, (-1, 1, 1))
            for _ in tf.range(steps):
                grad = split_apply(lambda a, b: loss_and_gradient(model, a, b, n_classes)[1], parts, x_adv, y)
                if momentum:
                    acc = mu * acc + l1_normalise(grad)
                    grad = acc
                x_adv = x_adv + step3 * steepest_direction(grad, norm)
                x_adv = project_ball(x_adv - x0, eps, norm) + x0
            if not score:
                n = tf.shape(x0)[0]
                return x_adv, tf.zeros([n], tf.float32), tf.zeros([n], tf.bool)
            logits = split_apply(lambda t: model(t, training=False), parts, x_adv)
            loss = tf.nn.softmax_cross_entropy_with_logits(tf.one_hot(y, n_classes, dtype=logits.dtype), logits)
            correct = tf.equal(tf.argmax(logits, axis=1), y)
            return x_adv, loss, correct

        return run

    return cached(model, ("iterative", n_classes, norm.value, int(steps), bool(momentum), bool(score), parts), build)
