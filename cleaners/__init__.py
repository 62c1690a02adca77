"""Cleaners: turn a captured page into clean speech texts, saying why each piece was removed."""

from cleaners.dom import PageError
from cleaners.pipeline import CLEANER_VERSION, CleanResult, Limits, SiteRules, Speech, clean_page

__all__ = ["CLEANER_VERSION", "CleanResult", "Limits", "PageError", "SiteRules", "Speech", "clean_page"]
