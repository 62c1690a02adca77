"""A crawler-like writer process for the concurrency test.

Writer W archives copy W of every labelled speech (the original, the traditional-script copy, ...),
one transaction per speech, each at an agreed moment: the writers archive copies of the same speech
at the same time, and nothing later can merge a split group back together.

    python -m tests.dedup.writer DB_URL START_EPOCH WORKER
"""

from __future__ import annotations

import sys
import time

from archive.storage.db import open_archive, sessions
from tests.dedup.labelled import KINDS, labelled_set
from tests.test_dedup_gate import add_speech


def main() -> None:
    url, start, worker = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    engine = open_archive(url, writer=True)
    make = sessions(engine)
    docs = labelled_set()
    mine = [(n, doc) for n, doc in enumerate(docs) if doc.kind == KINDS[worker]]
    for k, (n, doc) in enumerate(mine):
        time.sleep(max(0.0, start + k * 0.15 - time.time()))
        with make() as session:
            add_speech(session, n, doc.text, doc.truncated)
            session.commit()
    engine.dispose()


if __name__ == "__main__":
    main()
