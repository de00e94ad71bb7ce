"""Hostile RML2018 HDF5 files: data kept outside the file, links, and shapes the file cannot hold."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from amc_tf.data.hdf5_checks import MAX_COMPRESSION
from amc_tf.data.importers import import_file
from amc_tf.data.rml2018 import load_rml2018
from amc_tf.errors import DatasetError

N, L = 48, 8


def labels(n: int = N) -> tuple[np.ndarray, np.ndarray]:
    return np.eye(24, dtype=np.int64)[np.arange(n) % 24], np.full((n, 1), 10, np.int64)


def write(path, *, x=None, **x_kwargs) -> None:
    """A valid tiny file, with X replaced by ``x`` / created with ``x_kwargs`` when given."""
    y, z = labels()
    with h5py.File(path, "w") as f:
        if x_kwargs:
            f.create_dataset("X", **x_kwargs)
        else:
            f["X"] = np.ones((N, L, 2), np.float32) if x is None else x
        f["Y"], f["Z"] = y, z


@pytest.fixture
def victim(tmp_path):
    """A local file the hostile HDF5 file points at (stands for any file the user can read)."""
    path = tmp_path / "secret.bin"
    path.write_bytes(np.arange(N * L * 2, dtype=np.float32).tobytes())
    return path


def refused(path, message: str) -> str:
    with pytest.raises(DatasetError) as info:
        load_rml2018(path)
    assert message in str(info.value) and str(path) in str(info.value)
    return str(info.value)


def test_external_storage_is_refused(tmp_path, victim):
    path = tmp_path / "external.h5"
    write(path, shape=(N, L, 2), dtype=np.float32, external=[(str(victim), 0, N * L * 2 * 4)])
    with h5py.File(path) as f:  # h5py would read the victim file through X
        assert f["X"][0, 1, 0] == 2.0
    msg = refused(path, "X has external storage in")
    assert str(victim) in msg
    with pytest.raises(DatasetError, match="external storage"):
        import_file(path, tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()


def test_virtual_dataset_is_refused(tmp_path):
    source = tmp_path / "elsewhere.h5"
    write(source)
    layout = h5py.VirtualLayout(shape=(N, L, 2), dtype=np.float32)
    layout[:] = h5py.VirtualSource(str(source), "X", shape=(N, L, 2))
    path = tmp_path / "virtual.h5"
    y, z = labels()
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("X", layout)
        f["Y"], f["Z"] = y, z
    refused(path, "X is a virtual dataset (it maps data from other files)")


def test_external_link_is_refused(tmp_path):
    source = tmp_path / "elsewhere.h5"
    write(source)
    path = tmp_path / "extlink.h5"
    y, z = labels()
    with h5py.File(path, "w") as f:
        f["X"] = h5py.ExternalLink(str(source), "/X")
        f["Y"], f["Z"] = y, z
    refused(path, f"X is an external link to {source}:/X")


@pytest.mark.parametrize("name", ["X", "Y", "Z"])
def test_soft_link_is_refused(tmp_path, name):
    path = tmp_path / "softlink.h5"
    write(path)
    with h5py.File(path, "a") as f:
        f.move(name, f"hidden/{name}")
        f[name] = h5py.SoftLink(f"/hidden/{name}")
    refused(path, f"{name} is a soft link to /hidden/{name}")


def test_absurd_window_length_is_refused_not_allocated(tmp_path):
    path = tmp_path / "window.h5"
    y, z = labels(1)
    with h5py.File(path, "w") as f:
        f.create_dataset("X", shape=(1, 1 << 40, 2), dtype=np.float32)  # 8 TiB claimed, nothing written
        f["Y"], f["Z"] = y, z
    assert path.stat().st_size < 10_000
    refused(path, "X claims shape (1, 1099511627776, 2) of float32 = 8796093022208 bytes, but the file stores only 0")


def test_row_count_beyond_the_stored_chunks_is_refused(tmp_path):
    path = tmp_path / "chunks.h5"
    n = 1 << 20  # 64 MiB of X claimed, one compressed chunk of zeros stored
    with h5py.File(path, "w") as f:
        x = f.create_dataset("X", shape=(n, L, 2), dtype=np.float32, chunks=(1024, L, 2), compression="gzip")
        x[:1024] = 0
        f.create_dataset("Y", shape=(n, 24), dtype=np.int8, chunks=(1024, 24), compression="gzip")
        f.create_dataset("Z", shape=(n, 1), dtype=np.int8, chunks=(1024, 1), compression="gzip")
    with h5py.File(path) as f:
        assert f["X"].id.get_storage_size() * MAX_COMPRESSION < n * L * 2 * 4
    refused(path, "X claims shape (1048576, 8, 2) of float32 = 67108864 bytes, but the file stores only")


def test_compressed_and_chunked_valid_files_still_import(tmp_path):
    path = tmp_path / "gzip.h5"
    x = np.random.default_rng(0).normal(size=(N, L, 2)).astype(np.float32)
    write(path, shape=x.shape, dtype=np.float32, data=x, chunks=(16, L, 2), compression="gzip", shuffle=True)
    ds = load_rml2018(path)
    np.testing.assert_array_equal(ds.x, x.transpose(0, 2, 1))
    assert len(ds) == N


def test_highly_compressed_labels_still_import_but_unwritten_labels_do_not(tmp_path):
    n = 24 * 2000  # class-major runs, like the real file: one-hot Y and Z compress far beyond 16:1
    x = np.random.default_rng(1).normal(size=(n, L, 2)).astype(np.float32)
    y, z = np.eye(24, dtype=np.int64)[np.arange(n) // 2000], np.full((n, 1), 10, np.int64)
    path = tmp_path / "labels.h5"
    with h5py.File(path, "w") as f:
        f["X"] = x
        f.create_dataset("Y", data=y, chunks=(4096, 24), compression="gzip", compression_opts=9)
        f.create_dataset("Z", data=z, chunks=(4096, 1), compression="gzip", compression_opts=9)
    with h5py.File(path) as f:
        assert f["Y"].id.get_storage_size() * MAX_COMPRESSION < y.nbytes
    assert len(load_rml2018(path, classes=["OOK"])) == 2000
    with h5py.File(path, "a") as f:
        del f["Y"]
        f.create_dataset("Y", shape=(n, 24), dtype=np.int64, chunks=(4096, 24), compression="gzip")  # never written
    refused(path, "Y claims shape (48000, 24) of int64 = 9216000 bytes, but the file stores only 0")
