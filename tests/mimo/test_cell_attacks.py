"""The cell-attack registry: one class per attack name, derived from the classes."""

from __future__ import annotations

from amc_tf.config.mimo import CellAttackName
from amc_tf.mimo import cell_attacks


def test_every_attack_name_has_exactly_one_class():
    declared = [cls.name for cls in cell_attacks.CELL_ATTACK_CLASSES]
    assert sorted(declared) == sorted(CellAttackName)  # each name once, none missing
    assert all(isinstance(name, CellAttackName) for name in declared)
    assert set(cell_attacks.CELL_ATTACKS) == set(CellAttackName)
    for name, cls in cell_attacks.CELL_ATTACKS.items():
        assert cls.name is name


def test_build_cell_attack_uses_the_settings(trained_m1):
    from amc_tf.config.mimo import MimoAttackConfig

    model, _ = trained_m1
    settings = MimoAttackConfig(pgd_step_m=0.05, pgd_iters=7, mifgsm_mu=0.5, mifgsm_iters=3)
    pgd = cell_attacks.build_cell_attack("PGDM", model, 0.3, settings, seed=4)
    assert isinstance(pgd, cell_attacks.CellPGDM) and (pgd.step, pgd.iterations, pgd.seed) == (0.05, 7, 4)
    mi = cell_attacks.build_cell_attack(CellAttackName.MIFGSM, model, 0.3, settings)
    assert isinstance(mi, cell_attacks.CellMIFGSM) and (mi.mu, mi.iterations) == (0.5, 3)
    assert isinstance(cell_attacks.build_cell_attack("RANDOM", model, 0.3), cell_attacks.CellRandomSign)
