"""The one generic spider; each site is described by its source file, not by code."""
