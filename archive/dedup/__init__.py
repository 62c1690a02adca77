"""Deduplication: grouping the copies of one speech, choosing and cleaning its canonical text."""
