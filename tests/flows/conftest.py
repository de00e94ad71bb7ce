"""Fixtures shared by the flow tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_compress_sections() -> Callable[..., dict]:
    """The smallest data → teacher → students → Net-Trim sections of a compress config (4 classes,
    2 SNRs, 16 windows per key of 32 samples): ``sections(tmp_path, student_epochs=1)``."""

    def sections(tmp_path: Path, student_epochs: int = 1) -> dict:
        return {
            "data": {
                "synthetic": {
                    "family": "rml2016",
                    "windows_per_key": 16,
                    "snrs": [10, 18],
                    "window": 32,
                    "classes": ["BPSK", "QPSK", "QAM16", "GFSK"],
                    "seed": 1,
                },
                "split": {"train": 0.5, "val": 0.0, "test": 0.5},
                "cache_dir": str(tmp_path / "cache"),
            },
            "teacher": {"name": "inception", "params": {"dense_units": 8}},
            "teacher_train": {"batch_size": 32, "epochs": 1, "patience": 0, "verbose": 0},
            "student_train": {"batch_size": 32, "epochs": student_epochs, "patience": 0, "verbose": 0},
            "nettrim": {"samples": 40, "max_iter": 20, "eta": 0.2},
        }

    return sections
