"""Neural rejection (Melis et al. 2017; references §7.2): RBF SVMs on a classifier's features.

The classifier's softmax head is replaced by one binary RBF-kernel SVM per class (true
one-vs-rest: one ``sklearn.svm.SVC`` per class trained on "class k against the rest", not SVC's
one-vs-one votes reshaped as 'ovr') trained on the last feature layer ζ (by default the input of
the final logits Dense). With scores ``S_k(ζ)``, the decision is ``c* = argmax_k S_k`` if
``S_c* > S_0``, else :data:`REJECT`; ``S_0`` rejects ``reject_rate`` of the clean validation
windows (Sotgiu et al.'s ``compute_threshold``). The RBF kernel's scores decay far from the
training features, so large perturbations are rejected rather than misclassified.

Hand-written because secml (the authors' library) has no TensorFlow back-end; :meth:`tf_scores`
goes through :class:`~amc_tf.defenses.tf_svm.TFRBFSVM`, equal to the fitted SVCs, so the adaptive
attack (:mod:`amc_tf.attacks.adaptive`) differentiates through features and kernel.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import SVC

from amc_tf.attacks.adaptive_settings import REJECT
from amc_tf.config.rejection import NeuralRejectionConfig
from amc_tf.defenses.tf_svm import TFRBFSVM
from amc_tf.errors import ConfigError, ModelError
from amc_tf.runtime import keras, tf

__all__ = ["REJECT", "NeuralRejection", "feature_extractor", "stratified_cap", "threshold_for_rate"]


def feature_extractor(model: keras.Model, layer: str | None = None) -> keras.Model:
    """``x [N, 2, L] -> features [N, D]``: the output of ``layer``, or the input of the final Dense.

    Raises:
        ConfigError: ``layer`` is not a layer of the model.
        ModelError: no layer given and the model does not end in a Dense layer.
    """
    if layer is not None:
        try:
            out = model.get_layer(layer).output
        except ValueError:
            names = [lay.name for lay in model.layers]
            raise ConfigError(f"model {model.name!r} has no layer {layer!r}; layers: {names}") from None
    else:
        last = model.layers[-1]
        if not isinstance(last, keras.layers.Dense):
            raise ModelError(f"model {model.name!r} does not end in a Dense logits layer: name the feature layer")
        out = last.input
    features = keras.Model(model.inputs, out, name=f"{model.name}_features")
    if len(features.output_shape) != 2:
        raise ConfigError(f"feature layer output must be [N, D], got {features.output_shape}")
    return features


def stratified_cap(y: np.ndarray, cap: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of at most ``cap`` examples, the same share of each class (at least one each)."""
    y = np.asarray(y)
    if y.size <= cap:
        return np.arange(y.size)
    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        n = max(1, int(round(cap * idx.size / y.size)))
        picks.append(rng.choice(idx, size=min(n, idx.size), replace=False))
    return np.sort(np.concatenate(picks))


def threshold_for_rate(values: np.ndarray, rate: float) -> float:
    """``t`` such that ``values <= t`` holds for ``round(rate n)`` of the ``n`` values (fewer only on ties).

    A rejector that rejects ``values <= t`` then rejects ``rate`` of the data (within 1/n).
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    k = int(round(rate * v.size))
    if v.size == 0:
        raise ModelError("a threshold needs at least one validation example")
    return float(np.nextafter(v[0], -np.inf)) if k == 0 else float(v[k - 1])


class NeuralRejection:
    """A classifier's features, K one-vs-rest RBF SVMs and a reject threshold (module docstring).

    Args:
        classifier: A logits classifier (design D3), input ``[N, 2, L]``.
        config: The SVM, feature and threshold settings.
        batch_size: Batch of the feature forward passes.

    Attributes after :meth:`fit`: ``svms`` (K fitted ``SVC``), ``tf_svm``, ``threshold`` (S_0),
    ``mean``/``scale`` (the standardisation, zeros/ones when off).
    """

    def __init__(self, classifier: keras.Model, config: NeuralRejectionConfig | None = None, batch_size: int = 256):
        self.classifier = classifier
        self.config = config or NeuralRejectionConfig()
        self.extractor = feature_extractor(classifier, self.config.layer)
        self.n_classes = int(classifier.output_shape[-1])
        self.batch_size = batch_size
        self.svms: list[SVC] = []
        self.threshold: float | None = None

    def features(self, x: np.ndarray) -> np.ndarray:
        """Feature vectors ``float32 [N, D]`` of windows ``x [N, 2, L]``."""
        return np.asarray(self.extractor.predict(np.asarray(x, np.float32), batch_size=self.batch_size, verbose=0))

    def fit(self, x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, seed: int = 0) -> NeuralRejection:
        """Train the SVMs on (at most ``max_train``, stratified) training windows; set S_0 on ``x_val``."""
        y_train = np.asarray(y_train)
        missing = sorted(set(range(self.n_classes)) - set(np.unique(y_train).tolist()))
        if missing:
            raise ModelError(f"SVM training data lacks classes {missing}")
        keep = stratified_cap(y_train, self.config.max_train, seed)
        feats = self.features(x_train[keep]).astype(np.float64)
        labels = y_train[keep]
        if self.config.standardise:
            self.mean, self.scale = feats.mean(axis=0), np.where(feats.std(axis=0) > 0, feats.std(axis=0), 1.0)
        else:
            self.mean, self.scale = np.zeros(feats.shape[1]), np.ones(feats.shape[1])
        z = (feats - self.mean) / self.scale
        self.svms = [
            SVC(kernel="rbf", gamma=self.config.gamma, C=self.config.C).fit(z, (labels == k).astype(int))
            for k in range(self.n_classes)
        ]
        self.tf_svm = TFRBFSVM(self.svms)
        self._tf_mean = tf.constant(self.mean, tf.float64)
        self._tf_scale = tf.constant(self.scale, tf.float64)
        self.threshold = threshold_for_rate(self.scores(x_val).max(axis=1), self.config.reject_rate)
        return self

    def _check_fitted(self) -> None:
        if not self.svms:
            raise ModelError("NeuralRejection is not fitted: call fit() first")

    def scores(self, x: np.ndarray) -> np.ndarray:
        """scikit-learn decision values ``float64 [N, K]`` (S_k, positive = class k)."""
        self._check_fitted()
        z = (self.features(x).astype(np.float64) - self.mean) / self.scale
        return np.stack([svm.decision_function(z) for svm in self.svms], axis=1)

    def tf_scores(self, x: tf.Tensor) -> tf.Tensor:
        """Differentiable decision values ``float64 [N, K]`` of windows ``x float32 [N, 2, L]``."""
        self._check_fitted()
        feats = tf.cast(self.extractor(x, training=False), tf.float64)
        return self.tf_svm((feats - self._tf_mean) / self._tf_scale)

    def decide(self, scores: np.ndarray) -> np.ndarray:
        """``argmax_k S_k`` where it exceeds S_0, else :data:`REJECT` (``int64 [N]``)."""
        best = np.argmax(scores, axis=1).astype(np.int64)
        return np.where(scores.max(axis=1) > self.threshold, best, REJECT)

    def predict_with_rejection(self, x: np.ndarray) -> np.ndarray:
        """Class index or :data:`REJECT` per window (``int64 [N]``)."""
        return self.decide(self.scores(x))

    def describe(self) -> dict[str, Any]:
        """JSON-able summary (config, threshold, support vectors per class)."""
        return {
            "kind": "neural_rejection",
            **self.config.model_dump(),
            "threshold": self.threshold,
            "n_support": [int(svm.support_vectors_.shape[0]) for svm in self.svms],
        }
