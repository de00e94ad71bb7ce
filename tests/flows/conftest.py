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


@pytest.fixture(scope="session")
def tiny_pipeline_config(tiny_compress_sections) -> Callable[..., dict]:
    """``config(tmp_path, **extra)``: the tiny ``pipeline`` config as a mapping, ``extra`` merged in.

    Besides the chain it has Fig. 4 (one method, ``fgm_only``) and certification of f_S^adv, so
    one run of it also carries everything the defend flow's stages produce."""

    def config(tmp_path: Path, **extra) -> dict:
        compress = tiny_compress_sections(tmp_path, student_epochs=2)
        compress.update(
            tfmot={"epochs": 1, "batch_size": 32},
            export={"snr": 10, "latency_repeats": 1},
            evaluation={"confusion_snrs": [10, 18]},
        )
        return {
            "kind": "pipeline",
            "name": "pipeline_test",
            "seed": 2,
            "compress": compress,
            "adversarial": {
                "mix": [
                    {"attack": {"name": "pgd_linf", "steps": 2}, "fraction": 0.5},
                    {"attack": "fgsm", "fraction": 0.5},
                ],
                "train": {"batch_size": 32, "epochs": 1, "patience": 0},
            },
            "robustness": {
                "attacks": [
                    "fgm",
                    {"name": "pgd_linf", "steps": 2},
                    {"name": "uap_svd", "n_fit": 16, "draws": 1},
                    "noise_gaussian",
                ],
                "art_baselines": ["fgm"],
                "pnr_db": [-10, 0],
                "n_examples": 16,
                "batch_size": 64,
                "breakdown_pnr_db": None,
            },
            "art_models": ["f_S"],
            "methods": [{"name": "fgm_only", "mix": [{"attack": "fgm", "fraction": 1.0}]}],
            "certify": {"n0": 10, "n": 100, "alpha": 0.1, "batch_size": 200},
            "certify_models": ["f_S_adv"],
            "certify_examples": 8,
            "tracking": {"experiment": "pipeline-test"},
            "output_dir": str(tmp_path / "artifacts"),
            **extra,
        }

    return config


@pytest.fixture(scope="session")
def tiny_pipeline_run(prefect_harness, tmp_path_factory, tiny_pipeline_config):
    """ONE finished tiny ``pipeline`` run for the session, in its own store: ``(result, its
    folder, the store URI)``. The compress and defend flows' stages run inside it, so
    ``test_pipeline``, ``test_compress`` and ``test_defend`` all read it (its stage cache is
    ``<folder>/artifacts/stage-cache``; their own flow runs go to their own stores). Other tests
    must not add flow runs to its store (they would change what ``amc-tf report claims`` finds)."""
    from amc_tf.config.base import validate_config
    from amc_tf.config.chain import ChainConfig
    from amc_tf.tracking.store import configure
    from flows.pipeline import pipeline

    tmp_path = tmp_path_factory.mktemp("pipeline")
    uri = f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", uri)
        configure(uri)
        result = pipeline(validate_config(ChainConfig, tiny_pipeline_config(tmp_path)))
    configure()  # back to the session's store
    return result, tmp_path, uri
