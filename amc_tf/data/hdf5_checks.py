"""Checks that an HDF5 file from someone else keeps its data to itself (design D9).

An HDF5 dataset can live outside its file: *external storage* reads raw bytes from any path the
file names, a *virtual dataset* maps other files' datasets, and *soft/external links* redirect a
name elsewhere (an external link opens another file). A dataset can also claim a shape far larger
than the bytes behind it: unallocated chunks read as fill values, so a few-kB file can declare
terabytes and make a reader allocate them. :func:`check_dataset_link` and
:func:`check_dataset_storage` refuse all of these before a single element is read.
"""

from __future__ import annotations

import math
from pathlib import Path

import h5py
from h5py import h5d, h5z

from amc_tf.errors import DatasetError

#: Filters built into HDF5/h5py; any other filter id makes HDF5 search for and load a plugin library.
BUILTIN_FILTERS = frozenset({h5z.FILTER_DEFLATE, h5z.FILTER_SHUFFLE, h5z.FILTER_FLETCHER32, h5z.FILTER_SZIP,
                             h5z.FILTER_NBIT, h5z.FILTER_SCALEOFFSET, h5z.FILTER_LZF})  # fmt: skip
#: Largest ratio of claimed to stored bytes accepted for filtered (compressed) chunked I/Q data.
MAX_COMPRESSION = 16
#: The same for label datasets (one-hot Y, constant runs of Z), just above deflate's 1032:1 limit:
#: it only refuses labels whose chunks were never written.
LABEL_MAX_COMPRESSION = 1100
#: Bytes a dataset may claim beyond its stored bytes regardless of layout (small edge chunks, fill values).
SLACK_BYTES = 1 << 20
#: Largest chunk accepted: HDF5 decompresses whole chunks in memory.
MAX_CHUNK_BYTES = 1 << 28


def check_dataset_link(f: h5py.File, name: str, path: Path) -> h5py.Dataset | None:
    """The dataset ``name`` if it is a hard link to a dataset in ``f``; None if absent.

    The link type is read without following the link (``getlink=True``).

    Raises:
        DatasetError: ``name`` is a soft or external link.
    """
    link = f.get(name, getlink=True)
    if link is None:
        return None
    if isinstance(link, h5py.ExternalLink):
        raise DatasetError(
            f"{path}: {name} is an external link to {link.filename}:{link.path}; refused "
            "(a RadioML file must hold its own data)"
        )
    if not isinstance(link, h5py.HardLink):
        target = getattr(link, "path", "?")
        raise DatasetError(f"{path}: {name} is a soft link to {target}; refused (X, Y and Z must be datasets)")
    obj = f.get(name)
    return obj if isinstance(obj, h5py.Dataset) else None


def check_dataset_storage(
    ds: h5py.Dataset, path: Path, file_size: int, *, max_compression: int = MAX_COMPRESSION
) -> None:
    """Refuse a dataset whose bytes are not all in this file, or that claims more than it stores.

    A contiguous or compact dataset must store every byte it claims (within the file size); a
    chunked one may claim at most ``max_compression`` × its stored bytes when filtered (its
    stored bytes when not) plus :data:`SLACK_BYTES`.

    Raises:
        DatasetError: external storage, a virtual dataset, a filter outside
            :data:`BUILTIN_FILTERS`, a chunk larger than :data:`MAX_CHUNK_BYTES`, or a claimed size
            the file cannot hold.
    """
    name = ds.name.lstrip("/")
    if ds.is_virtual:
        raise DatasetError(f"{path}: {name} is a virtual dataset (it maps data from other files); refused")
    if ds.external:
        files = sorted({str(entry[0]) for entry in ds.external})
        raise DatasetError(f"{path}: {name} has external storage in {files}; refused (the file must hold its own data)")
    dcpl = ds.id.get_create_plist()
    filters = [dcpl.get_filter(i)[0] for i in range(dcpl.get_nfilters())]
    unknown = [code for code in filters if code not in BUILTIN_FILTERS]
    if unknown:
        raise DatasetError(f"{path}: {name} uses HDF5 filter id(s) {unknown}, which would load a plugin; refused")
    claimed = math.prod(ds.shape) * ds.dtype.itemsize
    stored = min(ds.id.get_storage_size(), file_size)
    if dcpl.get_layout() == h5d.CHUNKED:
        chunk = math.prod(ds.chunks) * ds.dtype.itemsize
        if chunk > MAX_CHUNK_BYTES:
            raise DatasetError(f"{path}: {name} has chunks of {chunk} bytes (more than {MAX_CHUNK_BYTES}); refused")
        limit = (max_compression if filters else 1) * stored + SLACK_BYTES
    else:
        limit = stored
    if claimed > limit:
        raise DatasetError(
            f"{path}: {name} claims shape {ds.shape} of {ds.dtype} = {claimed} bytes, but the file stores only "
            f"{stored} bytes of it (file size {file_size}); refused (a shape or window length the file cannot hold)"
        )
