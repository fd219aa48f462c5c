"""Report text: numbers and percents as people read them, and data values made safe for a page.

Narrative modules (each family's ``narrative``) build their sentences with :func:`fill`: the
template is the kit's own Markdown, every value is data (event names, titles, rung names,
attribute values) and is escaped, unless wrapped in :func:`code` (inline code) or :class:`Raw`
(text already made safe). The notebook helpers (:mod:`retention_kit.reporting.report`) show the
result. :func:`pct` and :func:`num` format for the report language in force
(:mod:`retention_kit.core.i18n`).
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from .i18n import num, pct  # numbers and percents for the locale in force

__all__ = ["Raw", "esc", "code", "fill", "pct", "num"]


@dataclasses.dataclass(frozen=True)
class Raw:
    """Markdown that is already safe (built with :func:`esc` or :func:`fill`): not escaped again."""

    text: str

    def __str__(self) -> str:
        return self.text


def esc(value: Any) -> str:
    """Text safe inside HTML and Markdown: HTML entities escaped, Markdown punctuation neutralised,
    line breaks folded to spaces.

    Examples
    --------
    >>> esc("<b>*bold*</b>")
    '&lt;b&gt;\\\\*bold\\\\*&lt;/b&gt;'
    """
    s = " ".join(str(value).split())
    s = html.escape(s, quote=True)
    # inline Markdown that could turn data into links, emphasis, code or tables; values are never
    # at a line start (templates place them), so list and heading markers need no escape
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", s)


def code(value: Any) -> Raw:
    """A data value shown as inline code (e.g. an event name), escaped.

    Examples
    --------
    >>> code("a<b").text
    '<code>a&lt;b</code>'
    """
    return Raw(f"<code>{html.escape(' '.join(str(value).split()), quote=True)}</code>")


def fill(template: str, /, **values: Any) -> Raw:
    """``template`` (the kit's Markdown) with ``{name}`` placeholders filled by escaped ``values``.

    Examples
    --------
    >>> fill("Users who did {event}: {share}", event=code("invite"), share=pct(0.25)).text
    'Users who did <code>invite</code>: 25%'
    """
    return Raw(template.format(**{k: v.text if isinstance(v, Raw) else esc(v) for k, v in values.items()}))
