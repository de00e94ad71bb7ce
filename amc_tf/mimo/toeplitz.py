"""Batched Hermitian-Toeplitz algebra: build, invert, and take diagonal sums without products.

Every correlation matrix of a uniform linear array under the local-scattering model is Hermitian
Toeplitz, and so is every pilot covariance ``Ψ = I + p τ_p Σ R`` (a sum of them). The MR closed
form needs ``Ψ⁻¹`` for every (BS, pilot) pair and hundreds of traces ``tr(R A)``; done densely
(LAPACK inverses, two M × M products per pair, explicit diagonal sums) that is O(M³) work per
pair. This module does it in O(M²) from the Toeplitz structure, by hand because neither NumPy
nor SciPy offers it batched (``scipy.linalg.solve_toeplitz`` is one system per call and returns
no inverse):

* :func:`inverse` — Levinson–Durbin for the first column ``x`` of ``T⁻¹`` (O(M²), vectorised over
  any batch), then the Gohberg–Semencul/Trench recursion
  ``T⁻¹[s, n] = T⁻¹[s − 1, n − 1] + E[s, n]`` with ``E = (x xᴴ − y yᴴ)/x₀``,
  ``y = [0, x̄_{M−1}, …, x̄_1]``;
* :func:`cholesky_rows` — Cholesky factors by the Schur algorithm (O(M²) per matrix), for the
  Monte-Carlo channel draws;
* :func:`sandwich_generators` and :func:`from_displacement` — ``T S⁻¹ T`` (the M-MMSE error
  covariance's ``R Ψ⁻¹ R``) from a rank-6 displacement, O(M²) per matrix instead of a solve;
* :func:`diagonal_sums`, :func:`diagonal_prefix_sums` and :func:`trace_weights` —
  ``tr(T A) = Σ_e t_e · Σ_{col−row=e} A``, O(M²) per matrix instead of forming ``T`` and the
  product;
* :func:`product_diagonal_sums` — the diagonal sums of ``T A`` from the prefix sums of ``A``, so
  that ``tr(T' T A)`` for many Toeplitz ``T'`` needs no product ``T A`` either.

The loops over rows and lags are Python loops over batched NumPy operations on contiguous rows:
at M ~ 100 the cost is memory traffic, which strided ``cumsum`` and fancy-index gathers make
worse (``amc-tf bench mimo-stages`` times each helper).

Convention: a Hermitian Toeplitz ``T`` is given by its first row ``r`` (``[..., M]``), with
``T[m, n] = r[n − m]`` for n ≥ m and ``conj(r[m − n])`` below (MATLAB's ``toeplitz(r)``).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view


def dense(row: np.ndarray) -> np.ndarray:
    """Hermitian Toeplitz matrices from first rows: ``[..., M]`` → ``[..., M, M]``.

    ``T[m, n] = r(n − m)`` is a sliding window over the reversed :func:`lags` (a strided view,
    copied once).
    """
    m = row.shape[-1]
    windows = sliding_window_view(lags(row)[..., ::-1], m, axis=-1)  # [..., M, M]: r(j − m)… reversed
    return np.ascontiguousarray(windows[..., ::-1])


def lags(row: np.ndarray) -> np.ndarray:
    """The generator by lag: ``out[..., d + M − 1] = r(d)`` for d ∈ [−(M−1), M−1], where
    ``T[m, n] = r(n − m)``, i.e. ``r(d) = row[d]`` for d ≥ 0 and ``conj(row[−d])`` below."""
    return np.concatenate([np.conj(row[..., :0:-1]), row], axis=-1)


def first_column_of_inverse(row: np.ndarray) -> np.ndarray:
    """Solve ``T x = e₀`` for Hermitian positive-definite Toeplitz ``T`` by Levinson–Durbin.

    Args:
        row: ``complex [..., M]`` first rows (``row[..., 0]`` real and positive).

    Returns:
        ``complex128 [..., M]`` first columns of ``T⁻¹``.
    """
    row = np.asarray(row, dtype=np.complex128)
    m = row.shape[-1]
    batch = row.shape[:-1]
    # lag-major layout [M, batch]: the growing prefixes f[:n] are contiguous blocks
    col_rev = np.conj(row[..., ::-1]).reshape(-1, m).T.copy()  # col_rev[M−1−n] = first column of T at n
    f = np.zeros_like(col_rev)
    f[0] = 1.0 / np.real(row.reshape(-1, m)[:, 0])
    for n in range(1, m):
        eps = np.einsum("ib,ib->b", col_rev[m - n - 1 : m - 1], f[:n])  # last row of T_{n+1} · [f; 0]
        # J f̄ solves T_n b = e_{n−1}; the right side is a new array, so the update can be in place
        f[1 : n + 1] -= eps * np.conj(f[n - 1 :: -1])
        f[: n + 1] *= 1.0 / (1.0 - np.abs(eps) ** 2)
    return f.T.reshape(batch + (m,))


def inverse(row: np.ndarray) -> np.ndarray:
    """Inverses of Hermitian positive-definite Toeplitz matrices (Gohberg–Semencul / Trench).

    ``T⁻¹[s, n] = Σ_{t ≤ min(s, n)} E[s − t, n − t]`` with ``E = (x xᴴ − y yᴴ)/x₀``, i.e.
    ``T⁻¹[s, n] = T⁻¹[s − 1, n − 1] + E[s, n]``: one rank-2 product and one sweep down the rows —
    two O(M²) passes over memory, which is what bounds the cost at M ~ 100.

    Args:
        row: ``complex [..., M]`` first rows.

    Returns:
        ``complex128 [..., M, M]`` Hermitian inverses.
    """
    return inverse_from_first_column(first_column_of_inverse(row))


def inverse_from_first_column(x: np.ndarray) -> np.ndarray:
    """The Trench assembly of :func:`inverse` from the first column ``x`` of ``T⁻¹``
    (:func:`first_column_of_inverse`): ``[..., M]`` → ``complex128 [..., M, M]``."""
    x = x / np.sqrt(np.real(x[..., :1]))
    y = np.zeros_like(x)
    y[..., 1:] = np.conj(x[..., :0:-1])
    left = np.stack([x, y], axis=-1)  # [..., M, 2]
    return from_displacement(left @ np.conj(np.stack([x, -y], axis=-2)))  # E = x xᴴ − y yᴴ


def from_displacement(d: np.ndarray) -> np.ndarray:
    """The matrix ``A`` whose displacement ``A − Z A Zᵀ`` is ``d`` (``Z`` the down-shift), in place.

    ``A[s, n] = A[s − 1, n − 1] + d[s, n]``, with the first row and column of ``A`` those of ``d``:
    one sweep down the rows, a cumulative sum along every diagonal.

    Args:
        d: ``complex [..., M, M]`` displacements (overwritten).

    Returns:
        ``d``, now holding ``A``.
    """
    for s in range(1, d.shape[-1]):
        d[..., s, 1:] += d[..., s - 1, :-1]
    return d


def sandwich_generators(row: np.ndarray, inv_column: np.ndarray, inv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Generators of the displacement of ``P = T S⁻¹ T`` for Hermitian Toeplitz ``T`` and ``S``:
    ``P − Z P Zᵀ = left @ rightᴴ`` (rank ≤ 6), so that ``P`` (or a sum of many such ``P``) follows
    from :func:`from_displacement` in O(M²) per matrix instead of an O(M³) solve.

    With ``B = S⁻¹``, Gohberg–Semencul gives ``B − Z B Zᵀ = x xᴴ − y yᴴ`` (``x`` the first column of
    ``B`` over ``√B₀₀``, ``y = [0, x̄_{M−1}, …, x̄_1]``), and a Toeplitz ``T`` nearly commutes with
    the shift: ``Z T − T Z = U Vᴴ`` with ``U = [e₀, b]``, ``V = [−ā, e_{M−1}]``,
    ``a = [t₁, …, t_{M−1}, 0]``, ``b = [0, t_{M−1}, …, t₁]`` (``t`` = the first row). Substituting
    ``Z T = T Z + U Vᴴ`` on both sides of ``Z P Zᵀ``:

        P − Z P Zᵀ = (T x)(T x)ᴴ − (T y)(T y)ᴴ − W Uᴴ − U Wᴴ − U (Vᴴ B V) Uᴴ,   W = T Z B V,

    i.e. four products of ``T`` or ``B`` with a vector per matrix (displacement structure:
    Kailath & Sayed, SIAM Review 37(3), 1995).

    Args:
        row: ``complex128 [..., M]`` first rows of ``T`` (``row[..., 0]`` real: T Hermitian).
        inv_column: ``[..., M]`` first columns of ``B = S⁻¹`` (:func:`first_column_of_inverse`),
            broadcastable against ``row``.
        inv: ``[..., M, M]`` the dense ``B`` (:func:`inverse`), broadcastable likewise.

    Returns:
        ``(left, right)``: ``complex128 [..., M, 6]`` each.
    """
    shape = np.broadcast_shapes(row.shape, inv_column.shape)
    x = inv_column / np.sqrt(np.real(inv_column[..., :1]))
    y = np.zeros_like(x)
    y[..., 1:] = np.conj(x[..., :0:-1])
    v = np.zeros(shape + (2,), dtype=np.complex128)  # V = [−ā, e_{M−1}]
    v[..., :-1, 0] = -np.conj(row[..., 1:])
    v[..., -1, 1] = 1.0
    bv = np.empty(shape + (2,), dtype=np.complex128)  # B V = [−B ā, last column of B]
    bv[..., 0] = (inv @ v[..., :1])[..., 0]
    bv[..., 1] = inv[..., :, -1]
    vbv = np.conj(np.swapaxes(v, -1, -2)) @ bv  # Vᴴ B V, [..., 2, 2]
    rhs = np.zeros(shape + (4,), dtype=np.complex128)  # [x, y, Z B V]
    rhs[..., 0], rhs[..., 1] = x, y
    rhs[..., 1:, 2:] = bv[..., :-1, :]
    tv = dense(row) @ rhs  # [T x, T y, W]
    u = np.zeros(shape + (2,), dtype=np.complex128)  # U = [e₀, b]
    u[..., 0, 0] = 1.0
    u[..., 1:, 1] = row[..., :0:-1]
    w = tv[..., 2:]
    left = np.concatenate([tv[..., :1], -tv[..., 1:2], -u, -w - u @ vbv], axis=-1)
    right = np.concatenate([tv[..., :2], w, u], axis=-1)
    return left, right


