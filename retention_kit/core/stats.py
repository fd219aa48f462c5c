"""Small statistics shared by the analyses (vectorised, dependency-light).

Notation for a 2x2 table of a behaviour (did / not) against an outcome (retained / not)::

                 retained   not retained
    did             a            b
    not did         c            d

- **Wilson score interval** for a proportion p = k/n with normal quantile z:
  centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
- **Phi coefficient** (Pearson correlation of the two 0/1 variables):
  phi = (a·d - b·c) / sqrt((a+b)(c+d)(a+c)(b+d)).
- **Fisher's exact test** (two-sided): the sum of the hypergeometric probabilities of all tables
  with the observed margins that are no more likely than the observed one.
- **Newcombe's hybrid score interval** for a difference of proportions d = p1 - p2 (method 10 of
  Newcombe 1998), from the Wilson intervals (l1, u1) and (l2, u2):
  [d - sqrt((p1 - l1)² + (u2 - p2)²), d + sqrt((u1 - p1)² + (p2 - l2)²)].
- **Benjamini-Hochberg q-values**: for m p-values sorted p(1) <= ... <= p(m),
  q(i) = min over j >= i of min(1, m·p(j)/j).
- **Mantel-Haenszel odds ratio** over strata i: OR_MH = Σ a_i d_i / n_i ÷ Σ b_i c_i / n_i, with the
  Robins-Breslow-Greenland variance of log OR_MH for its confidence interval.
- **Cochran-Mantel-Haenszel test** of no association within strata: with E_i = (a_i+b_i)(a_i+c_i)/n_i
  and V_i = (a_i+b_i)(c_i+d_i)(a_i+c_i)(b_i+d_i) / (n_i² (n_i-1)),
  X² = (|Σ a_i - Σ E_i| - 1/2)² / Σ V_i on 1 degree of freedom.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def _scipy_stats():
    """scipy.stats, imported on first use: it takes about a second to import, and most
    processes of a run (the runner, most kernels) never test anything."""
    from scipy import stats

    return stats


__all__ = ["wilson_interval", "share_interval", "difference_interval", "phi", "fisher_exact_p", "bh_qvalues", "mantel_haenszel", "cmh_test", "headline_minimum"]

Z95 = 1.959963984540054


def wilson_interval(successes: npt.ArrayLike, n: npt.ArrayLike, *, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """95% (by default) Wilson score interval for ``successes`` out of ``n``; NaN where n == 0.

    Examples
    --------
    >>> lo, hi = wilson_interval(5, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.2366, 0.7634)
    """
    k = np.asarray(successes, dtype="float64")
    m = np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        lo = np.where(m > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(m > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def share_interval(successes: npt.ArrayLike, n: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The 95% Wilson interval of a share as pages and exports show it: exactly 0 below a share
    of 0 and exactly 1 above a share of 1 (the formula leaves rounding noise such as 4e-19 there,
    which would draw a negative error bar).

    Examples
    --------
    >>> lo, hi = share_interval([0, 35], [695, 35])
    >>> float(lo[0]), float(hi[1])
    (0.0, 1.0)
    """
    k, m = np.asarray(successes, dtype="float64"), np.asarray(n, dtype="float64")
    lo, hi = wilson_interval(k, m)
    return np.where(k == 0, 0.0, lo), np.where(k == m, 1.0, hi)


