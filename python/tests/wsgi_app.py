"""A tiny WSGI application instrumented with shmetrics, for tests/e2e_gunicorn.sh.

Run under a pre-fork server (gunicorn --preload -w 4 wsgi_app:application):
the collector is opened in the master when the module is imported, and each
worker forked from it attaches as a worker of its own at its first request.
"""

import os

import shmetrics

metrics = shmetrics.Collector(os.environ.get("APP_COLLECTOR", "gunicorn"),
                              interval=float(os.environ.get("APP_INTERVAL", "0.1")))
requests = metrics.counter("app_requests_total", "Requests served.", ["path"])
latency = metrics.histogram("app_request_duration_seconds", "Time to serve a request.")
in_flight = metrics.gauge("app_requests_in_flight", "Requests being served.",
                          aggregate="sum")
worker_pid = metrics.gauge("app_worker_pid", "The process id of each worker.",
                           aggregate="worker")


def application(environ, start_response):
    with latency.time(), in_flight.track_inprogress():
        requests.labels(environ.get("PATH_INFO", "/")).inc()
        worker_pid.set(os.getpid())
        body = ("served by %d\n" % os.getpid()).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