def cholesky_rows(row: np.ndarray, dtype: type = np.complex128) -> np.ndarray:
    """Cholesky factors of Hermitian positive-definite Toeplitz matrices by the Schur algorithm.

    The displacement ``T − Z T Zᴴ = x xᴴ − y yᴴ`` has rank two (``x`` the first column over
    ``√t₀``, ``y`` the same with ``y₀ = 0``); each step emits ``x`` as the next column of the
    lower factor ``F`` (``F Fᴴ = T``), shifts ``x`` down and applies the hyperbolic rotation that
    zeroes the leading entry of ``y``, in the mixed form of Bojanczyk, Brent, de Hoog & Sweet
    (SIAM J. Matrix Anal. Appl. 1995), which makes the algorithm as stable as Cholesky on positive
    definite Toeplitz matrices. O(M²) per matrix from the first row (LAPACK's is O(M³) on the
    dense matrix), vectorised over the batch.

    Args:
        row: ``complex [..., M]`` first rows (``row[..., 0]`` real and positive).
        dtype: dtype of the result (the recursion runs in complex128).

    Returns:
        ``[..., M, M]`` upper triangular ``U = Fᵀ``: row i of ``U`` is column i of ``F``, so that
        ``z @ U`` draws ``CN(0, T)`` rows from rows ``z`` of i.i.d. ``CN(0, 1)`` samples.
    """
    row = np.asarray(row, dtype=np.complex128)
    m = row.shape[-1]
    flat = row.reshape(-1, m)
    x = np.conj(flat) / np.sqrt(np.real(flat[:, :1]))
    y = x.copy()
    y[:, 0] = 0.0
    out = np.zeros((flat.shape[0], m, m), dtype=dtype)
    for i in range(m):
        out[:, i, i:] = x[:, : m - i]
        if i == m - 1:
            break
        x, y = x[:, : m - i - 1], y[:, 1 : m - i]  # x shifted down one place against y
        rho = y[:, :1] / x[:, :1]
        scale = np.sqrt((1.0 - np.abs(rho)) * (1.0 + np.abs(rho)))
        x = (x - np.conj(rho) * y) / scale
        y = scale * y - rho * x
    return out.reshape(row.shape[:-1] + (m, m))


