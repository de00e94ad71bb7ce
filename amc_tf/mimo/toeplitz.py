"""Batched Hermitian-Toeplitz algebra: build, invert, and trace against a Toeplitz matrix.

Every correlation matrix of a uniform linear array under the local-scattering model is Hermitian
Toeplitz, and so is every pilot covariance ``Ψ = I + p τ_p Σ R`` (a sum of them). The MR closed
form needs ``Ψ⁻¹`` for every (BS, pilot) pair and hundreds of traces ``tr(R A)``; done densely
(``numpy.linalg.solve``/``inv``, one LAPACK call per 100 × 100 matrix) that is four times the cost
of a matrix product and made dataset generation solve-bound. Hence this module, written by hand
because neither NumPy nor SciPy offers it batched (``scipy.linalg.solve_toeplitz`` is one system
per call and returns no inverse):

* :func:`inverse` — Levinson–Durbin for the first column ``x`` of ``T⁻¹`` (O(M²), vectorised over
  any batch), then the Gohberg–Semencul/Trench formula
  ``T⁻¹ = (x xᴴ − y yᴴ)/x₀`` summed along diagonals, with ``y = [0, x̄_{M−1}, …, x̄_1]``;
* :func:`diagonal_sums` (a strided "skew" view, no copies beyond one zero-padded buffer) and :func:`trace_weights` — ``tr(T A) = Σ_e t_e · Σ_{col−row=e} A``,
  O(M²) per matrix instead of forming ``T`` and the product.

Convention: a Hermitian Toeplitz ``T`` is given by its first row ``r`` (``[..., M]``), with
``T[m, n] = r[n − m]`` for n ≥ m and ``conj(r[m − n])`` below (MATLAB's ``toeplitz(r)``).
"""

from __future__ import annotations

import numpy as np


def dense(row: np.ndarray) -> np.ndarray:
    """Hermitian Toeplitz matrices from first rows: ``[..., M]`` → ``[..., M, M]``."""
    m = row.shape[-1]
    lag = np.arange(m)[None, :] - np.arange(m)[:, None]  # n − m
    out = row[..., np.abs(lag)]
    return np.where(lag >= 0, out, np.conj(out))


def first_column_of_inverse(row: np.ndarray) -> np.ndarray:
    """Solve ``T x = e₀`` for Hermitian positive-definite Toeplitz ``T`` by Levinson–Durbin.

    Args:
        row: ``complex [..., M]`` first rows (``row[..., 0]`` real and positive).

    Returns:
        ``complex128 [..., M]`` first columns of ``T⁻¹``.
    """
    row = np.asarray(row, dtype=np.complex128)
    m = row.shape[-1]
    col = np.conj(row)  # first column of T
    f = np.zeros_like(row)
    f[..., 0] = 1.0 / np.real(row[..., 0])
    for n in range(1, m):
        eps = np.sum(col[..., n:0:-1] * f[..., :n], axis=-1)  # last row of T_{n+1} · [f; 0]
        back = np.conj(f[..., n - 1 :: -1])  # J f̄ solves T_n b = e_{n−1}
        scale = 1.0 / (1.0 - np.abs(eps) ** 2)
        new = f[..., : n + 1].copy()
        new[..., 1 : n + 1] -= eps[..., None] * back
        f[..., : n + 1] = new * scale[..., None]
    return f


def inverse(row: np.ndarray, dtype: type = np.complex128) -> np.ndarray:
    """Inverses of Hermitian positive-definite Toeplitz matrices (Gohberg–Semencul / Trench).

    Args:
        row: ``complex [..., M]`` first rows.
        dtype: Precision of the O(M²) assembly (Levinson always runs in complex128).

    Returns:
        ``[..., M, M]`` Hermitian inverses of ``dtype``.
    """
    x = first_column_of_inverse(row).astype(dtype)
    m = x.shape[-1]
    y = np.zeros_like(x)
    y[..., 1:] = np.conj(x[..., :0:-1])
    stacked = np.stack([x, y], axis=-1) / np.sqrt(np.real(x[..., :1]))[..., None]  # [..., M, 2]
    signed = np.conj(stacked) * np.array([1.0, -1.0], dtype=stacked.real.dtype)
    e = stacked @ np.swapaxes(signed, -1, -2)  # (x xᴴ − y yᴴ) / x₀
    # T⁻¹[i, j] = Σ_{t ≤ min(i, j)} E[i − t, j − t]: cumulative sums along each diagonal
    skew = _padded(e)
    view = _skew_view(skew, m)
    np.cumsum(view, axis=-2, out=view)
    upper = skew[..., :m]  # the cumulative sums, written back in place; upper triangle valid
    lower = np.tri(m, k=-1, dtype=bool)
    return np.where(lower, np.conj(np.swapaxes(upper, -1, -2)), upper)


def diagonal_sums(a: np.ndarray, *, hermitian: bool = False) -> np.ndarray:
    """Sums along every diagonal: ``out[..., e + M − 1] = Σ_t a[..., t, t + e]``, e ∈ [−(M−1), M−1].

    Args:
        a: ``[..., M, M]``.
        hermitian: ``a`` is Hermitian, so the sub-diagonal sums are the conjugates (half the work).

    Returns:
        ``[..., 2M − 1]``.
    """
    m = a.shape[-1]
    upper = _skew_view(_padded(a), m).sum(axis=-2)  # e = 0 … M−1
    if hermitian:
        lower = np.conj(upper[..., 1:])
    else:
        lower = _skew_view(_padded(np.swapaxes(a, -1, -2)), m).sum(axis=-2)[..., 1:]
    return np.concatenate([lower[..., ::-1], upper], axis=-1)


def trace_weights(row: np.ndarray) -> np.ndarray:
    """Weights ``t`` with ``tr(T A) = Σ_e t[e] · diagonal_sums(A)[e]`` for Toeplitz ``T(row)``.

    Args:
        row: ``complex [..., M]`` first rows of ``T``.

    Returns:
        ``complex128 [..., 2M − 1]``: ``t[e + M − 1] = r[−e]`` for e ≤ 0 and ``conj(r[e])`` for e > 0.
    """
    return np.concatenate([row[..., ::-1], np.conj(row[..., 1:])], axis=-1)


def _padded(a: np.ndarray) -> np.ndarray:
    """``[..., M, M]`` → C-contiguous ``[..., M, 2M]`` with ``a`` on the left and zeros on the right."""
    m = a.shape[-1]
    out = np.zeros(a.shape[:-1] + (2 * m,), dtype=a.dtype)
    out[..., :m] = a
    return out


def _skew_view(padded: np.ndarray, m: int) -> np.ndarray:
    """A writeable view ``v[..., t, e] = padded[..., t, t + e]`` (``[..., M, M]``; zero past the edge).

    In the row-major ``[M, 2M]`` block, element (t, t + e) sits at ``t (2M + 1) + e``; the largest
    index reached, ``(M − 1)(2M + 2)``, stays inside the block.
    """
    item = padded.itemsize
    strides = padded.strides[:-2] + ((2 * m + 1) * item, item)
    return np.lib.stride_tricks.as_strided(padded, shape=padded.shape[:-2] + (m, m), strides=strides)
