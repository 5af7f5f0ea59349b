"""Customer center tables."""
