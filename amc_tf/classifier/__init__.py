"""The stages of the classifier pipelines, as plain functions on paths and typed results (the
flows in ``flows/`` only wrap them in tasks, child runs and logging).

In data-flow order:

* :mod:`~amc_tf.classifier.stages` — data (generate or read from the cache) → seeded splits →
  build a registry model → train → save → evaluate (``train_classifier``, ``evaluate_robustness``
  and the first steps of ``compress``);
* :mod:`~amc_tf.classifier.compression` — distil → Net-Trim → TF-MOT (at Net-Trim's sparsity) →
  TFLite size table → per-model evaluation (``compress``);
* :mod:`~amc_tf.classifier.results` — the typed results those stages return;
* :mod:`~amc_tf.classifier.figures` — the figures of those results.
"""
