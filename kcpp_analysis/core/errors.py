"""Exceptions raised by kcpp_analysis.

Every user-facing error is a :class:`KcppError`; its message names the file, table, column,
row or key at fault so an analyst can fix the input without reading a traceback.
"""

from __future__ import annotations


class KcppError(Exception):
    """Base class for every error the toolkit raises on purpose."""


class ConfigError(KcppError, ValueError):
    """A parameters file (YAML under ``params/`` or a sources file) is invalid."""


class DataValidationError(KcppError, ValueError):
    """A canonical table failed validation.

    Attributes
    ----------
    table : str
        Canonical table name (``incidents``, ``areas``, ``survey``, ``indicators``).
    failures : list of dict
        One dict per failure with keys ``column``, ``check``, ``row``, ``value``.
    """

    def __init__(self, message: str, *, table: str = "", failures: list[dict] | None = None):
        super().__init__(message)
        self.table = table
        self.failures = failures or []


class SourceError(KcppError, ValueError):
    """A raw source file cannot be read into the canonical tables."""
