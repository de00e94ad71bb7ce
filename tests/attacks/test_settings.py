"""The TF-free settings module and the registry agree, and loading any shipped config imports
neither TensorFlow nor Prefect (a typo is reported in about a second)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from amc_tf.attacks import settings
from amc_tf.attacks.baselines.art import ART_BASELINES
from amc_tf.attacks.registry import ATTACK_CLASSES

CONFIGS = sorted(str(p) for p in (Path(__file__).parents[2] / "configs").glob("*.yaml"))


def test_registry_and_settings_list_the_same_attacks_in_the_same_order():
    assert tuple(cls.Settings for cls in ATTACK_CLASSES) == settings.ATTACK_SETTINGS
    assert [cls.name for cls in ATTACK_CLASSES] == list(settings.SETTINGS)


def test_art_baseline_names_and_twins_agree():
    assert {name: cls.twin for name, cls in ART_BASELINES.items()} == settings.ART_TWINS
    assert list(ART_BASELINES) == list(settings.ART_TWINS)
    for cls in ART_BASELINES.values():
        assert cls.Settings.__module__ == settings.__name__


def test_loading_every_shipped_config_imports_no_tensorflow():
    assert len(CONFIGS) >= 5
    code = (
        "import sys\n"
        "from amc_tf.config.pipelines import load_pipeline\n"
        f"for path in {CONFIGS!r}:\n"
        "    load_pipeline(path)\n"
        "heavy = [m for m in ('tensorflow', 'tf_keras', 'prefect', 'art', 'mlflow') if m in sys.modules]\n"
        "print('heavy:', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "heavy: []" in proc.stdout, proc.stdout + proc.stderr
