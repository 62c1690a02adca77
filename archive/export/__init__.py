"""Export: the one speech record, and the archive written out as JSONL, CSV, Parquet or WARC."""
