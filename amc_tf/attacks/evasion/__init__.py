"""Per-example evasion attacks: :mod:`~amc_tf.attacks.evasion.pgd` (PGD, L2 / L-inf, the shared
loop), :mod:`~amc_tf.attacks.evasion.fgm` (FGM, FGSM), :mod:`~amc_tf.attacks.evasion.mifgsm`
(MI-FGSM), :mod:`~amc_tf.attacks.evasion.deepfool` (DeepFool)."""