def diagonal_prefix_sums(a: np.ndarray) -> np.ndarray:
    """Cumulative sums down every diagonal: ``P[..., s, g + M − 1] = Σ_{t ≤ s} a[..., t, t + g]``.

    Row s of ``a`` holds diagonals g = −s … M−1−s, i.e. columns ``M − 1 − s … 2M − 2 − s`` of
    ``P``; one sweep down the rows accumulates them.

    Args:
        a: ``[..., M, M]``.

    Returns:
        ``[..., M, 2M − 1]``; the last row holds the full diagonal sums (:func:`diagonal_sums`).
    """
    m = a.shape[-1]
    out = np.zeros(a.shape[:-2] + (m, 2 * m - 1), dtype=a.dtype)
    out[..., 0, m - 1 :] = a[..., 0, :]
    for s in range(1, m):
        out[..., s, :] = out[..., s - 1, :]
        out[..., s, m - 1 - s : 2 * m - 1 - s] += a[..., s, :]
    return out


def product_diagonal_sums(row: np.ndarray, prefix: np.ndarray) -> np.ndarray:
    """Diagonal sums ``D_e(T A) = Σ_t (T A)[t, t + e]`` for e = 0 … M−1, without forming ``T A``.

    With ``T[t, n] = r(n − t)``, ``D_e(T A) = Σ_d r(d) Σ_s A[s, s + e − d]`` with s over
    ``[max(0, d), M)`` within the diagonal, i.e. the full diagonal sum ``D_{e−d}(A)`` minus, for
    d > 0, its first d entries:

        D_e(T A) = Σ_d r(d) D_{e−d}(A) − Σ_{d=1}^{M−1} r(d) P[d − 1, e − d],

    a correlation of ``r`` with the diagonal sums and a strided walk through the prefix table
    (:func:`diagonal_prefix_sums`) — O(M²) per matrix against O(M³) for the product. The lags
    e < 0 are not computed (for Hermitian ``T A`` they are the conjugates).

    Args:
        row: ``complex [..., M]`` first rows of ``T``.
        prefix: ``[..., M, 2M − 1]`` from :func:`diagonal_prefix_sums` of ``A``.

    Returns:
        ``[..., M]``: ``out[..., e] = D_e(T A)``.
    """
    m = row.shape[-1]
    if m == 1:
        return row * prefix[..., -1, :]
    sums = np.concatenate([prefix[..., -1, :], np.zeros(prefix.shape[:-2] + (m - 1,), dtype=prefix.dtype)], axis=-1)
    # Σ_d r(d) D_{e−d}: with c = 2M − 2 − (d + M − 1), D_{e−d} sits at sums[e + c]
    full = np.einsum(
        "...ec,...c->...e", sliding_window_view(sums, 2 * m - 1, axis=-1)[..., :m, :], lags(row)[..., ::-1]
    )
    # P[d − 1, e − d] is at flat (d − 1)(2M − 2) + e + M − 2 of the [M, 2M − 1] table
    flat = np.ascontiguousarray(prefix).reshape(prefix.shape[:-2] + (m * (2 * m - 1),))
    item = flat.itemsize
    head = as_strided(
        flat[..., m - 2 :], shape=flat.shape[:-1] + (m, m - 1), strides=flat.strides[:-1] + (item, (2 * m - 2) * item)
    )
    return full - np.einsum("...ed,...d->...e", head, row[..., 1:])


def diagonal_sums(a: np.ndarray) -> np.ndarray:
    """Sums along every diagonal: ``out[..., e + M − 1] = Σ_t a[..., t, t + e]``, e ∈ [−(M−1), M−1].

    Args:
        a: ``[..., M, M]``.

    Returns:
        ``[..., 2M − 1]``.
    """
    return diagonal_prefix_sums(a)[..., -1, :]


def trace_weights(row: np.ndarray) -> np.ndarray:
    """Weights ``t`` with ``tr(T A) = Σ_e t[e] · diagonal_sums(A)[e]`` for Toeplitz ``T(row)``.

    Args:
        row: ``complex [..., M]`` first rows of ``T``.

    Returns:
        ``complex128 [..., 2M − 1]``: ``t[e + M − 1] = r[−e]`` for e ≤ 0 and ``conj(r[e])`` for e > 0.
    """
    return np.concatenate([row[..., ::-1], np.conj(row[..., 1:])], axis=-1)
