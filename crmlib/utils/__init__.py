"""Internal helpers shared by the analysis modules."""
