#!/usr/bin/python3
"""shmetrics' workers next to prometheus_client's multiprocess mode, same data.

    bench/multiprocess_vs_prometheus_client.py          (after make; as root or
                                                         the agent's user)
    WORKERS=64 SERIES=1000 SCRAPES=300 PROM_SCRAPES=20 INCREMENTS=1000000

Both sides get WORKERS worker processes, forked from this one, each with the
same SERIES counter series (one family, label "series") holding the same
values: worker w's series i is (w + i) % 7 + 1.

 - shmetrics: an agent with an external collector of WORKERS + 2 worker slots;
   the workers stay attached and publish every PUBLISH_S seconds (so that the
   exporter merges every slot again at each scrape, as it does in production,
   where a scrape interval is longer than a publish interval).
 - prometheus_client (Debian's python3-prometheus-client): the workers write
   their values into PROMETHEUS_MULTIPROC_DIR; one process serves
   MultiProcessCollector over HTTP (start_http_server), as its documentation
   sets it up.

Measured, one after the other in this run:
 - scrape latency: wall time of GET /metrics from this process (one new
   connection per request, http.client), median and 90th percentile;
 - scrape cost: CPU time (utime + stime from /proc/PID/stat) of the serving
   process (our exporter; the prometheus_client server) per scrape;
 - increment cost: ns per .inc() on a labelled series in this process: the
   shmetrics package (its C extension), shmetrics through ctypes (the
   alternative the package did not take), prometheus_client multiprocess;
 - what the workers pay to publish: one publish of SERIES series.

Prints a Markdown table with the ratios.  Uses Debian's python3 only.
"""

import ctypes
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))

import shmetrics  # noqa: E402

WORKERS = int(os.environ.get("WORKERS", "64"))
SERIES = int(os.environ.get("SERIES", "1000"))
SCRAPES = int(os.environ.get("SCRAPES", "300"))
PROM_SCRAPES = int(os.environ.get("PROM_SCRAPES", "20"))
INCREMENTS = int(os.environ.get("INCREMENTS", "1000000"))
PUBLISH_S = float(os.environ.get("PUBLISH_S", "0.2"))
BIN = os.path.join(ROOT, "build", "bin")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def get(port):
    """GET /metrics on a new connection: (seconds, body)."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/metrics")
    body = conn.getresponse().read()
    conn.close()
    return time.perf_counter() - t0, body


def scrape_run(pid, port, n, gap):
    """n scrapes, gap seconds apart: latencies and CPU per scrape of pid."""
    get(port)  # warm
    lat = []
    cpu0 = cpu_seconds(pid)
    for _ in range(n):
        t, body = get(port)
        lat.append(t)
        time.sleep(gap)
    cpu = (cpu_seconds(pid) - cpu0) / n
    lat.sort()
    return {"p50": lat[len(lat) // 2], "p90": lat[int(len(lat) * 0.9)], "cpu": cpu,
            "bytes": len(body), "body": body.decode()}


def total_of(body, name):
    return sum(float(l.split()[-1]) for l in body.splitlines()
               if l.startswith(name + "{"))


def expected_total():
    return sum((w + i) % 7 + 1 for w in range(WORKERS) for i in range(SERIES))


# ---- shmetrics ----

def start_agent(work, inst):
    config = {
        "instance": inst,
        "interval": "1s",
        "web": {"listen_address": "127.0.0.1:0"},
        "custom_collectors": {
            "bench": {"external": True, "workers": WORKERS + 3, "max_series": SERIES + 50},
        },
    }
    path = os.path.join(work, "config.json")
    with open(path, "w") as f:
        json.dump(config, f)
    log = open(os.path.join(work, "agent.log"), "w")
    agent = subprocess.Popen([os.path.join(BIN, "shmetrics-agent"), "--config", path,
                              "--collector.disable-defaults"],
                             stdout=log, stderr=subprocess.STDOUT)
    for _ in range(200):
        time.sleep(0.05)
        text = open(os.path.join(work, "agent.log")).read()
        m = re.search(r"listening on [^ ]*:(\d+)", text)
        if m:
            return agent, int(m.group(1))
    raise SystemExit("the agent did not start: " + text)


def exporter_pid(inst):
    out = subprocess.run(["pgrep", "-f", "shmetrics-exporter .*--instance=%s " % inst],
                         capture_output=True, text=True).stdout.split()
    return int(out[0])


def our_worker(w, inst, ready, go):
    c = shmetrics.Collector("bench", instance=inst, interval=PUBLISH_S)
    f = c.counter("bench_requests_total", "Requests of the benchmark.", ["series"])
    for i in range(SERIES):
        f.labels("s%d" % i).inc((w + i) % 7 + 1)
    c.publish()
    os.write(ready, b"x")
    os.read(go, 1)  # the publisher thread publishes every PUBLISH_S meanwhile
    c.close()


def fork_workers(body, *args):
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    pids = []
    for w in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                body(w, *args, ready_w, go_r)
                code = 0
            finally:
                os._exit(code)
        pids.append(pid)
    for _ in pids:
        os.read(ready_r, 1)
    return pids, go_w


def stop_workers(pids, go_w):
    os.write(go_w, b"x" * len(pids))
    for pid in pids:
        os.waitpid(pid, 0)


def publish_cost(inst):
    """A worker's publish of SERIES series (its publisher thread does this every interval)."""
    c = shmetrics.Collector("bench", instance=inst, interval=3600)
    f = c.counter("bench_publish_probe_total", "Publish cost probe.", ["series"])
    for i in range(SERIES):
        f.labels("s%d" % i).inc()
    n = 200
    t0 = time.perf_counter()
    for _ in range(n):
        c.publish()
    dt = (time.perf_counter() - t0) / n
    c.close()
    return dt


