"""The baseline stacks of a new tenant account: which role deploys them, and deploying one.

**Which role.** A new account holds one role Stockade can assume: the org access role
(``organization.access_role``) that Organizations created there. The baseline's first stack,
the *access stack* (``templates/baseline/access.yaml``), creates Stockade's narrow roles: the
deploy role (deploys), the read role (Stockade's reads of its stacks) and the scan role (IAM
reads for credential scans); with ``LockAccessRole`` it also locks the org access role (an
inline deny-all policy, added after the other roles exist). So:

- until the access stack is in place (Stockade has not recorded it complete for the tenant),
  it is created through the org access role (``CreateStack``, waited for through that role);
- once it is, every baseline stack is deployed through the deploy role, with a change set as
  a rollout deploys (``StacksPort.deploy_stack``), and Stockade's reads (the resource check,
  observation, plans) go through the read role: the org access role is never used again;
- a re-run after a crash between the access stack completing and its record (or a lock that
  lands while Stockade still waits on the stack through the org access role) finds that role
  locked: ``CloudAccessDenied`` there means exactly that, and the deploy goes on through the
  deploy role, which the access stack created before the lock. If that role is refused too
  (IAM takes a few seconds to make a new role assumable), the error is transient, so the
  onboarding step is retried.

Idempotent: a stack an earlier attempt left is waited for while in progress, deleted when
failed (or stuck in progress longer than any stack should take) and created again; a change
set of the same name is resumed, never executed twice.

Who calls it: ``engine.onboarding`` (the baseline steps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from stockade.cloud.ports import StackInfo, StacksPort
from stockade.domain.errors import CloudAccessDenied, StackDeploymentFailed, TransientCloudError
from stockade.domain.release import Release
from stockade.domain.spec import Organization
from stockade.engine.timing import EngineTiming

__all__ = ["FAILED_STACK_STATES", "BaselineDeployer", "BaselineStack", "access_stack_name"]

FAILED_STACK_STATES = frozenset(
    {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED"}
)


def access_stack_name(release: Release) -> str | None:
    """The release's access stack: its first baseline stack (the one creating the roles)."""
    return release.baseline[0].name if release.baseline else None


@dataclass(frozen=True)
class BaselineStack:
    """One baseline stack as the tenant's release wants it."""

    name: str
    template_body: str
    parameters: dict[str, str]
    tags: dict[str, str]


@dataclass
class BaselineDeployer:
    """Deploys one baseline stack into one account through the role the account allows now.

    ``stacks(role_name)``: CloudFormation in the account through that role."""

    stacks: Callable[[str], StacksPort]
    account_id: str
    organization: Organization
    timing: EngineTiming
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    def deploy(
        self, stack: BaselineStack, *, roles_in_place: bool, change_set_name: str
    ) -> StackInfo:
        """The stack, complete; ``StackDeploymentFailed`` if it ends otherwise.
        ``roles_in_place``: the access stack is recorded complete for the tenant."""
        org = self.organization
        if not roles_in_place:
            try:
                return self._create(self.stacks(org.access_role), stack)
            except CloudAccessDenied:
                pass  # locked by the access stack an earlier attempt deployed: its roles exist
        try:
            return self._change_set(self.stacks(org.deploy_role), stack, change_set_name)
        except CloudAccessDenied as exc:
            if roles_in_place:
                raise
            raise TransientCloudError(
                f"neither {org.access_role} nor {org.deploy_role} may deploy {stack.name!r} "
                f"in account {self.account_id}: {exc.message}",
                hint="a role the access stack just created takes IAM a few seconds to be "
                "assumable; it will be retried",
            ) from exc

    def _create(self, stacks: StacksPort, stack: BaselineStack) -> StackInfo:
        """Through the org access role: CreateStack, resuming what an earlier attempt left."""
        info = stacks.get_stack(name=stack.name)
        if info is not None and info.in_progress and not info.status.startswith("DELETE"):
            stuck_for = self.wall_clock() - info.changed_at
            if info.changed_at and stuck_for > self.timing.stack_timeout:
                # left in progress by an earlier attempt for longer than any stack should take
                # (the sandbox never finishes some): start over rather than time out again
                info = replace(info, status="CREATE_FAILED")
        if info is not None and info.status in FAILED_STACK_STATES:
            stacks.delete_stack(name=stack.name)
            info = self._wait(stacks, stack.name, deleting=True)
        if info is None:
            stacks.create_stack(
                name=stack.name,
                template_body=stack.template_body,
                parameters=stack.parameters,
                tags=stack.tags,
            )
        return self._complete(self._wait(stacks, stack.name, deleting=False), stack.name)

    def _change_set(self, stacks: StacksPort, stack: BaselineStack, name: str) -> StackInfo:
        """Through the deploy role: a change set, as a rollout deploys (an operation an earlier
        attempt left running is waited out first)."""
        self._wait(stacks, stack.name, deleting=False)
        start = stacks.deploy_stack(
            name=stack.name,
            template_body=stack.template_body,
            parameters=stack.parameters,
            tags=stack.tags,
            change_set_name=name,
            timeout=self.timing.stack_timeout,
            poll_interval=self.timing.change_set_poll_interval,
            sleep=self.sleep,
            clock=self.clock,
        )
        if start.executed:
            return stacks.wait_stack(
                name=stack.name,
                timeout=self.timing.stack_timeout,
                poll_interval=self.timing.stack_poll_interval,
                sleep=self.sleep,
                clock=self.clock,
            )
        # no changes: the stack already is what the release wants
        return self._complete(stacks.get_stack(name=stack.name), stack.name)

    def _complete(self, final: StackInfo | None, name: str) -> StackInfo:
        if final is None or not final.complete:
            status = final.status if final else "DELETED"
            raise StackDeploymentFailed(
                f"baseline stack {name!r} in account {self.account_id} ended {status}"
                + (f": {final.reason}" if final and final.reason else ""),
                hint="fix the template, then `stockade tenant retry`",
            )
        return final

    def _wait(self, stacks: StacksPort, name: str, *, deleting: bool) -> StackInfo | None:
        """The stack once no longer in progress (None once deleted)."""
        deadline = self.clock() + self.timing.stack_timeout
        while True:
            info = stacks.get_stack(name=name)
            if info is None or not info.in_progress:
                return info
            if self.clock() > deadline:
                raise StackDeploymentFailed(
                    f"stack {name!r} still {info.status} after {self.timing.stack_timeout:.0f} s"
                    + (" while deleting" if deleting else ""),
                    hint="a resource never finished (the sandbox skips some types); "
                    "check the template, then `stockade tenant retry`",
                )
            self.sleep(self.timing.stack_poll_interval)
