"""Queries over the archive: search, concordance (key word in context) and trends over time."""
