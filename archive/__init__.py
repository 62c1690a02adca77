"""The archive: storage, deduplication, full-text index, queries and export of cleaned speeches."""

import os

# numpy's OpenBLAS starts a busy thread per core when imported: 0.1 s of CPU in every crawl and
# command process, for linear algebra the archive never does (its numpy work is elementwise).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
