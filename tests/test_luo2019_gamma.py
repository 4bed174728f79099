"""luo2019/pn-gamma-decay's gamma sweep (`decomposition.gamma_sweep`): the gap E[L_BN] - L_PN at several gamma."""

import numpy as np
import pytest

from bnrepro.luo2019 import decomposition as dec


def _tiny(p=10, seed=3):
    rng = np.random.default_rng(seed)
    h = rng.standard_normal(p) * 2 + 1
    y = 0.7 * (h - 1) / 2 + 0.3 * rng.standard_normal(p)
    return h, y


def test_linear_gap_is_exactly_linear_in_gamma_by_enumeration():
    # linear g: a standardised batch has mean 0 and mean square 1, so the gamma^2 terms of BN and PN cancel and
    # Delta(gamma) = gamma * (mean(u y) - E_B[mean(u_B y)]) whatever beta
    h, y = _tiny()
    u = (h - h.mean()) / h.std()
    one = dec.exact_delta(h, y, 1.0, 0.3, 4, "linear")
    assert one != 0
    for gamma, beta in [(0.5, 0.3), (3.0, -1.0), (2.0, 0.0)]:
        assert dec.exact_delta(h, y, gamma, beta, 4, "linear") == pytest.approx(gamma * one, rel=1e-12)
    # the coefficient by hand over all C(10, 4) batches
    import itertools

    idx = np.array(list(itertools.combinations(range(10), 4)))
    hb = h[idx]
    ub = (hb - hb.mean(1, keepdims=True)) / hb.std(1, keepdims=True)
    assert one == pytest.approx(np.mean(u * y) - np.mean(ub * y[idx]), rel=1e-12)


def test_gamma_sweep_is_paired_across_gamma():
    pop = dec.population([0, 1], 2000, 5, "linear")
    gamma, beta = dec.fit_pn(pop.h, pop.y, "linear")
    delta, err, zeta_m = dec.gamma_sweep(pop, gamma, beta, [0.5, 1.0, 2.0], 16, draws=20000, seeds=[0, 1])
    assert delta.shape == err.shape == zeta_m.shape == (2, 3)
    # same batches for every factor: exactly linear in gamma up to rounding, although each value has Monte Carlo noise
    np.testing.assert_allclose(delta / np.array([0.5, 1.0, 2.0]), delta[:, 1:2] * np.ones(3), rtol=1e-9)
    # linear g: l'' = 1, so the prediction does not depend on gamma
    np.testing.assert_allclose(zeta_m, zeta_m[:, :1] * np.ones(3), rtol=1e-12)


@pytest.mark.parametrize("factor", [0.5, 2.0])
def test_gamma_sweep_matches_exact_enumeration(factor):
    h, y = _tiny()
    pop = dec.Population(h[None], y[None], "softplus")
    gamma, beta = np.array([0.6]), np.array([0.1])
    delta, err, _ = dec.gamma_sweep(pop, gamma, beta, [factor], 4, draws=400000, seeds=[0])
    exact = dec.exact_delta(h, y, factor * 0.6, 0.1, 4, "softplus")
    assert abs(delta[0, 0] - exact) <= 4 * err[0, 0]
