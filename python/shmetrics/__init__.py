"""shmetrics: publish your application's metrics through a shmetrics agent.

A collector is declared in the agent's configuration ("custom_collectors"); an
application attaches to it and registers counters, gauges and histograms.  The
agent's exporter serves them on its /metrics beside the host metrics.  Declared
with "workers": N, a collector takes up to N processes at once -- the workers of
a pre-fork server -- and the exporter merges them: counters and histograms are
summed, gauges merged by the aggregate they were registered with.

    import shmetrics

    metrics = shmetrics.Collector("webshop")
    requests = metrics.counter("webshop_requests_total", "Requests served.",
                               ["method", "code"])
    latency = metrics.histogram("webshop_request_duration_seconds",
                                "Time to serve a request.", ["method"])
    in_flight = metrics.gauge("webshop_requests_in_flight",
                              "Requests being served.", aggregate="sum")

    requests.labels("GET", "200").inc()
    with latency.labels("GET").time():
        ...

Updates are lock-free and allocation-free in C (libshmetrics).  The package is
fork-safe: a child process of one that opened a collector attaches as a new
worker at its first call, with its series at zero.  Reference: docs/python.md.
"""

import functools
import time as _time
import weakref

from . import _shmetrics

__all__ = ["Collector", "Counter", "Gauge", "Histogram", "DEFAULT_BUCKETS", "AGGREGATES"]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# How one gauge series of several workers merges into one.
AGGREGATES = {
    "sum": 0,     # the sum over live workers
    "max": 1,     # the largest value of a live worker
    "min": 2,     # the smallest value of a live worker
    "last": 3,    # the value set last by any worker, even one that ended
    "worker": 4,  # one series per live worker, with a "worker" label
}
# prometheus_client's multiprocess_mode names, for code moving over.
_MODE_ALIASES = {
    "livesum": "sum", "livemax": "max", "livemin": "min",
    "mostrecent": "last", "livemostrecent": "last",
    "all": "worker", "liveall": "worker",
}


class _ContextDecorator:
    """A context manager that also decorates a function: each call of the
    function runs inside a fresh copy (_fresh), so calls may overlap."""

    __slots__ = ()

    def _fresh(self):
        raise NotImplementedError

    def __call__(self, func):
        fresh = self._fresh

        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            with fresh():
                return func(*args, **kwargs)

        return wrapped


class _Timer(_ContextDecorator):
    """Times a block (a context manager) or every call of a function (a decorator)."""

    __slots__ = ("_record", "_start")

    def __init__(self, record):
        self._record = record
        self._start = None

    def __enter__(self):
        self._start = _time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._record(max(_time.perf_counter() - self._start, 0.0))

    def _fresh(self):
        return _Timer(self._record)


class _InProgress(_ContextDecorator):
    """Counts what is in progress in a gauge: +1 on entry, -1 on exit."""

    __slots__ = ("_gauge",)

    def __init__(self, gauge):
        self._gauge = gauge

    def __enter__(self):
        self._gauge.inc()
        return self

    def __exit__(self, exc_type, exc, tb):
        self._gauge.dec()

    def _fresh(self):
        return _InProgress(self._gauge)


class _ExceptionCounter(_ContextDecorator):
    """Counts the exceptions of a type that leave a block or a function."""

    __slots__ = ("_counter", "_type")

    def __init__(self, counter, exc_type):
        self._counter = counter
        self._type = exc_type

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None and issubclass(exc_type, self._type):
            self._counter.inc()
        return False

    def _fresh(self):
        return _ExceptionCounter(self._counter, self._type)


# ---- series: what labels() returns ----

class CounterSeries(_shmetrics.Series):
    """One series of a counter."""

    __slots__ = ()

    def count_exceptions(self, exception=Exception):
        return _ExceptionCounter(self, exception)


class GaugeSeries(_shmetrics.Series):
    """One series of a gauge."""

    __slots__ = ()

    def time(self):
        return _Timer(self.set)

    def track_inprogress(self):
        return _InProgress(self)

    def set_to_current_time(self):
        self.set(_time.time())


class HistogramSeries(_shmetrics.Series):
    """One series of a histogram."""

    __slots__ = ()

    def time(self):
        return _Timer(self.observe)


# ---- families: what counter(), gauge() and histogram() return ----

