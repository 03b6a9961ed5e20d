"""Pure functions over episode logs and metric histories (each cites its paper and formula)."""

from emergent.metrics.social import efficiency, equality, peace, social_outcomes, sustainability

__all__ = ["efficiency", "equality", "peace", "social_outcomes", "sustainability"]
