"""Tests of the shmetrics package against a running agent.

tests/e2e_python.sh starts the agent (its configuration declares the
collectors used here) and runs this file with Debian's python3:

    SHMETRICS_INSTANCE=...  SHMETRICS_TEST_PORT=...  (the exporter's port)
    SHMETRICS_SEGMENTS_DIR=...  SHMETRICS_CLI=build/bin/shmetrics

Each test uses collectors of its own: what an ended worker counted stays in
its collector until the collector is reset.
"""

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time
import unittest
import urllib.request

import shmetrics

INSTANCE = os.environ.get("SHMETRICS_INSTANCE", "main")
PORT = os.environ.get("SHMETRICS_TEST_PORT")
CLI = os.environ.get("SHMETRICS_CLI", "build/bin/shmetrics")
INTERVAL = 0.05  # seconds between publishes: the tests wait for a few


def scrape(collector):
    """The exporter's /metrics for one collector."""
    url = "http://127.0.0.1:%s/metrics?collect[]=%s" % (PORT, collector)
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def lines(text, prefix):
    return [l for l in text.splitlines() if l.startswith(prefix)]


def value(collector, series):
    """The value of one series as the exporter serves it, or None."""
    found = lines(scrape(collector), series + " ")
    return float(found[0].split()[-1]) if len(found) == 1 else None


def wait_value(collector, series, want, seconds=5.0):
    deadline = time.monotonic() + seconds
    got = None
    while time.monotonic() < deadline:
        got = value(collector, series)
        if got == want:
            return got
        time.sleep(0.05)
    return got


def open_collector(name):
    return shmetrics.Collector(name, instance=INSTANCE, interval=INTERVAL)


def reap(pid):
    _, status = os.waitpid(pid, 0)
    return status


class TestApi(unittest.TestCase):
    def test_the_api_of_the_issue_and_what_it_serves(self):
        with open_collector("py_api") as c:
            self.assertGreaterEqual(c.worker_slot, 0)
            requests = c.counter("py_api_requests_total", "Requests.", ["method", "code"])
            in_flight = c.gauge("py_api_in_flight", "In flight.", aggregate="sum")
            latency = c.histogram("py_api_seconds", "Latency.", ["method"],
                                  buckets=[0.1, 1.0, float("inf")])
            requests.labels("GET", "200").inc()
            requests.labels(method="GET", code="200").inc(2)
            requests.labels("POST", 500).inc()  # values become str, like prometheus_client
            in_flight.set(3)
            in_flight.inc()
            in_flight.dec(2)
            latency.labels("GET").observe(0.05)
            with latency.labels("GET").time():
                pass

            @latency.labels("PUT").time()
            def handler():
                return 42

            self.assertEqual(handler(), 42)
            self.assertIs(c.counter("py_api_requests_total", "Requests.",
                                    ["method", "code"]), requests)
            c.publish()
            text = scrape("py_api")
        self.assertIn('py_api_requests_total{method="GET",code="200"} 3\n', text)
        self.assertIn('py_api_requests_total{method="POST",code="500"} 1\n', text)
        self.assertIn("py_api_in_flight 2\n", text)
        self.assertIn('py_api_seconds_bucket{method="GET",le="+Inf"} 2\n', text)
        self.assertIn('py_api_seconds_count{method="PUT"} 1\n', text)
        self.assertIn("# TYPE py_api_seconds histogram\n", text)

    def test_mistakes_are_refused_with_the_reason(self):
        with open_collector("py_api") as c:
            f = c.counter("py_api_errors_total", "Errors.", ["kind"])
            with self.assertRaisesRegex(ValueError, "1 label name"):
                f.labels("a", "b")
            with self.assertRaisesRegex(ValueError, "labels\\(\\) first"):
                f.inc()
            with self.assertRaisesRegex(ValueError, "non-negative"):
                f.labels("a").inc(-1)
            with self.assertRaisesRegex(ValueError, "already registered"):
                c.gauge("py_api_errors_total", "", ["kind"])
            with self.assertRaisesRegex(ValueError, "aggregate 'median'"):
                c.gauge("py_api_g", "", aggregate="median")
            with self.assertRaisesRegex(ValueError, "worker"):
                c.gauge("py_api_w", "", ["worker"], aggregate="worker")
            with self.assertRaisesRegex(ValueError, "not a valid|invalid|name"):
                c.counter("2bad", "")
            series = f.labels("x")
        with self.assertRaisesRegex(ValueError, "closed"):
            series.inc()
        with self.assertRaisesRegex(OSError, "py_nonexistent"):
            open_collector("py_nonexistent")


def run_workers(mode, collector):
    """python/tests/workers.py MODE COLLECTOR in a process of its own."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "workers.py")
    return subprocess.run([sys.executable, script, mode, collector], capture_output=True,
                          text=True, check=True, timeout=240).stdout


def in_child(body):
    """Forks; the child runs body and leaves without running anything of the
    parent's (not even unittest's handlers).  Returns the child's pid."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            body()
            code = 0
        finally:
            os._exit(code)
    return pid


