"""Net-Trim ADMM: feasibility, agreement with cvxpy on the same convex program, exact sparsity,
the residual stop rule and the absolute tolerance."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from amc_tf.errors import ConfigError
from amc_tf.prune.nettrim import epsilon_for, epsilon_from_gain, feasibility, net_trim


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
    res = net_trim(X, Y, eps, max_iter=20_000, rel_tol=1e-7, abs_tol=1e-10, woodbury=woodbury)
    assert res.converged and res.iterations < 20_000
    assert res.primal_residual <= res.primal_tolerance and res.dual_residual <= res.dual_tolerance
    assert np.abs(res.W).sum() == pytest.approx(np.abs(W_ref).sum(), rel=1e-5)
    np.testing.assert_allclose(res.W, W_ref, atol=1e-4)
    check = feasibility(res.W, X, Y, eps)
    assert check["output_error"] <= (1 + 1e-5) * eps and check["inactive_violation"] <= 1e-4


def test_woodbury_path_handles_a_wide_layer():
    """P < N: the P × P system is used; the solution stays feasible and sparse."""
    X, Y, _ = _relu_layer(1, n_in=120, m=5, p=40)
    eps = epsilon_from_gain(Y, 0.05)
    res = net_trim(X, Y, eps, max_iter=20_000, rel_tol=1e-6, abs_tol=1e-9)
    check = feasibility(res.W, X, Y, eps)
    assert check["output_error"] <= (1 + 1e-4) * eps and check["inactive_violation"] <= 1e-3
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
    tight = net_trim(X, Y, epsilon_from_gain(Y, 0.02), max_iter=5000, rel_tol=1e-5)
    loose = net_trim(X, Y, epsilon_from_gain(Y, 0.3), max_iter=5000, rel_tol=1e-5)
    assert loose.nonzero < tight.nonzero


def test_progress_callback_is_called(problem):
    X, Y, eps, _ = problem
    seen = []
    net_trim(X, Y, eps, max_iter=10, rel_tol=1e-12, progress=lambda *a: seen.append(a), progress_every=5)
    assert [s[0] for s in seen] == [1, 5, 10]
    assert all(len(s) == 4 and s[2] >= 0 and s[3] >= 0 for s in seen)  # (it, sparsity, primal, dual)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"Y": -np.ones((6, 60))},
        {"Y": np.ones((6, 59))},
        {"epsilon": -1.0},
        {"rho": 0.0},
        {"max_iter": 0},
        {"rel_tol": 0.0, "abs_tol": 0.0},
        {"rel_tol": -1e-3},
    ],
)
def test_bad_inputs_rejected(problem, kwargs):
    X, Y, eps, _ = problem
    args = {"X": X, "Y": Y, "epsilon": eps} | kwargs
    with pytest.raises(ConfigError):
        net_trim(args.pop("X"), args.pop("Y"), args.pop("epsilon"), **args)


def test_eta_must_be_positive():
    with pytest.raises(ConfigError):
        epsilon_from_gain(np.ones((2, 2)), 0.0)
    with pytest.raises(ConfigError, match="tolerance"):
        epsilon_for(np.ones((2, 2)), 0.5, "percent")


def test_absolute_and_relative_epsilon():
    Y = np.full((2, 2), 3.0)  # ‖Y‖_F = 6
    assert epsilon_for(Y, 0.1, "relative") == pytest.approx(0.6)
    assert epsilon_for(Y, 0.8, "absolute") == 0.8


def test_warm_start_reaches_the_same_optimum(problem):
    X, Y, eps, W_ref = problem
    W0 = np.linalg.lstsq(X.T, Y.T, rcond=None)[0]  # a dense starting point
    res = net_trim(X, Y, eps, W0=W0, rho=3.0, max_iter=20_000, rel_tol=1e-6, abs_tol=1e-9)
    np.testing.assert_allclose(res.W, W_ref, atol=1e-4)
    with pytest.raises(ConfigError, match="W0"):
        net_trim(X, Y, eps, W0=W0[:-1])


def test_residual_rule_stops_long_before_the_cap_and_the_cap_is_reported(problem):
    """The normal stop is ADMM's residual criterion; a too-small cap says so instead of pretending."""
    X, Y, eps, _ = problem
    done = net_trim(X, Y, eps, max_iter=10_000)
    assert done.converged and done.iterations < 1000
    assert done.primal_residual <= done.primal_tolerance and done.dual_residual <= done.dual_tolerance
    capped = net_trim(X, Y, eps, max_iter=3)
    assert not capped.converged and capped.iterations == 3
    assert capped.primal_residual > capped.primal_tolerance or capped.dual_residual > capped.dual_tolerance


