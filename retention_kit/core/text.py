"""Report text: numbers and percents as people read them, and data values made safe for a page.

Narrative modules (each family's ``narrative``) build their sentences with :func:`fill`: the
template is the kit's own Markdown, every value is data (event names, titles, rung names,
attribute values) and is escaped, unless wrapped in :func:`code` (a Markdown code span, literal
by nature) or :class:`Raw` (text already made safe). The notebook helpers
(:mod:`retention_kit.reporting.report`) show the result. :func:`pct` and :func:`num` format for
the report language in force (:mod:`retention_kit.core.i18n`).
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
    """A data value shown as inline code (e.g. an event name): a Markdown code span.

    A code span, not an HTML ``<code>`` tag: nbconvert (with ``embed_images``, as the kit renders
    pages) re-parses every inline HTML tag of Markdown on its own, so ``<code>`` came out as an
    empty ``<code></code>`` before the value. A code span is rendered by the Markdown parser
    itself, in JupyterLab and in nbconvert alike, and its content is literal: Markdown inside it
    does nothing and the renderer escapes HTML. The fence is one backtick longer than the longest
    run of backticks in the value (CommonMark), padded with a space when the value starts or
    ends with a backtick.

    Examples
    --------
    >>> code("invite_friend").text, code("a<b").text
    ('`invite_friend`', '`a<b`')
    >>> code("x`y").text, code("`x").text
    ('``x`y``', '`` `x ``')
    """
    s = " ".join(str(value).split())
    fence = "`" * (1 + max((len(run) for run in re.findall(r"`+", s)), default=0))
    pad = " " if s.startswith("`") or s.endswith("`") or not s else ""
    return Raw(f"{fence}{pad}{s}{pad}{fence}")


def fill(template: str, /, **values: Any) -> Raw:
    """``template`` (the kit's Markdown) with ``{name}`` placeholders filled by escaped ``values``.

    Examples
    --------
    >>> fill("Users who did {event}: {share}", event=code("invite"), share=pct(0.25)).text
    'Users who did `invite`: 25%'
    """
    return Raw(template.format(**{k: v.text if isinstance(v, Raw) else esc(v) for k, v in values.items()}))
