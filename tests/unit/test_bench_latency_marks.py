"""The event-latency benchmark's polled marks against the times Airflow recorded."""

from outcome_monitor.bench.latency import observed_claim


def test_a_claim_polled_after_the_announcement_counts_as_the_announcement():
    assert observed_claim({"claimed": 105.0}, {"announced": 103.5}) == 103.5


def test_a_claim_polled_before_the_announcement_is_kept():
    assert observed_claim({"claimed": 101.2}, {"announced": 103.5}) == 101.2


def test_without_airflow_s_announcement_the_polled_claim_stands():
    assert observed_claim({"claimed": 101.2}, {}) == 101.2
    assert observed_claim({}, {"announced": 103.5}) is None
