"""Once the process's ``StopSignal`` is stopped, engine sleeps end at once and no AWS request
leaves: both raise ``EngineStopping``, which ``except Exception`` handlers let pass."""

from __future__ import annotations

import threading
import time

import pytest

from stockade.cloud.aws.session import AwsCloud, AwsTarget, StaticCredentials
from stockade.cloud.budget import RateBudget
from stockade.domain.quotas import DEFAULT_QUOTAS
from stockade.lifecycle import EngineStopping, StopSignal


def test_a_sleep_ends_when_the_signal_stops() -> None:
    stop = StopSignal()
    threading.Timer(0.05, stop.stop).start()
    began = time.monotonic()
    with pytest.raises(EngineStopping):
        stop.sleep(30)
    assert time.monotonic() - began < 5
    assert stop.stopping
    assert not issubclass(EngineStopping, Exception)


def test_a_sleep_runs_its_course_while_running() -> None:
    stop = StopSignal()
    stop.sleep(0.01)
    stop.check()
    assert not stop.stopping


def test_no_request_leaves_once_stopped() -> None:
    stop = StopSignal()
    cloud = AwsCloud(
        # nothing listens there: a request that left would fail with a connection error
        target=AwsTarget(
            region="us-east-1",
            endpoint_url="http://127.0.0.1:9",
            credentials=StaticCredentials("AKIAEXAMPLE000000000", "secret"),
            max_attempts=1,
        ),
        budget=RateBudget(DEFAULT_QUOTAS),
        stop=stop,
    )
    stop.stop()
    with pytest.raises(EngineStopping):
        cloud.organizations().count_accounts()
