"""Pre-fork programs for test_shmetrics.py, run as processes of their own so
that their workers end the way real ones do: sys.exit() through the
interpreter's normal shutdown, os._exit(), SIGKILL.

    python3 workers.py count COLLECTOR    8 workers x 10000 increments, one of
                                          them SIGKILLed after it published
    python3 workers.py churn COLLECTOR    1000 short-lived workers, at most 3
                                          at once; prints the expected total
"""

import os
import signal
import sys

import shmetrics

INSTANCE = os.environ.get("SHMETRICS_INSTANCE", "main")


def count(name):
    c = shmetrics.Collector(name, instance=INSTANCE, interval=0.05)
    hits = c.counter(name + "_total", "Increments of the workers.")
    ready_r, ready_w = os.pipe()
    pids = []
    for i in range(8):
        pid = os.fork()
        if pid == 0:  # the parent's handles: the child attaches at its first call
            for _ in range(10000):
                hits.inc()
            c.publish()
            os.write(ready_w, b"x")
            if i == 3:
                while True:
                    signal.pause()
            sys.exit(0)  # the interpreter's shutdown, then exit(): a last publish
        pids.append(pid)
    for _ in pids:
        os.read(ready_r, 1)
    os.kill(pids[3], signal.SIGKILL)
    for pid in pids:
        os.waitpid(pid, 0)
    c.close()


def churn(name):
    c = shmetrics.Collector(name, instance=INSTANCE, interval=0.05)
    jobs = c.counter(name + "_jobs_total", "Jobs of short-lived workers.")
    expected, running = 0, []
    for i in range(1000):
        if len(running) == 3:  # 4 slots; the parent holds one
            os.waitpid(running.pop(0), 0)
        pid = os.fork()
        if pid == 0:
            for _ in range(i % 5 + 1):
                jobs.inc()
            if i % 3 == 0:  # killed, after a publish
                c.publish()
                os.kill(os.getpid(), signal.SIGKILL)
            if i % 3 == 1:  # closed, then gone without exit handlers
                c.close()
                os._exit(0)
            sys.exit(0)
        running.append(pid)
        expected += i % 5 + 1
    for pid in running:
        os.waitpid(pid, 0)
    c.close()
    print(expected)


if __name__ == "__main__":
    {"count": count, "churn": churn}[sys.argv[1]](sys.argv[2])
