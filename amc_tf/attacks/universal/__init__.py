"""Universal perturbations (one vector for every input): :mod:`~amc_tf.attacks.universal.base`
(fit/generate, the radius), :mod:`~amc_tf.attacks.universal.svd` (Sadeghi & Larsson),
:mod:`~amc_tf.attacks.universal.iterative` (Moosavi-Dezfooli)."""