def difference_interval(k1: npt.ArrayLike, n1: npt.ArrayLike, k2: npt.ArrayLike, n2: npt.ArrayLike, *,
                        z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The difference of two proportions k1/n1 - k2/n2 with Newcombe's hybrid score 95% interval
    (the module docstring), element-wise; NaN where n1 or n2 is 0.

    Unlike the Wald interval it stays inside [-1, 1] and keeps its coverage for small groups and
    shares near 0 or 1, which is where segment comparisons live.

    Examples
    --------
    >>> d, lo, hi = difference_interval(5, 10, 2, 10)  # 50% vs 20%
    >>> round(float(d), 4), round(float(lo), 4), round(float(hi), 4)
    (0.3, -0.1067, 0.5999)
    """
    k1, n1, k2, n2 = (np.asarray(x, dtype="float64") for x in (k1, n1, k2, n2))
    l1, u1 = wilson_interval(k1, n1, z=z)
    l2, u2 = wilson_interval(k2, n2, z=z)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        d = p1 - p2
        lo = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        hi = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    ok = (n1 > 0) & (n2 > 0)
    return np.where(ok, d, np.nan), np.where(ok, lo, np.nan), np.where(ok, hi, np.nan)


def phi(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike, d: npt.ArrayLike) -> np.ndarray:
    """Phi coefficient of 2x2 tables (cells as in the module docstring), element-wise.

    phi = (a·d - b·c) / sqrt((a+b)(c+d)(a+c)(b+d)); NaN when a margin is zero (one variable is
    constant, so no correlation is defined).

    Examples
    --------
    >>> round(float(phi(3, 1, 1, 3)), 4)  # (9 - 1) / sqrt(4·4·4·4) = 8 / 16
    0.5
    """
    a, b, c, d = (np.asarray(x, dtype="float64") for x in (a, b, c, d))
    den = (a + b) * (c + d) * (a + c) * (b + d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, (a * d - b * c) / np.sqrt(den), np.nan)


def fisher_exact_p(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike, d: npt.ArrayLike) -> np.ndarray:
    """Two-sided p-value of Fisher's exact test for each 2x2 table (cells as in the module
    docstring), element-wise. NaN when a margin is zero (nothing to test).

    Uses :func:`scipy.stats.fisher_exact` per table: the tables of one analysis are few (events x
    thresholds), and scipy's implementation handles large counts exactly.

    Examples
    --------
    >>> round(float(fisher_exact_p(3, 1, 1, 3)), 4)  # the "lady tasting tea": 34/70
    0.4857
    """
    a, b, c, d = np.broadcast_arrays(*(np.asarray(x, dtype="int64") for x in (a, b, c, d)))
    out = np.full(a.shape, np.nan)
    it = np.nditer([a, b, c, d], flags=["multi_index"])
    for ai, bi, ci, di in it:
        ai, bi, ci, di = int(ai), int(bi), int(ci), int(di)
        if min(ai + bi, ci + di, ai + ci, bi + di) > 0:
            out[it.multi_index] = _scipy_stats().fisher_exact([[ai, bi], [ci, di]], alternative="two-sided")[1]
    return out


def bh_qvalues(p: npt.ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg q-values (step-up false-discovery-rate adjusted p-values).

    q(i) = min over j >= i of min(1, m·p(j)/j) for the m non-missing p-values sorted ascending;
    NaN p-values stay NaN and do not count in m. Rejecting all q <= alpha controls the expected
    share of false discoveries at alpha (independent or positively dependent tests).

    Examples
    --------
    >>> bh_qvalues([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    p = np.asarray(p, dtype="float64")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    pv = p[ok]
    m = pv.size
    if m == 0:
        return out
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    q = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    res = np.empty(m)
    res[order] = q
    out[ok] = res
    return out


def mantel_haenszel(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike, d: npt.ArrayLike, *,
                    z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mantel-Haenszel common odds ratio over strata, with a Robins-Breslow-Greenland 95% CI.

    Cells are arrays whose LAST axis runs over strata (cells as in the module docstring); leading
    axes are separate analyses (e.g. candidates), so many candidates are pooled at once.

    With n_i = a_i + b_i + c_i + d_i, R_i = a_i d_i / n_i, S_i = b_i c_i / n_i,
    P_i = (a_i + d_i) / n_i, Q_i = (b_i + c_i) / n_i:

    OR_MH = ΣR / ΣS, and
    Var(log OR_MH) = ΣP R / (2 (ΣR)²) + Σ(P S + Q R) / (2 ΣR ΣS) + ΣQ S / (2 (ΣS)²).

    Zero cells: a stratum in which the behaviour or the outcome is constant (a zero margin)
    carries no information and is dropped. Zero cells in the other strata need no correction (the
    estimator is made for many sparse strata: a stratum of two users still counts), unless ΣR or
    ΣS is 0 (the estimate would be 0 or infinite): then 0.5 is added to all four cells of each
    informative stratum with a zero cell (Haldane-Anscombe). The result is NaN when no stratum is
    informative.

    Returns
    -------
    (odds_ratio, ci_low, ci_high) arrays of the leading shape.

    Examples
    --------
    >>> or_, lo, hi = mantel_haenszel([[2, 4]], [[3, 1]], [[1, 3]], [[4, 2]])
    >>> round(float(or_[0]), 4)  # (2·4/10 + 4·2/10) / (3·1/10 + 1·3/10) = 1.6 / 0.6
    2.6667
    """
    a, b, c, d = np.broadcast_arrays(*(np.asarray(x, dtype="float64") for x in (a, b, c, d)))
    informative = (a + b > 0) & (c + d > 0) & (a + c > 0) & (b + d > 0)
    a, b, c, d = (np.where(informative, x, 0.0) for x in (a, b, c, d))
    n = np.where(informative, a + b + c + d, 1.0)
    # the sums without correction, per analysis: correct only analyses where one of them is 0
    degenerate = ((a * d / n).sum(axis=-1) == 0) | ((b * c / n).sum(axis=-1) == 0)
    zero = informative & degenerate[..., None] & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    a, b, c, d = (np.where(zero, x + 0.5, x) for x in (a, b, c, d))
    n = a + b + c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(informative, a * d / n, 0.0)
        s = np.where(informative, b * c / n, 0.0)
        p = np.where(informative, (a + d) / n, 0.0)
        q = np.where(informative, (b + c) / n, 0.0)
        sr, ss = r.sum(axis=-1), s.sum(axis=-1)
        ok = informative.any(axis=-1) & (sr > 0) & (ss > 0)
        or_mh = np.where(ok, sr / ss, np.nan)
        var = ((p * r).sum(axis=-1) / (2 * sr**2) + (p * s + q * r).sum(axis=-1) / (2 * sr * ss)
               + (q * s).sum(axis=-1) / (2 * ss**2))
        se = np.sqrt(var)
        lo = np.where(ok, np.exp(np.log(or_mh) - z * se), np.nan)
        hi = np.where(ok, np.exp(np.log(or_mh) + z * se), np.nan)
    return or_mh, lo, hi


