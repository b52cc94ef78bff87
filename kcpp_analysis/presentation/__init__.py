"""Layer 4, presentation: charts, maps, plain-English narrative and disclosure control."""