class Counter(_shmetrics.Family):
    """A counter: labels(...).inc(n=1); inc() itself when it has no labels."""

    _kind = _shmetrics.COUNTER
    _child = CounterSeries

    def count_exceptions(self, exception=Exception):
        return _ExceptionCounter(self, exception)


class Gauge(_shmetrics.Family):
    """A gauge: labels(...).set(v), .inc(n=1), .dec(n=1)."""

    _kind = _shmetrics.GAUGE
    _child = GaugeSeries

    def time(self):
        return _Timer(self.set)

    def track_inprogress(self):
        return _InProgress(self)

    def set_to_current_time(self):
        self.set(_time.time())


class Histogram(_shmetrics.Family):
    """A histogram: labels(...).observe(v), labels(...).time()."""

    _kind = _shmetrics.HISTOGRAM
    _child = HistogramSeries

    def time(self):
        return _Timer(self.observe)


def _labelnames(labelnames):
    if isinstance(labelnames, str):
        raise TypeError("labelnames must be a sequence of names, not one str")
    return tuple(labelnames)


def _aggregate(aggregate):
    name = _MODE_ALIASES.get(aggregate, aggregate)
    if name not in AGGREGATES:
        raise ValueError("aggregate %r: expected one of %s"
                         % (aggregate, ", ".join(sorted(AGGREGATES))))
    return AGGREGATES[name]


def _buckets(buckets):
    bounds = [float(b) for b in buckets]
    if bounds and bounds[-1] == float("inf"):
        bounds.pop()  # +Inf is always there; prometheus_client lists it
    if not bounds:
        raise ValueError("buckets: give at least one finite upper bound")
    return bounds


class Collector(_shmetrics.Collector):
    """A custom collector of the agent, attached by this process.

    Collector(name): the "external" collector NAME.  Collector(None) in a
    program the agent started as a "command" collector: its own segment.
    instance: the agent's instance (default $SHMETRICS_INSTANCE, else "main");
    interval: seconds between publishes (default: the collector's interval).
    """

    def __init__(self, name=None, instance=None, interval=None):
        ms = 0 if interval is None else max(int(round(float(interval) * 1000)), 1)
        super().__init__(name, instance, ms)
        self._families = {}
        _collectors.add(self)

    def _family(self, cls, name, help, labelnames, aggregate=0, buckets=None):
        labelnames = _labelnames(labelnames)
        shape = (cls, labelnames, aggregate, None if buckets is None else tuple(buckets))
        known = self._families.get(name)
        if known is not None and known[0] == shape:
            return known[1]  # registering again: the same family
        # A new family; or another shape under a known name, which the library refuses.
        family = self.family(cls._kind, name, help, labelnames, aggregate, buckets, cls,
                             cls._child)
        self._families[name] = (shape, family)
        return family

    def counter(self, name, help="", labelnames=()):
        """A counter.  Name it NAME_total (the convention promtool checks)."""
        return self._family(Counter, name, help, labelnames)

    def gauge(self, name, help="", labelnames=(), aggregate="sum"):
        """A gauge whose workers merge by aggregate: sum, max, min, last or worker."""
        return self._family(Gauge, name, help, labelnames, _aggregate(aggregate))

    def histogram(self, name, help="", labelnames=(), buckets=DEFAULT_BUCKETS):
        """A histogram with these upper bounds (+Inf is added)."""
        return self._family(Histogram, name, help, labelnames, 0, _buckets(buckets))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    def __repr__(self):
        state = "closed" if self.closed else "worker slot %d" % self.worker_slot
        return "<shmetrics.Collector %r (%s)>" % (self.name, state)


# Every open collector of this process (for the publish before os._exit).
_collectors = weakref.WeakSet()


def _publish_all():
    for collector in list(_collectors):
        if not collector.closed:
            try:
                collector.publish()
            except (OSError, ValueError):
                pass  # not attached (a refused worker): nothing of its own to lose


def _in_multiprocessing_child(_):
    from multiprocessing import util
    util.Finalize(None, _publish_all, exitpriority=0)


def _hook_multiprocessing():
    """A normal exit publishes (the library's exit handler).  multiprocessing
    ends its children with os._exit, which skips exit handlers; its own
    finalizers still run first, so one of them publishes."""
    try:
        from multiprocessing import util
    except ImportError:  # a Python built without multiprocessing
        return
    util.register_after_fork(_hook_multiprocessing, _in_multiprocessing_child)


_hook_multiprocessing()
