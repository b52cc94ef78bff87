"""Layer 0, the floor beneath configuration: errors, paths, financial-year periods, hashing
and output-set safety. Nothing here knows about the partnership, its parameters or its data."""

#: the toolkit's version (also in ``pyproject.toml``)
__version__ = "0.2.0"
