"""amc-tf: small and provably robust wireless deep-learning models.

Importing the package sets the environment TensorFlow reads at its own import (design D1): the
Keras-2 API (``TF_USE_LEGACY_KERAS=1``, which TF-MOT and ART need), no oneDNN re-ordered float
sums (bit-reproducible CPU numbers), no C++ INFO/WARNING lines unless the user asked for them,
and MLflow's pickle deserialisation off (D9). TensorFlow itself is imported only by
:mod:`amc_tf.runtime`, on first use, so the command line answers ``--help`` and rejects a bad
config without paying for it.
"""

import os as _os

_os.environ["TF_USE_LEGACY_KERAS"] = "1"
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep CPU-feature banners out of user output
_os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # oneDNN reorders float sums: not bit-reproducible
# MLflow's own switch for unpickling model files and evaluation artifacts (default "true"): off,
# so no MLflow loader runs a pickle's code (D9). Read by MLflow at load time.
_os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")

__version__ = "0.1.0"