class TestWorkers(unittest.TestCase):
    def test_eight_forked_workers_one_killed_count_exactly_80000_on_one_line(self):
        run_workers("count", "py_count")
        self.assertEqual(wait_value("py_count", "py_count_total", 80000), 80000)
        self.assertEqual(len(lines(dump("py_count"), "py_count_total ")), 1)

    def test_fork_churn_of_1000_workers_keeps_slots_bounded_and_totals_exact(self):
        path = os.path.join(os.environ["SHMETRICS_SEGMENTS_DIR"], INSTANCE, "py_churn.seg")
        size = os.stat(path).st_size
        expected = int(run_workers("churn", "py_churn"))
        self.assertEqual(os.stat(path).st_size, size)
        total = lines(dump("py_churn"), "py_churn_jobs_total ")
        self.assertEqual(total, ["py_churn_jobs_total %d" % expected])

    def test_a_multiprocessing_child_loses_nothing_at_its_os_exit(self):
        c = open_collector("py_mp")
        done = c.counter("py_mp_done_total", "Done.")
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=lambda: [done.inc() for _ in range(250)])
                 for _ in range(4)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
            self.assertEqual(p.exitcode, 0)
        self.assertEqual(wait_value("py_mp", "py_mp_done_total", 1000), 1000)
        c.close()

    def test_a_worker_beyond_the_slots_is_refused_and_counted(self):
        a, b = open_collector("py_limit"), open_collector("py_limit")
        with self.assertRaisesRegex(OSError, "all 2 worker slots are held"):
            open_collector("py_limit")
        refused = 'shmetrics_collector_workers_refused_total{collector="py_limit"}'
        self.assertEqual(wait_value("py_limit", refused, 1), 1)
        self.assertEqual(value("py_limit", 'shmetrics_collector_workers{collector="py_limit"}'), 2)
        a.close()
        b.close()


class TestGauges(unittest.TestCase):
    def test_each_aggregate(self):
        c = open_collector("py_gauges")
        names = ["sum", "max", "min", "last", "worker"]
        gauges = {a: c.gauge("py_g_" + a, "Aggregated by %s." % a, aggregate=a)
                  for a in names}
        ready_r, ready_w = os.pipe()
        go_r, go_w = os.pipe()
        pids = []

        def worker(v):
            for g in gauges.values():
                g.set(v)
            c.publish()
            os.write(ready_w, b"x")
            os.read(go_r, 1)
            c.close()

        for i in range(3):
            pids.append(in_child(lambda: worker(10 * (i + 1))))
            os.read(ready_r, 1)  # one after the other: "last" is worker 3's
        want = {"py_g_sum": 60, "py_g_max": 30, "py_g_min": 10, "py_g_last": 30}
        for series, v in want.items():
            self.assertEqual(wait_value("py_gauges", series, v), v, series)
        self.assertEqual(len(lines(scrape("py_gauges"), "py_g_worker{worker=")), 3)
        os.kill(pids[2], signal.SIGKILL)  # the worker of the max and of the last value
        reap(pids[2])
        self.assertEqual(wait_value("py_gauges", "py_g_sum", 30), 30)
        self.assertEqual(value("py_gauges", "py_g_max"), 20)
        self.assertEqual(value("py_gauges", "py_g_last"), 30)
        self.assertEqual(len(lines(scrape("py_gauges"), "py_g_worker{worker=")), 2)
        os.write(go_w, b"xx")
        for pid in pids[:2]:
            self.assertEqual(reap(pid), 0)
        c.close()  # the parent never set them: it has no part in them
        text = dump("py_gauges")
        self.assertEqual(lines(text, "py_g_"), ["py_g_last 30"])


def dump(collector):
    return subprocess.run([CLI, "dump", collector, "--instance=" + INSTANCE],
                          capture_output=True, text=True, check=True).stdout


class TestReset(unittest.TestCase):
    def test_reset_starts_the_counters_again(self):
        c = open_collector("py_reset")
        hits = c.counter("py_reset_total", "Hits.")

        def worker():
            for _ in range(7):
                hits.inc()
            c.close()

        self.assertEqual(reap(in_child(worker)), 0)
        hits.inc(5)
        c.publish()
        self.assertEqual(wait_value("py_reset", "py_reset_total", 12), 12)
        subprocess.run([CLI, "reset", "py_reset", "--instance=" + INSTANCE], check=True)
        c.publish()  # the live worker rebases at its next publish
        hits.inc()
        c.publish()
        self.assertEqual(wait_value("py_reset", "py_reset_total", 1), 1)
        c.close()


if __name__ == "__main__":
    unittest.main()
