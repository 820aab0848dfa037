"""How long the engine waits between polls and before giving up, in one injected object.

Values are AWS seconds; ``scaled`` divides them by the sandbox's time scale so the same engine
runs N times faster against a sped-up sandbox. Who calls it: ``server`` (building it),
``engine.onboarding`` (reading it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class EngineTiming:
    #: between two DescribeCreateAccountStatus calls for one request (the rate budget spaces
    #: them further when many creations are in flight)
    account_poll_interval: float = 3.0
    #: a CreateAccount request still IN_PROGRESS after this is reported as failed
    account_timeout: float = 1800.0
    #: between two DescribeStacks calls while a stack operation runs
    stack_poll_interval: float = 5.0
    #: a stack still in progress after this fails the deployment (moto never finishes some)
    stack_timeout: float = 1800.0
    #: between two DescribeChangeSet calls while CloudFormation computes a change set
    change_set_poll_interval: float = 2.0
    #: how many times faster than AWS time runs (the sandbox's time scale; 1 against AWS)
    time_scale: float = 1.0

    def scaled(self, time_scale: float) -> EngineTiming:
        return replace(
            self,
            account_poll_interval=self.account_poll_interval / time_scale,
            account_timeout=self.account_timeout / time_scale,
            stack_poll_interval=self.stack_poll_interval / time_scale,
            stack_timeout=self.stack_timeout / time_scale,
            change_set_poll_interval=self.change_set_poll_interval / time_scale,
            time_scale=self.time_scale * time_scale,
        )
