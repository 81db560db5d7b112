"""The Celery reference for bench/jobs_bench.py: one no-op task.

Broker: the durable Redis of the test stack, in its own database number
(CELERY_BROKER_URL, set by jobs_bench.py, e.g. redis://:…@127.0.0.1:26380/5)
so its keys never mix with ShoEase's (database 0).

Settings chosen to match ShoEase's guarantees, everything else left at
Celery's defaults (prefetch multiplier 4, JSON serializer, prefork pool):
  task_acks_late = True          ack after the task ran (at-least-once), like
                                 ShoEase's XACK after the handler
  task_ignore_result = True      no result backend: ShoEase stores no results
  task_reject_on_worker_lost     a task whose worker died goes back to the
                                 queue (ShoEase reclaims it after the lease)
"""
import os

from celery import Celery

app = Celery("bench", broker=os.environ["CELERY_BROKER_URL"])
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@app.task(name="bench.noop")
def noop():
    return None