def test_tighter_residual_tolerance_means_tighter_feasibility(problem):
    """W2 meets the constraint up to the primal residual: shrinking rel_tol shrinks the excess."""
    X, Y, eps, _ = problem
    excess = []
    for rel in (1e-2, 1e-4, 1e-6):
        res = net_trim(X, Y, eps, rel_tol=rel, abs_tol=0.0)
        check = feasibility(res.W, X, Y, eps)
        excess.append(max(check["output_error"] - eps, 0.0) + check["inactive_violation"])
    assert excess[2] < excess[0] and excess[2] <= 1e-4 * eps


@pytest.mark.parametrize("eta", [0.8, 3.0])
def test_absolute_tolerance_bounds_the_layer_output_error(eta):
    """ε = η in Y's units: ‖relu(ŴᵀX) − Y‖_F ≤ η (+ the ADMM slack), and ``satisfied`` agrees."""
    X, Y, _ = _relu_layer(3, n_in=30, m=8, p=80)
    assert eta < 0.2 * np.linalg.norm(Y)  # an absolute radius well below ‖Y‖_F: the constraint binds
    res = net_trim(X, Y, epsilon_for(Y, eta, "absolute"), rel_tol=1e-6, abs_tol=1e-9, max_iter=50_000)
    assert res.converged and res.epsilon == eta
    Z = res.W.T @ X
    relu_error = np.linalg.norm(np.maximum(Z, 0) - Y)
    on = Y > 1e-6
    output_error = np.linalg.norm((Z - Y)[on])
    inactive = np.linalg.norm(np.maximum(Z, 0)[~on])
    assert relu_error <= output_error + inactive + 1e-12
    assert relu_error <= eta * (1 + 1e-3)
    check = feasibility(res.W, X, Y, eta)
    assert check["output_error"] == pytest.approx(output_error) and check["relu_error"] == pytest.approx(relu_error)
    assert check["satisfied"] == (output_error <= 1.01 * eta and inactive <= 0.01 * eta) and check["satisfied"]
    assert res.sparsity > 0


def test_feasibility_flags_a_violation():
    X, Y, W0 = _relu_layer(4)
    exact = feasibility(W0, X, Y, 1e-3)
    assert exact["satisfied"] and exact["output_error"] < 1e-9
    off = feasibility(W0 * 1.5, X, Y, 1e-3)
    assert not off["satisfied"] and off["output_error"] > 1e-3
    assert off["inactive_violation"] == 0.0  # scaling keeps negative pre-activations negative
    shifted = np.vstack([W0[:-1], W0[-1:] + 1.0])  # bias +1: off neurons switch on
    check = feasibility(shifted, X, Y, 100.0)
    assert check["output_error"] < 100.0 < check["inactive_violation"] / 0.01  # only the off-constraint fails
    assert not check["satisfied"]


def test_feasibility_guard_keeps_going_until_the_returned_weights_meet_a_small_absolute_radius():
    """With ε ≪ ‖Y‖_F a relative 1e-3 residual rule can stop with W2 outside the ε-ball; the guard
    (``feasibility_rtol``) keeps ADMM going until W2 itself is within 1 % of ε."""
    X, Y, _ = _relu_layer(5, n_in=30, m=8, p=80)
    eta = 0.01 * float(np.linalg.norm(Y))
    plain = net_trim(X, Y, eta, rel_tol=1e-3, abs_tol=0.0)
    guarded = net_trim(X, Y, eta, rel_tol=1e-3, abs_tol=0.0, feasibility_rtol=1e-2, max_iter=50_000)
    assert plain.converged and not feasibility(plain.W, X, Y, eta)["satisfied"]
    assert guarded.converged and guarded.iterations > plain.iterations
    assert feasibility(guarded.W, X, Y, eta)["satisfied"]
