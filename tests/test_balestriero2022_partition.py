"""Partition geometry of the balestriero2022 networks: TLS offsets, boundary distances, grids."""

import numpy as np
import pytest
import torch
from scipy.optimize import brentq
from scipy.spatial import cKDTree
from sklearn.datasets import make_moons

from bnrepro.balestriero2022 import partition as P
from bnrepro.nets import SwitchableMLP

SLOPE = 0.1


@pytest.fixture
def moons():
    return make_moons(200, noise=0.1, random_state=0)[0] + 3.0


def bn_and_plain(x, sizes, models=2, bias="torch"):
    net = SwitchableMLP(sizes, models, seeds=list(range(models)), slope=SLOPE, bias=bias)
    stats = net.statistics(x)
    return net, stats, P.hyperplanes(net, "population", stats), P.hyperplanes(net, "none")


@pytest.mark.parametrize("mode", ["population", "none"])
def test_hyperplanes_reproduce_the_network(moons, mode):
    net = SwitchableMLP([2, 7, 7, 7, 1], 3, slope=SLOPE, bias="torch")
    with torch.no_grad():
        for g, b in zip(net.gammas, net.betas):  # a non-trivial affine must be folded into (c, b) too
            g.uniform_(0.5, 2.0)
            b.uniform_(-1.0, 1.0)
    stats = net.statistics(moons) if mode == "population" else None
    hs, _ = P.forward(P.hyperplanes(net, mode, stats), moons)
    for mine, theirs in zip(hs, net.preactivations(moons, mode, stats)):
        np.testing.assert_allclose(mine, theirs.detach(), atol=1e-12)


def test_tls_optimum_is_the_batch_mean_for_every_unit(moons):
    _, stats, hp, _ = bn_and_plain(moons, [2, 16, 16, 16, 1])
    _, zs = P.forward(hp, moons)
    for layer in range(hp.depth):
        for m in range(hp.models):
            c_star = P.tls_offsets(zs[layer][m].numpy(), hp.weights[layer][m].numpy())
            mu = stats.mean[layer][m].numpy()
            assert np.all(np.abs(c_star - mu) <= 1e-6 * (1 + np.abs(mu))), (layer, m, np.abs(c_star - mu).max())


def test_tls_search_does_not_know_the_answer():
    # the objective's minimiser is found, wherever it is: a skewed sample whose mean is far from its median
    p = np.concatenate([np.zeros(90), np.full(10, 50.0)])
    c = P.tls_offsets(p[:, None], np.array([[1.0]]))
    assert abs(c[0] - 5.0) < 1e-6 and abs(c[0] - np.median(p)) > 1


def test_distance_identity_and_bn_offset_beats_other_offsets(moons):
    _, stats, hp, plain = bn_and_plain(moons, [2, 16, 16, 16, 1])
    _, zs = P.forward(hp, moons)
    n = moons.shape[0]
    for layer in range(hp.depth):
        for m in range(hp.models):
            w = hp.weights[layer][m].numpy()
            proj, norms = zs[layer][m].numpy() @ w.T, np.linalg.norm(w, axis=1)
            mu, sigma = stats.mean[layer][m].numpy(), stats.std[layer][m].numpy()
            f_mu = np.array([P.tls_objective(proj[:, k], mu[k], norms[k]) for k in range(len(mu))])
            np.testing.assert_allclose(f_mu / n, sigma**2 / norms**2, rtol=1e-8)
            for c in (np.zeros_like(mu), plain.offsets[layer][m].numpy()):
                f_c = np.array([P.tls_objective(proj[:, k], c[k], norms[k]) for k in range(len(mu))])
                assert np.all(f_mu <= f_c)


