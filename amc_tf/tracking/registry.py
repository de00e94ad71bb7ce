"""The model registry's promotion ladder (issue 16 item 3): every flow registers its models under
the alias ``candidate``; a candidate that passes the nightly robustness regression becomes
``champion``, and the champion it replaces is kept as ``previous``, so a bad promotion is undone
in one step (:func:`rollback`).

MLflow's registry already stores versions and aliases; this module only fixes the three aliases'
meaning and the order of the moves, and turns MLflow's errors into :class:`ModelError` messages
that name the model and alias.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from amc_tf.errors import ModelError

CANDIDATE, CHAMPION, PREVIOUS = "candidate", "champion", "previous"


@dataclass(frozen=True)
class VersionRow:
    """One registered version: number, aliases, source run and creation time (ms since epoch)."""

    version: int
    aliases: list[str]
    run_id: str | None
    created_ms: int


@dataclass(frozen=True)
class RegisteredRow:
    """One registered model and its versions, newest first."""

    name: str
    aliases: dict[str, int]
    versions: list[VersionRow] = field(default_factory=list)


@dataclass(frozen=True)
class Move:
    """What a promotion or rollback did: the alias map before and after."""

    name: str
    before: dict[str, int]
    after: dict[str, int]

    def describe(self) -> str:
        def fmt(aliases: dict[str, int]) -> str:
            return ", ".join(f"{a}=v{v}" for a, v in sorted(aliases.items())) or "no aliases"

        return f"{self.name}: {fmt(self.before)} -> {fmt(self.after)}"


def _client(client=None):
    if client is not None:
        return client
    from mlflow import MlflowClient

    return MlflowClient()


def _model(client, name: str):
    try:
        return client.get_registered_model(name)
    except Exception as err:  # MlflowException: RESOURCE_DOES_NOT_EXIST
        known = sorted(m.name for m in client.search_registered_models())
        raise ModelError(f"no registered model named {name!r}; registered: {known}") from err


def aliases(name: str, client=None) -> dict[str, int]:
    """Alias → version of registered model ``name`` (:class:`ModelError` if it is not registered)."""
    client = _client(client)
    return {alias: int(version) for alias, version in _model(client, name).aliases.items()}


def versions_with_alias(names: list[str], alias: str, client=None) -> dict[str, int]:
    """The version ``alias`` points at for each of ``names``.

    Raises:
        ModelError: naming every model that is not registered or lacks the alias.
    """
    client = _client(client)
    versions, problems = {}, []
    for name in names:
        try:
            found = aliases(name, client)
        except ModelError as err:
            problems.append(str(err))
            continue
        if alias not in found:
            problems.append(f"{name} has no alias {alias!r} (aliases: {found or 'none'})")
        else:
            versions[name] = found[alias]
    if problems:
        raise ModelError("; ".join(problems))
    return versions


def list_models(client=None) -> list[RegisteredRow]:
    """Every registered model with its aliases and versions (newest first), sorted by name."""
    client = _client(client)
    rows = []
    for model in sorted(client.search_registered_models(), key=lambda m: m.name):
        by_version: dict[int, list[str]] = {}
        for alias, version in model.aliases.items():
            by_version.setdefault(int(version), []).append(alias)
        versions = [
            VersionRow(int(v.version), sorted(by_version.get(int(v.version), [])), v.run_id, int(v.creation_timestamp))
            for v in client.search_model_versions(f"name = '{model.name}'")
        ]
        versions.sort(key=lambda v: -v.version)
        rows.append(RegisteredRow(model.name, {a: int(v) for a, v in model.aliases.items()}, versions))
    return rows


def promote(name: str, version: int | None = None, client=None) -> Move:
    """Make ``version`` (default: the ``candidate``) the ``champion`` of ``name``; the champion it
    replaces becomes ``previous``. Promoting the current champion changes nothing.

    Raises:
        ModelError: the model is not registered, it has no candidate and no version was given, or
            the version does not exist.
    """
    client = _client(client)
    before = aliases(name, client)
    if version is None:
        if CANDIDATE not in before:
            raise ModelError(f"{name} has no {CANDIDATE!r} version to promote (aliases: {before or 'none'})")
        version = before[CANDIDATE]
    try:
        client.get_model_version(name, str(version))
    except Exception as err:
        raise ModelError(f"{name} has no version {version}") from err
    if before.get(CHAMPION) == version:
        return Move(name, before, before)
    if CHAMPION in before:
        client.set_registered_model_alias(name, PREVIOUS, str(before[CHAMPION]))
    client.set_registered_model_alias(name, CHAMPION, str(version))
    return Move(name, before, aliases(name, client))


def rollback(name: str, client=None) -> Move:
    """Give ``champion`` back to the ``previous`` version and drop ``previous`` (one step back;
    the demoted version keeps its other aliases, e.g. ``candidate``).

    Raises:
        ModelError: the model is not registered or has no ``previous`` version.
    """
    client = _client(client)
    before = aliases(name, client)
    if PREVIOUS not in before:
        raise ModelError(f"{name} has no {PREVIOUS!r} version to roll back to (aliases: {before or 'none'})")
    client.set_registered_model_alias(name, CHAMPION, str(before[PREVIOUS]))
    client.delete_registered_model_alias(name, PREVIOUS)
    return Move(name, before, aliases(name, client))
