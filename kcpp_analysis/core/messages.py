"""How error messages quote input values: never a value that could identify someone."""

from __future__ import annotations

import math
import re

#: a text value may be quoted only if it looks like a vocabulary word or short code
_SHOWABLE = re.compile(r"^[A-Za-z][A-Za-z &'()/,.\-]{0,39}$")


def shown(value) -> str:
    """A cell value as an error may quote it: numbers as they are; text only when it has the
    form of a vocabulary word or short code (letters, spaces and light punctuation, no digits,
    at most 40 characters); otherwise "a value". So a reference that landed in the wrong
    column (a swapped or missing header) is never echoed.

    >>> shown("Burglary"), shown("VR-2031-88"), shown("x" * 60), shown(-45.0), shown(None)
    ("'Burglary'", 'a value', 'a value', '-45.0', 'a blank')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "a blank"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    s = str(value)
    if s.strip() == "":
        return "a blank"
    return repr(s) if _SHOWABLE.match(s) else "a value"