def test_layer1_distance_matches_brute_force_grid(moons):
    _, _, hp, _ = bn_and_plain(moons, [2, 6, 6, 1], models=1)
    lo, hi, n = moons.min(0) - 1.5, moons.max(0) + 1.5, 801
    points, xs, ys = P.grid(tuple(lo), tuple(hi), n)
    ids = P.activation_patterns(hp, points)[0, :, 0].reshape(n, n)
    edge = P.boundary_mask(ids)
    tree = cKDTree(points[edge.ravel()])
    brute = tree.query(moons)[0]
    exact = P.boundary_distances(hp, moons)[0, :, 0]
    spacing = max(xs[1] - xs[0], ys[1] - ys[0])
    # boundary pixels are within one pixel diagonal of the true line, on either side
    assert np.abs(brute - exact).max() <= spacing * np.sqrt(2)
    assert np.abs(brute - exact).max() > 0  # the brute force is a different computation


@pytest.mark.parametrize("bias", ["zero", "torch"])
def test_translation_equivariance(moons, bias):
    t = np.array([5.0, -7.0])
    net = SwitchableMLP([2, 16, 16, 16, 1], 2, slope=SLOPE, bias=bias)
    shifted = moons + t
    bn = P.boundary_distances(P.hyperplanes(net, "population", net.statistics(moons)), moons)
    bn_t = P.boundary_distances(P.hyperplanes(net, "population", net.statistics(shifted)), shifted)
    assert np.abs(bn - bn_t).max() <= 1e-9
    plain = P.boundary_distances(P.hyperplanes(net, "none"), moons)
    plain_t = P.boundary_distances(P.hyperplanes(net, "none"), shifted)
    assert np.abs(plain - plain_t).max() > 1e-2


def test_linearized_distance_matches_line_search_inside_the_region(moons):
    net, stats, hp, _ = bn_and_plain(moons, [2, 8, 8, 8, 1], models=1)
    x = moons[:24]
    dist = P.boundary_distances(hp, x)[0]  # (N, depth)
    xt = torch.tensor(x, requires_grad=True)
    hs = net.preactivations(xt, "population", stats)
    checked = 0
    for layer in (1, 2):
        h = hs[layer][0]  # (N, width)
        grads = [torch.autograd.grad(h[:, k].sum(), xt, retain_graph=True)[0].numpy() for k in range(h.shape[1])]
        grads = np.stack(grads, 1)  # (N, width, 2)
        lin = np.abs(h.detach().numpy()) / np.linalg.norm(grads, axis=-1)
        np.testing.assert_allclose(lin.min(1), dist[:, layer], rtol=1e-12)  # autograd agrees with the propagation
        for i in range(len(x)):
            k = int(lin[i].argmin())
            u = -np.sign(h[i, k].item()) * grads[i, k] / np.linalg.norm(grads[i, k])
            ts = np.linspace(0, 1.5 * dist[i, layer], 257)  # no sample falls on the predicted root
            line = x[i] + ts[:, None] * u
            along = P.forward(hp, line)[0][layer][0, :, k].numpy()
            earlier = P.activation_patterns(hp, line)[0, :, :layer]
            crossing = np.flatnonzero(np.sign(along[1:]) != np.sign(along[:-1]))
            if not len(crossing) or np.any(earlier[: crossing[0] + 2] != earlier[0]):
                continue  # an earlier layer folds the boundary before it is reached: first order is not exact
            j = crossing[0]
            def unit(t, start=x[i], u=u, layer=layer, k=k):
                return P.forward(hp, (start + t * u)[None])[0][layer][0, 0, k].item()

            root = brentq(unit, ts[j], ts[j + 1], xtol=1e-15)
            np.testing.assert_allclose(root, dist[i, layer], rtol=1e-8)
            checked += 1
    assert checked >= 5, checked


def test_grid_patterns_and_regions():
    ids = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 1]])
    assert P.boundary_mask(ids).tolist() == [[False, True, True], [True, True, True], [True, True, True]]
    patterns = np.array([[[1, 5], [1, 6], [2, 5], [1, 5]]])
    np.testing.assert_array_equal(P.region_ids(patterns), [[[0, 0], [0, 1], [1, 2], [0, 0]]])
