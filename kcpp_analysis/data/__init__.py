"""Layer 2, data: source readers (one registry), the crosswalk, reference extracts, canonical
schemas, the prepared dataset and the synthetic demo generator."""
