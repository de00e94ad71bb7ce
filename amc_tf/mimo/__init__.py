"""Massive-MIMO downlink power allocation (design D7; references §8).

Simulator: :mod:`~amc_tf.mimo.geometry` (wrap-around layout, drops, pathloss) →
:mod:`~amc_tf.mimo.correlation` (local scattering) → :mod:`~amc_tf.mimo.channels` (MMSE estimation,
channel draws) → :mod:`~amc_tf.mimo.gains` (hardening-bound a, b for MR and M-MMSE, using
:mod:`~amc_tf.mimo.toeplitz`) → :mod:`~amc_tf.mimo.power` (batched max-product-SINR solver, SE;
cvxpy reference in :mod:`~amc_tf.mimo.reference`). :mod:`~amc_tf.mimo.simulate` chains them and
:mod:`~amc_tf.mimo.dataset` shards, parallelises and resumes generation.

Learning and robustness: :mod:`~amc_tf.mimo.training` (M1/M2 per cell,
:mod:`amc_tf.models.mimo_dnn`) → :mod:`~amc_tf.mimo.model_sets` (model sets on disk, their cache
keys) → :mod:`~amc_tf.mimo.cell_attacks` (cell-based FGSM / PGDM / MI-FGSM / random sign) →
:mod:`~amc_tf.mimo.robustness` (success-rate sweeps) and :mod:`~amc_tf.mimo.margins` (why they
succeed or not) → :mod:`~amc_tf.mimo.adversarial` → :mod:`~amc_tf.mimo.transfer` →
:mod:`~amc_tf.mimo.sumse`; :mod:`~amc_tf.mimo.plots` draws the results.
:mod:`~amc_tf.mimo.stages` is what the ``mimo`` flow calls; it returns the typed results of
:mod:`~amc_tf.mimo.stage_results`.
"""
