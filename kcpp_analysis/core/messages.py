"""How error messages quote input values: never a value that could identify someone."""

from __future__ import annotations

import math
import re

#: a text value may be quoted only if it looks like a vocabulary word or short code
_SHOWABLE = re.compile(r"^[A-Za-z][A-Za-z_ &'()/,.\-]{0,39}$")
#: years, financial years, months and dates (``2023``, ``2023-24``, ``2023/24``, ``2023-04``,
#: ``2023-04-01``, ``04/2023``, ``1/4/2023``) identify nobody and are what a period column holds
_PERIOD = re.compile(r"^(\d{4}([-/]\d{2}([-/]\d{2})?)?|(\d{1,2}/){1,2}\d{4})$")
#: a short number written as text (``5``, ``-2``, ``3.5``): too short to be a reference
_SHORT_NUMBER = re.compile(r"^-?\d{1,4}(\.\d{1,3})?$")


def shown(value) -> str:
    """A cell value as an error may quote it: numbers as they are; text only when it has the
    form of a vocabulary word or short code (letters, underscores, spaces and light
    punctuation, no digits, at most 40 characters), of a year, month or date, or of a number
    of at most four digits; otherwise "a value". So a reference that landed in the wrong
    column (a swapped or missing header) is never echoed.

    >>> shown("Burglary"), shown("VR-2031-88"), shown("x" * 60), shown(-45.0), shown(None)
    ("'Burglary'", 'a value', 'a value', '-45.0', 'a blank')
    >>> shown("2023-24"), shown("-2"), shown("20230401"), shown("13/123456/25")
    ("'2023-24'", "'-2'", 'a value', 'a value')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "a blank"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(value)
    s = str(value)
    if s.strip() == "":
        return "a blank"
    return repr(s) if any(p.match(s) for p in (_SHOWABLE, _PERIOD, _SHORT_NUMBER)) else "a value"
