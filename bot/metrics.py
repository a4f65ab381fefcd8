"""Prometheus figures of the monitor itself, one registry per running product.

Counters and histograms are updated where things happen (runs, deliveries); gauges that
describe the database (open and overdue tasks) are read when /metrics is scraped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

RUN_SECONDS_BUCKETS = (0.5, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.runs = Counter(
            "govpatrol_runs",
            "Check runs by probe kind and outcome",
            ("probe", "outcome"),
            registry=self.registry,
        )
        self.run_seconds = Histogram(
            "govpatrol_run_duration_seconds",
            "Wall-clock duration of check runs",
            ("probe",),
            buckets=RUN_SECONDS_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "govpatrol_notification_deliveries",
            "Notification delivery attempts by result (sent, retry, failed)",
            ("result",),
            registry=self.registry,
        )

    def observe_run(self, probe: str, outcome: str, seconds: float) -> None:
        self.runs.labels(probe=probe, outcome=outcome).inc()
        self.run_seconds.labels(probe=probe).observe(seconds)

    def observe_delivery(self, result: str) -> None:
        self.deliveries.labels(result=result).inc()
