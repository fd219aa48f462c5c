"""Small statistics checked against published values, hand arithmetic and independent methods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as st

from retention_kit.core import stats


# ------------------------------------------------------------------------------- Wilson

@pytest.mark.parametrize("k, n, lo, hi", [
    # Newcombe (1998), Stat Med 17:857, Table I, method 3 (Wilson score, no continuity correction)
    (81, 263, 0.2553, 0.3662),
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_known_values(k, n, lo, hi):
    got_lo, got_hi = stats.wilson_interval(k, n)
    assert float(got_lo) == pytest.approx(lo, abs=1e-4)
    assert float(got_hi) == pytest.approx(hi, abs=1e-4)


def test_wilson_vectorised_and_empty():
    lo, hi = stats.wilson_interval([5, 0], [10, 0])
    # 5/10 by hand: centre 0.5, half = 1.96·sqrt(0.025 + 0.0096)/1.384 = 0.2634
    assert lo[0] == pytest.approx(0.2366, abs=1e-4) and hi[0] == pytest.approx(0.7634, abs=1e-4)
    assert np.isnan(lo[1]) and np.isnan(hi[1])


# ------------------------------------------------------------------------------- phi

def _vectors(a, b, c, d):
    """The two 0/1 variables behind a 2x2 table (did, retained)."""
    did = np.r_[np.ones(a + b), np.zeros(c + d)]
    ret = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    return did, ret


@pytest.mark.parametrize("cells", [(3, 1, 1, 3), (10, 5, 7, 40), (0, 4, 6, 2), (1, 0, 0, 1), (12, 30, 9, 3)])
def test_phi_is_pearson_correlation_of_the_01_vectors(cells):
    did, ret = _vectors(*cells)
    assert float(stats.phi(*cells)) == pytest.approx(np.corrcoef(did, ret)[0, 1], abs=1e-12)


def test_phi_by_hand_and_undefined():
    # (3·3 - 1·1) / sqrt(4·4·4·4) = 8/16
    assert float(stats.phi(3, 1, 1, 3)) == 0.5
    # a constant variable (nobody did it) has no correlation
    assert np.isnan(stats.phi(0, 0, 4, 6))
    got = stats.phi([3, 1], [1, 0], [1, 0], [3, 1])
    assert got.tolist() == [0.5, 1.0]


# ------------------------------------------------------------------------------- Fisher

def test_fisher_lady_tasting_tea_by_hand():
    # margins 4/4, 4/4: P(a=k) = C(4,k)C(4,4-k)/C(8,4) = 1,16,36,16,1 over 70; observed a=3 has
    # 16/70; the tables no more likely are a = 0, 1, 3, 4: (1+16+16+1)/70
    assert float(stats.fisher_exact_p(3, 1, 1, 3)) == pytest.approx(34 / 70)


def test_fisher_matches_scipy_and_vectorises():
    rng = np.random.default_rng(3)
    cells = rng.integers(0, 60, size=(4, 20))
    got = stats.fisher_exact_p(*cells)
    want = [st.fisher_exact([[a, b], [c, d]])[1] for a, b, c, d in cells.T]
    assert got == pytest.approx(want, rel=1e-12)
    assert np.isnan(stats.fisher_exact_p(0, 0, 3, 4))


# ------------------------------------------------------------------------------- BH

def test_bh_by_hand():
    # sorted 0.01, 0.03, 0.04, 0.5 with m = 4: m·p/rank = 0.04, 0.06, 0.0533, 0.5;
    # step-up minimum from the largest: 0.5, 0.0533, 0.0533, 0.04
    q = stats.bh_qvalues([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])


def test_bh_ignores_missing_and_caps_at_one():
    # m = 2 (the NaN does not count): 0.02·2/1 = 0.04, 0.6·2/2 = 0.6
    q = stats.bh_qvalues([0.02, np.nan, 0.6])
    assert q[0] == pytest.approx(0.04) and np.isnan(q[1]) and q[2] == pytest.approx(0.6)
    assert stats.bh_qvalues([0.9, 0.95]).tolist() == [0.95, 0.95]
    assert stats.bh_qvalues([]).size == 0


def test_bh_rejections_match_the_step_up_rule():
    # independent method: reject the k smallest where k = max{i : p(i) <= i·alpha/m}
    rng = np.random.default_rng(5)
    p = np.r_[rng.uniform(0, 0.01, 8), rng.uniform(0, 1, 40)]
    alpha, m = 0.05, len(p)
    ps = np.sort(p)
    ok = np.nonzero(ps <= np.arange(1, m + 1) * alpha / m)[0]
    k = ok.max() + 1 if ok.size else 0
    assert (stats.bh_qvalues(p) <= alpha).sum() == k


# ------------------------------------------------------------------------------- Mantel-Haenszel

def test_mh_two_strata_by_hand():
    # stratum 1: a,b,c,d = 2,3,1,4; stratum 2: 4,1,3,2; n = 10 each
    # R = ad/n = 0.8, 0.8; S = bc/n = 0.3, 0.3 -> OR = 1.6/0.6
    # P = (a+d)/n = 0.6, 0.6; Q = 0.4, 0.4
    # Var = ΣPR/(2ΣR²) + Σ(PS+QR)/(2ΣRΣS) + ΣQS/(2ΣS²)
    #     = 0.96/5.12 + 1.0/1.92 + 0.24/0.72
    or_, lo, hi = stats.mantel_haenszel([[2, 4]], [[3, 1]], [[1, 3]], [[4, 2]])
    var = 0.96 / 5.12 + 1.0 / 1.92 + 0.24 / 0.72
    assert or_[0] == pytest.approx(1.6 / 0.6)
    assert lo[0] == pytest.approx(1.6 / 0.6 * math.exp(-1.959963984540054 * math.sqrt(var)))
    assert hi[0] == pytest.approx(1.6 / 0.6 * math.exp(1.959963984540054 * math.sqrt(var)))


def test_mh_one_stratum_is_the_odds_ratio_with_woolf_interval():
    # with one stratum RBG reduces to Woolf's: Var(log OR) = 1/a + 1/b + 1/c + 1/d
    or_, lo, hi = stats.mantel_haenszel([[10]], [[5]], [[7]], [[40]])
    assert or_[0] == pytest.approx(10 * 40 / (5 * 7))
    se = math.sqrt(1 / 10 + 1 / 5 + 1 / 7 + 1 / 40)
    assert lo[0] == pytest.approx(400 / 35 * math.exp(-1.959963984540054 * se))
    assert hi[0] == pytest.approx(400 / 35 * math.exp(1.959963984540054 * se))


def test_mh_continuity_and_uninformative_strata():
    # a zero cell: 0.5 added to all four cells -> (0.5·5.5) / (5.5·5.5)
    or_, _, _ = stats.mantel_haenszel([[0]], [[5]], [[5]], [[5]])
    assert or_[0] == pytest.approx(0.5 / 5.5)
    # a stratum where nobody did it (zero margin) carries no information and changes nothing
    alone = stats.mantel_haenszel([[2]], [[3]], [[1]], [[4]])[0]
    with_empty = stats.mantel_haenszel([[2, 0]], [[3, 0]], [[1, 6]], [[4, 9]])[0]
    assert with_empty[0] == pytest.approx(alone[0]) == pytest.approx(8 / 3)
    # no informative stratum at all
    assert np.isnan(stats.mantel_haenszel([[0, 3]], [[0, 0]], [[5, 0]], [[5, 0]])[0][0])


def test_mh_many_candidates_at_once_match_one_by_one():
    rng = np.random.default_rng(11)
    cells = rng.integers(1, 30, size=(4, 6, 3))  # 4 cells x 6 candidates x 3 strata
    got = stats.mantel_haenszel(*cells)[0]
    for i in range(6):
        a, b, c, d = cells[:, i, :]
        n = a + b + c + d
        assert got[i] == pytest.approx((a * d / n).sum() / (b * c / n).sum())


def test_mh_sparse_strata_need_no_correction():
    # strata (a, b, c, d) = (1, 0, 0, 1) and (2, 1, 1, 2): R = 1/2 + 4/6, S = 0 + 1/6 -> OR = 7;
    # the zero cells of the first stratum are left alone because ΣS > 0
    or_, _, _ = stats.mantel_haenszel([[1, 2]], [[0, 1]], [[0, 1]], [[1, 2]])
    assert or_[0] == pytest.approx((1 / 2 + 4 / 6) / (1 / 6))


# ------------------------------------------------------------------ Cochran-Mantel-Haenszel test

def _chi2_1_sf(x):
    # P(chi-square with 1 df >= x) = P(|Z| >= sqrt(x)) = erfc(sqrt(x / 2))
    return math.erfc(math.sqrt(x / 2))


def test_cmh_two_strata_by_hand():
    # stratum 1: a,b,c,d = 2,3,1,4 (n 10): E = 5·3/10 = 1.5, V = 5·5·3·7 / (100·9) = 525/900
    # stratum 2: 4,1,3,2: E = 5·7/10 = 3.5, V = 5·5·7·3 / 900 = 525/900
    # X² = (|6 - 5| - 1/2)² / (1050/900)
    p = stats.cmh_test([[2, 4]], [[3, 1]], [[1, 3]], [[4, 2]])
    assert p[0] == pytest.approx(_chi2_1_sf(0.25 / (1050 / 900)))


def test_cmh_one_stratum_is_the_corrected_chi_square():
    # one 2x2 table: CMH = Yates' chi-square times (n - 1) / n; a,b,c,d = 10,5,7,40, n = 62
    a, b, c, d, n = 10, 5, 7, 40, 62
    yates = n * (abs(a * d - b * c) - n / 2) ** 2 / ((a + b) * (c + d) * (a + c) * (b + d))
    assert yates == pytest.approx(st.chi2_contingency([[a, b], [c, d]], correction=True)[0])
    # the (|dev| - 1/2) correction of CMH equals Yates' (|ad - bc| - n/2) / n on one table
    assert stats.cmh_test([[a]], [[b]], [[c]], [[d]])[0] == pytest.approx(_chi2_1_sf(yates * (n - 1) / n))


def test_cmh_uninformative_strata_and_no_deviation():
    # a stratum with a zero margin, or of one user, adds nothing
    alone = stats.cmh_test([[2]], [[3]], [[1]], [[4]])[0]
    assert stats.cmh_test([[2, 0, 1]], [[3, 0, 0]], [[1, 6, 0]], [[4, 9, 0]])[0] == pytest.approx(alone)
    assert np.isnan(stats.cmh_test([[0]], [[0]], [[5]], [[5]])[0])
    # independent within each stratum (ad = bc): no deviation, p = 1
    assert stats.cmh_test([[1, 2]], [[2, 4]], [[3, 1]], [[6, 2]])[0] == 1.0
