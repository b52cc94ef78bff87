"""Layer 3, analysis: statistics on the prepared dataset, returning tidy frames and frozen
results (no prose, no charts)."""