def cmh_test(a: npt.ArrayLike, b: npt.ArrayLike, c: npt.ArrayLike, d: npt.ArrayLike) -> np.ndarray:
    """Two-sided p-value of the Cochran-Mantel-Haenszel test (with continuity correction) that
    behaviour and outcome are unrelated within every stratum.

    Cells as in :func:`mantel_haenszel`: the LAST axis runs over strata, leading axes are separate
    analyses. Only strata with two or more members and no zero margin inform the test (the others
    have zero variance); the p-value is NaN when none does.

    X² = (|Σ a_i - Σ E_i| - 1/2)² / Σ V_i with E_i = (a_i+b_i)(a_i+c_i)/n_i and
    V_i = (a_i+b_i)(c_i+d_i)(a_i+c_i)(b_i+d_i) / (n_i² (n_i-1)); p = P(χ²₁ >= X²). The correction is
    0 when |Σ a_i - Σ E_i| < 1/2 (then p = 1).

    Examples
    --------
    >>> # E = 1.5 and 3.5, V = 525/900 each: X² = (|6 - 5| - 0.5)² / (7/6) = 0.2143
    >>> round(float(cmh_test([[2, 4]], [[3, 1]], [[1, 3]], [[4, 2]])[0]), 4)
    0.6434
    """
    a, b, c, d = np.broadcast_arrays(*(np.asarray(x, dtype="float64") for x in (a, b, c, d)))
    n = a + b + c + d
    informative = (a + b > 0) & (c + d > 0) & (a + c > 0) & (b + d > 0) & (n >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.where(informative, (a + b) * (a + c) / n, 0.0)
        v = np.where(informative, (a + b) * (c + d) * (a + c) * (b + d) / (n**2 * (n - 1)), 0.0)
        dev = np.where(informative, a, 0.0).sum(axis=-1) - e.sum(axis=-1)
        var = v.sum(axis=-1)
        x2 = np.maximum(np.abs(dev) - 0.5, 0.0) ** 2 / var
        return np.where(var > 0, _scipy_stats().chi2.sf(x2, 1), np.nan)


def headline_minimum(min_size: int, population: int) -> int:
    """The fewest users a group needs before a summary may quote it: ``min_size``, or the whole
    population when it is smaller (a log of 40 users can still be described, as a whole, but never
    by one of its 3-user cohorts).

    Examples
    --------
    >>> headline_minimum(100, 6000), headline_minimum(100, 40)
    (100, 40)
    """
    return max(1, min(int(min_size), int(population)))
