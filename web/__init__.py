"""The researchers' web UI and JSON API (``speech-archive serve``)."""
