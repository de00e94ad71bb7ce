"""``amc-tf data generate|import|info``: make, convert and inspect datasets.

Errors are :class:`~amc_tf.errors.AmcError` subclasses, which ``amc_tf.cli.main`` prints as one
``error: ...`` line with exit code 2.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from amc_tf.data.importers import describe, import_file, read_manifest
from amc_tf.errors import ConfigError

app = typer.Typer(no_args_is_help=True, help="Generate, import and inspect datasets.")


def parse_classes(text: str | None) -> list[str] | None:
    """``"BPSK,QPSK"`` -> ``["BPSK", "QPSK"]``; None or blank -> None."""
    if text is None or not text.strip():
        return None
    names = [c.strip() for c in text.split(",")]
    if any(not c for c in names):
        raise ConfigError(f"--classes has an empty name in {text!r}")
    return names


def parse_snrs(text: str | None) -> list[int] | None:
    """``"-20,0,18"`` -> ``[-20, 0, 18]``; None or blank -> None."""
    if text is None or not text.strip():
        return None
    try:
        return [int(s) for s in text.split(",")]
    except ValueError:
        raise ConfigError(f"--snrs must be comma-separated integers (dB), got {text!r}") from None


@app.command("import")
def import_command(
    path: Path = typer.Argument(..., help="RML2016.10a pickle or RML2018.01A HDF5 file (detected by content)."),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset (.npz), written atomically."),
    classes: str | None = typer.Option(None, "--classes", help="Comma-separated class names to keep, e.g. BPSK,QPSK."),
    snrs: str | None = typer.Option(None, "--snrs", help="Comma-separated SNR labels in dB, e.g. --snrs=-10,0,10."),
    max_per_key: int | None = typer.Option(None, "--max-per-key", help="Keep at most N windows per (class, SNR)."),
) -> None:
    """Convert a RadioML file into an amc-tf dataset (.npz with a manifest)."""
    written = import_file(path, out, classes=parse_classes(classes), snrs=parse_snrs(snrs), max_per_key=max_per_key)
    manifest = read_manifest(written)  # not describe(): that would read (up to 21 GB) back in
    typer.echo(
        f"wrote {written}: {manifest['n']} windows x {manifest['window']} samples, {len(manifest['classes'])} classes, "
        f"fingerprint {manifest['fingerprint'][:16]} (details: amc-tf data info {written})"
    )


@app.command("info")
def info_command(
    path: Path = typer.Argument(..., help="An amc-tf dataset (.npz)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Summarise a dataset: size, window, classes with counts, SNRs, fingerprint, manifest."""
    info = describe(path)
    typer.echo(json.dumps(info, indent=2) if as_json else format_info(info))


def format_info(info: dict) -> str:
    """A readable multi-line summary of :func:`~amc_tf.data.importers.describe`'s dict."""
    manifest = dict(info["manifest"])
    source = manifest.get("source", "unknown")
    origin = f" from {manifest['file']}" if "file" in manifest else ""
    snrs = info["snrs"]
    snr_text = f"{len(snrs)} values, {snrs[0]} .. {snrs[-1]} dB: {', '.join(map(str, snrs))}" if snrs else "none"
    width = max(len(name) for name in info["classes"])
    lines = [
        f"dataset     {info['path']}",
        f"windows     {info['n']}  (window length {info['window']}, float32 [N, 2, {info['window']}])",
        f"source      {source}{origin}",
        f"fingerprint {info['fingerprint']}",
        f"SNRs        {snr_text}",
        f"classes     {len(info['classes'])}",
    ]
    lines += [f"  {i:>3}  {name:<{width}}  {count}" for i, (name, count) in enumerate(info["classes"].items())]
    extra = {k: v for k, v in manifest.items() if k not in {"source", "file", "fingerprint", "n", "classes"}}
    if extra:
        lines.append("manifest    " + json.dumps(extra, sort_keys=True))
    return "\n".join(lines)


@app.command("generate")
def generate_command(
    config: Path = typer.Argument(..., help="A pipeline YAML with a data.synthetic section, or a bare generator YAML"),
    out: Path = typer.Option(..., "--out", "-o", help="Output dataset (.npz), written atomically"),
) -> None:
    """Generate a synthetic RadioML-style dataset from a config and write it as an amc-tf dataset."""
    import yaml

    from amc_tf.config.base import parse_yaml, validate_config
    from amc_tf.config.data import SyntheticConfig
    from amc_tf.data.dataset import save_dataset
    from amc_tf.data.synthetic import generate as gen

    if out.suffix != ".npz":
        raise ConfigError(f"--out must end in .npz, got {out}")
    if not config.is_file():
        raise ConfigError(f"config file not found: {config}")
    try:
        raw = parse_yaml(config.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"config file {config} is not valid YAML: {err}") from None
    section = raw
    source = str(config)
    if isinstance(raw, dict) and "kind" in raw:
        section = (raw.get("data") or {}).get("synthetic") or {}
        source = f"{config} (data.synthetic)"
    cfg = validate_config(SyntheticConfig, section, source)
    t0 = time.perf_counter()
    ds = gen(cfg, progress=True)
    save_dataset(ds, out)
    secs = time.perf_counter() - t0
    typer.echo(
        f"wrote {out}: {len(ds)} windows, {len(ds.classes)} classes, {len(ds.snrs)} SNRs, L={ds.window} ({secs:.1f} s)"
    )
    typer.echo(f"fingerprint {ds.fingerprint()}")
