"""amc-tf: small and provably robust wireless deep-learning models.

The runtime module is imported first so that TensorFlow loads with the Keras-2 API (design D1).
"""

from amc_tf import runtime as _runtime  # noqa: F401  (must run before anything imports TF)

__version__ = "0.1.0"
