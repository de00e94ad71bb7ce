"""Third-party twins of the native attacks: :mod:`~amc_tf.attacks.baselines.art` (ART 1.20)."""
