"""Defences (design D10): training recipes that make a classifier robust, and run-time rejectors.

Adversarial training, in data-flow order: :mod:`~amc_tf.config.defense` (the config, TF-free
settings) → :mod:`~amc_tf.defenses.adversarial_steps` (in-graph budget and FGM/FGSM/PGD steps) →
:mod:`~amc_tf.defenses.adversarial_model` (the ``keras.Model`` whose ``train_step`` crafts, freezes
and keeps pruning masks) and :mod:`~amc_tf.defenses.adversarial_offline` (the paper's crafting with
the registry attacks) → :mod:`~amc_tf.defenses.adversarial_training` (``adversarial_train``,
``online_epoch_throughput``) → :mod:`~amc_tf.defenses.adversarial_results` (the typed result and
the budget audit); :mod:`~amc_tf.defenses.art_trainer` (ART 1.20's trainers, the baseline of ours).
Nothing is imported here, so importing one defence does not load the others.
"""
