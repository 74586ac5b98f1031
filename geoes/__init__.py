"""geoes — mapa podmiotów ekonomii społecznej (map of social-economy entities)."""

__version__ = "0.1.0"
