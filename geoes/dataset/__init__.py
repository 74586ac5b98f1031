"""The built dataset: the spatial join, the indicators, the atomic versioned build and its reader."""
