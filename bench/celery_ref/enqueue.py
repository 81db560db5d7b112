"""enqueue.py N — send N bench.noop tasks with .delay(), one by one (what an
application does), and print one JSON line: {"n": N, "timed": N - 1, "seconds": S}. The time
covers the .delay() calls after the first (which connects), not Python's
start-up or importing Celery."""
import json
import sys
import time

from tasks import noop


def main():
    n = int(sys.argv[1])
    noop.delay()          # connect and declare the queue outside the timing
    t0 = time.perf_counter()
    for _ in range(n - 1):
        noop.delay()
    secs = time.perf_counter() - t0
    print(json.dumps({"n": n, "timed": n - 1, "seconds": secs}), flush=True)


if __name__ == "__main__":
    main()
