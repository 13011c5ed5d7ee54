"""A "command" custom collector that forks workers, for tests/e2e_python.sh.

The agent starts it in its sandbox with the collector's segment as descriptor 3
(SHMETRICS_SEGMENT_FD); Collector(None) attaches through it, and so do the
three workers it forks (each at its first call, through the descriptor they
inherited).  Each worker counts 100 and sets its gauge; then all of them wait
to be stopped (SIGTERM from the agent, passed on by the process group).
"""

import os
import signal
import time

import shmetrics

metrics = shmetrics.Collector(None, interval=0.1)
jobs = metrics.counter("cmd_jobs_total", "Jobs of the command's workers.")
alive = metrics.gauge("cmd_worker_up", "1 in each worker.", aggregate="worker")

children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        for _ in range(100):
            jobs.inc()
        alive.set(1)
        signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
        while True:
            time.sleep(1)
    children.append(pid)


def stop(*_):
    for child in children:
        os.kill(child, signal.SIGTERM)
    raise SystemExit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    time.sleep(1)
