"""Net-Trim ADMM: feasibility, agreement with cvxpy on the same convex program, exact sparsity."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from amc_tf.errors import ConfigError
from amc_tf.prune.nettrim import constraint_violation, epsilon_from_gain, net_trim


def _relu_layer(seed: int, n_in: int = 20, m: int = 6, p: int = 60):
    gen = np.random.default_rng(seed)
    X = np.vstack([gen.normal(size=(n_in, p)), np.ones((1, p))])  # bias row
    W0 = gen.normal(size=(n_in + 1, m))
    return X, np.maximum(W0.T @ X, 0.0), W0


def _cvxpy_solution(X, Y, eps):
    W = cp.Variable((X.shape[0], Y.shape[0]))
    Z = W.T @ X
    on = Y > 1e-6
    cons = [cp.norm(cp.multiply(on, Z - Y), "fro") <= eps, cp.multiply(~on, Z) <= 0]
    cp.Problem(cp.Minimize(cp.sum(cp.abs(W))), cons).solve()
    return W.value


@pytest.fixture(scope="module")
def problem():
    X, Y, _ = _relu_layer(0)
    eps = epsilon_from_gain(Y, 0.1)
    return X, Y, eps, _cvxpy_solution(X, Y, eps)


@pytest.mark.parametrize("woodbury", [True, False])
def test_admm_agrees_with_cvxpy(problem, woodbury):
    X, Y, eps, W_ref = problem
    res = net_trim(X, Y, eps, max_iter=20_000, tol=1e-10, woodbury=woodbury)
    assert res.converged
    assert np.abs(res.W).sum() == pytest.approx(np.abs(W_ref).sum(), rel=1e-5)
    np.testing.assert_allclose(res.W, W_ref, atol=1e-4)
    viol = constraint_violation(res.W, X, Y, eps)
    assert viol["active"] <= 1e-5 * eps and viol["inactive"] <= 1e-5


def test_woodbury_path_handles_a_wide_layer():
    """P < N: the P × P system is used; the solution stays feasible and sparse."""
    X, Y, _ = _relu_layer(1, n_in=120, m=5, p=40)
    eps = epsilon_from_gain(Y, 0.05)
    res = net_trim(X, Y, eps, max_iter=20_000, tol=1e-10)
    viol = constraint_violation(res.W, X, Y, eps)
    assert viol["active"] <= 1e-4 * eps and viol["inactive"] <= 1e-4
    assert res.sparsity > 0.5  # 121 unknowns per neuron, ~40 constraints: most weights vanish


def test_sparsity_is_reported_exactly(problem):
    X, Y, eps, _ = problem
    res = net_trim(X.astype(np.float32), Y.astype(np.float32), eps, max_iter=300)
    assert res.W.dtype == np.float32
    assert res.nonzero == int(np.count_nonzero(res.W))
    assert res.sparsity == 1.0 - res.nonzero / res.W.size
    assert res.iterations == 300 or res.converged


def test_larger_epsilon_gives_sparser_weights():
    X, Y, _ = _relu_layer(2)
    tight = net_trim(X, Y, epsilon_from_gain(Y, 0.02), max_iter=5000, tol=1e-9)
    loose = net_trim(X, Y, epsilon_from_gain(Y, 0.3), max_iter=5000, tol=1e-9)
    assert loose.nonzero < tight.nonzero


def test_progress_callback_is_called(problem):
    X, Y, eps, _ = problem
    seen = []
    net_trim(X, Y, eps, max_iter=10, progress=lambda it, sp, d: seen.append((it, sp, d)), progress_every=5)
    assert [s[0] for s in seen] == [1, 5, 10]


@pytest.mark.parametrize(
    "kwargs",
    [{"Y": -np.ones((6, 60))}, {"Y": np.ones((6, 59))}, {"epsilon": -1.0}, {"rho": 0.0}, {"max_iter": 0}, {"tol": 0.0}],
)
def test_bad_inputs_rejected(problem, kwargs):
    X, Y, eps, _ = problem
    args = {"X": X, "Y": Y, "epsilon": eps} | kwargs
    with pytest.raises(ConfigError):
        net_trim(args.pop("X"), args.pop("Y"), args.pop("epsilon"), **args)


def test_eta_must_be_positive():
    with pytest.raises(ConfigError):
        epsilon_from_gain(np.ones((2, 2)), 0.0)


def test_warm_start_reaches_the_same_optimum(problem):
    X, Y, eps, W_ref = problem
    W0 = np.linalg.lstsq(X.T, Y.T, rcond=None)[0]  # a dense starting point
    res = net_trim(X, Y, eps, W0=W0, rho=3.0, max_iter=20_000, tol=1e-10)
    np.testing.assert_allclose(res.W, W_ref, atol=1e-4)
    with pytest.raises(ConfigError, match="W0"):
        net_trim(X, Y, eps, W0=W0[:-1])
