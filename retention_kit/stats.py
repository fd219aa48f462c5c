"""Small statistics shared by the analyses (vectorised, dependency-light).

Wilson score interval for a binomial proportion: with p = k/n and z the normal quantile,
centre = (p + z²/2n) / (1 + z²/n), half-width = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["wilson_interval"]


def wilson_interval(successes: npt.ArrayLike, n: npt.ArrayLike, *, z: float = 1.959963984540054) -> tuple[np.ndarray, np.ndarray]:
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
