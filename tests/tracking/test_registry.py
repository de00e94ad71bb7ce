"""The promotion ladder candidate -> champion -> previous: promote, rollback, their errors, and
``amc-tf models list|promote|rollback``."""

from __future__ import annotations

import pytest

from amc_tf.errors import ModelError
from amc_tf.tracking import registry


@pytest.fixture()
def three_versions(mlflow_store, tiny_model):
    """``ladder`` with versions 1, 2, 3 of one logged tiny model; ``candidate`` on v3."""
    import mlflow

    from amc_tf.tracking.models import log_keras_model, register_model
    from amc_tf.tracking.store import ensure_experiment

    with mlflow.start_run(experiment_id=ensure_experiment("sources"), run_name="source"):
        uri = log_keras_model(tiny_model, "model")
    for _ in range(3):
        register_model(uri, "ladder", alias="candidate")
    return "ladder"


def test_promote_keeps_the_old_champion_as_previous_and_rollback_restores_it(three_versions):
    name = three_versions
    assert registry.aliases(name) == {"candidate": 3}
    first = registry.promote(name, 1)
    assert first.after == {"candidate": 3, "champion": 1}
    second = registry.promote(name)  # the candidate
    assert second.after == {"candidate": 3, "champion": 3, "previous": 1}
    assert "champion=v1" in second.describe() and "champion=v3" in second.describe()
    assert registry.promote(name).after == second.after  # promoting the champion changes nothing
    back = registry.rollback(name)
    assert back.after == {"candidate": 3, "champion": 1}
    with pytest.raises(ModelError, match="no 'previous' version"):
        registry.rollback(name)


def test_errors_name_the_model_and_what_is_missing(three_versions):
    with pytest.raises(ModelError, match=r"no registered model named 'nope'; registered: \['ladder'\]"):
        registry.promote("nope")
    with pytest.raises(ModelError, match="has no version 9"):
        registry.promote(three_versions, 9)
    with pytest.raises(ModelError, match="no alias 'champion'.*nope"):
        registry.versions_with_alias([three_versions, "nope"], "champion")
    assert registry.versions_with_alias([three_versions], "candidate") == {"ladder": 3}


def test_models_cli(three_versions, cli):
    listed = cli("models", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "ladder" in listed.stdout and "v3" in listed.stdout and "[candidate]" in listed.stdout
    promoted = cli("models", "promote", "ladder", "--version", "2")
    assert promoted.exit_code == 0 and "champion=v2" in promoted.stdout
    assert cli("models", "promote", "ladder").exit_code == 0
    assert registry.aliases("ladder") == {"candidate": 3, "champion": 3, "previous": 2}
    rolled = cli("models", "rollback", "ladder")
    assert rolled.exit_code == 0 and registry.aliases("ladder")["champion"] == 2
    missing = cli("models", "rollback", "nope")
    assert missing.exit_code == 2 and missing.stderr.startswith("error: no registered model named 'nope'")
