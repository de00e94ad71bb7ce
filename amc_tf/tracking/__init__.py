"""MLflow, and only here (style habit 10): :mod:`~amc_tf.tracking.store` (which store, experiments,
the ``mlflow ui`` command) → :mod:`~amc_tf.tracking.runs` (``flow_run``, child runs, logging typed
results, figures and histories) → :mod:`~amc_tf.tracking.models` (log, register with an alias,
resolve a run id to its model, load)."""
