"""Results never pile up ahead of a slow consumer: memory stays flat in the fleet size."""

from __future__ import annotations

import threading
import time

from auditor.parallel import AHEAD_PER_WORKER, in_threads


def test_threads_wait_for_the_consumer_instead_of_running_ahead() -> None:
    workers, finished, lock = 8, [0], threading.Lock()

    def work(i: int) -> int:
        with lock:
            finished[0] += 1
        return i

    ahead = []
    for taken, (_, _) in enumerate(in_threads(list(range(400)), work, workers), start=1):
        time.sleep(0.001)  # a consumer slower than the work (writing each result to disk)
        with lock:
            ahead.append(finished[0] - taken)
    assert max(ahead) <= AHEAD_PER_WORKER * workers
    assert finished[0] == 400
