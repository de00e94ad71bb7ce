"""Pruning: Net-Trim (convex, per layer, ADMM) and TF-MOT magnitude pruning.

``amc_tf.prune.tfmot`` is the only module that imports ``tensorflow_model_optimization``; import it
explicitly when needed (it is not imported here, so Net-Trim works without loading TF-MOT).
"""
