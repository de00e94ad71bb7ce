"""Session fixtures for the attack tests: one tiny dataset, one small trained logits model."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def load_tiny():
    spec = importlib.util.spec_from_file_location("amc_attack_tiny", Path(__file__).with_name("tiny.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tiny = load_tiny()


@pytest.fixture(scope="session")
def tiny_data():
    return tiny.make_dataset()


@pytest.fixture(scope="session")
def tiny_model(tiny_data):
    return tiny.train_tiny_model(tiny_data)


@pytest.fixture(scope="session")
def snr10(tiny_data):
    """The 10 dB examples (the papers' operating point), at most 200."""
    ds = tiny_data.select(snrs=[10])
    return ds.subset(slice(0, 200))
