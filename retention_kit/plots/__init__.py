"""Plots: seaborn/matplotlib helpers, one module per report family (:mod:`.overview`,
:mod:`.stickiness`, :mod:`.key_behaviors`, :mod:`.ladder`, :mod:`.lifecycle`). Each takes a
result frame first, keyword-only options after, draws on ``ax`` (a new one when None) and returns
the ax."""

from .common import finish, new_ax, percent_axis, use_style

__all__ = ["finish", "new_ax", "percent_axis", "use_style"]