def bench_ours(work):
    inst = "benchmp%d" % os.getpid()
    agent, port = start_agent(work, inst)
    try:
        pids, go = fork_workers(our_worker, inst)
        exporter = exporter_pid(inst)
        time.sleep(2 * PUBLISH_S)
        # A gap of a publish interval or more: every scrape sees fresh publishes.
        res = scrape_run(exporter, port, SCRAPES, PUBLISH_S / 4)
        res["publish"] = publish_cost(inst)
        stop_workers(pids, go)
        res["inc"] = inc_ours(inst)
        res["inc_ctypes"] = inc_ctypes(inst)
        return res
    finally:
        agent.terminate()
        agent.wait(timeout=20)


def inc_ours(inst):
    with shmetrics.Collector("bench", instance=inst, interval=3600) as c:
        child = c.counter("bench_inc_total", "Increment cost.", ["series"]).labels("x")
        t0 = time.perf_counter()
        for _ in range(INCREMENTS):
            child.inc()
        return (time.perf_counter() - t0) / INCREMENTS


def inc_ctypes(inst):
    """The same increments through ctypes over libshmetrics.so."""
    lib = ctypes.CDLL(os.path.join(ROOT, "build", "lib", "libshmetrics.so.0"))

    class Options(ctypes.Structure):
        _fields_ = [("instance", ctypes.c_char_p), ("interval_ms", ctypes.c_uint),
                    ("flags", ctypes.c_uint)]

    lib.shmetrics_open.restype = ctypes.c_void_p
    lib.shmetrics_open.argtypes = [ctypes.c_char_p, ctypes.POINTER(Options)]
    lib.shmetrics_counter.restype = ctypes.c_void_p
    lib.shmetrics_counter.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_char_p), ctypes.c_size_t]
    lib.shmetrics_series.restype = ctypes.c_void_p
    lib.shmetrics_series.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p),
                                     ctypes.c_size_t]
    lib.shmetrics_inc.argtypes = [ctypes.c_void_p]
    lib.shmetrics_close.argtypes = [ctypes.c_void_p]
    opts = Options(inst.encode(), 3600000, 0)
    m = lib.shmetrics_open(b"bench", ctypes.byref(opts))
    names = (ctypes.c_char_p * 1)(b"series")
    values = (ctypes.c_char_p * 1)(b"x")
    f = lib.shmetrics_counter(m, b"bench_ctypes_total", b"ctypes cost.", names, 1)
    s = lib.shmetrics_series(f, values, 1)
    inc = lib.shmetrics_inc
    t0 = time.perf_counter()
    for _ in range(INCREMENTS // 4):
        inc(s)
    dt = (time.perf_counter() - t0) / (INCREMENTS // 4)
    lib.shmetrics_close(m)
    return dt


# ---- prometheus_client ----

def prom_worker(w, ready, go):
    from prometheus_client import Counter
    f = Counter("bench_requests", "Requests of the benchmark.", ["series"])
    for i in range(SERIES):
        f.labels("s%d" % i).inc((w + i) % 7 + 1)
    os.write(ready, b"x")
    os.read(go, 1)


PROM_SERVER = """
import sys, time
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector
registry = CollectorRegistry()
MultiProcessCollector(registry)
start_http_server(int(sys.argv[1]), addr="127.0.0.1", registry=registry)
print("ready", flush=True)
while True:
    time.sleep(3600)
"""


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bench_prometheus_client(work):
    mpdir = os.path.join(work, "prom")
    os.mkdir(mpdir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = mpdir
    pids, go = fork_workers(prom_worker)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", PROM_SERVER, str(port)],
                              stdout=subprocess.PIPE, text=True)
    try:
        server.stdout.readline()
        res = scrape_run(server.pid, port, PROM_SCRAPES, 0.05)
        stop_workers(pids, go)
        res["inc"] = inc_prometheus_client()
        return res
    finally:
        server.terminate()
        server.wait(timeout=20)


def inc_prometheus_client():
    from prometheus_client import Counter
    child = Counter("bench_inc", "Increment cost.", ["series"]).labels("x")
    n = max(INCREMENTS // 10, 1000)
    t0 = time.perf_counter()
    for _ in range(n):
        child.inc()
    return (time.perf_counter() - t0) / n


# ---- the report ----

def report(ours, prom):
    want = expected_total()
    got_ours = total_of(ours["body"], "bench_requests_total")
    got_prom = total_of(prom["body"], "bench_requests_total")
    print("same data: expected total %d, shmetrics served %d, prometheus_client served %d"
          % (want, got_ours, got_prom))
    print("series served: shmetrics %d, prometheus_client %d"
          % (ours["body"].count("bench_requests_total{"),
             prom["body"].count("bench_requests_total{")))
    print()
    print("%d workers x %d series, %s; load %s" % (WORKERS, SERIES, time.strftime("%Y-%m-%d"),
                                                   open("/proc/loadavg").read().split()[0]))
    print()
    print("| measured | shmetrics | prometheus_client | ratio |")
    print("| --- | --- | --- | --- |")
    rows = [
        ("scrape CPU, serving process (per scrape)", ours["cpu"], prom["cpu"], "ms"),
        ("scrape latency, median", ours["p50"], prom["p50"], "ms"),
        ("scrape latency, 90th percentile", ours["p90"], prom["p90"], "ms"),
        ("increment (.labels(...).inc() on a held child)", ours["inc"], prom["inc"], "ns"),
        ("increment through ctypes instead of the extension", ours["inc_ctypes"],
         prom["inc"], "ns"),
    ]
    for what, a, b, unit in rows:
        k = 1e3 if unit == "ms" else 1e9
        ratio = "%.1f" % (b / a) if a > 0 else "n/a (raise SCRAPES)"
        print("| %s | %.3g %s | %.3g %s | %s |" % (what, a * k, unit, b * k, unit, ratio))
    print("| body | %d bytes | %d bytes | |" % (ours["bytes"], prom["bytes"]))
    print()
    print("each shmetrics worker's publish of %d series: %.0f us, every interval, in its "
          "publisher thread (prometheus_client writes on every increment instead)"
          % (SERIES, ours["publish"] * 1e6))
    ok = got_ours == want and got_prom == want
    return 0 if ok else 1


def main():
    if not os.path.exists(os.path.join(BIN, "shmetrics-agent")):
        raise SystemExit("build first: make")
    work = tempfile.mkdtemp(prefix="bench-mp-")
    try:
        ours = bench_ours(work)
        prom = bench_prometheus_client(work)
        return report(ours, prom)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.exit(main())
