"""The rollout routes: apply a release, list and show rollouts, halt, resume, roll back, follow.

Handlers are thin calls on ``RolloutOperations`` (``stockade.engine.facade``) with the results
converted by ``stockade.api.rollout_schemas``; errors are ``StockadeError``s (404 unknown
rollout, 409 wrong state, 422 invalid spec) turned into the error shape by
``stockade.api.errors``. ``GET /api/v1/rollouts/{rollout_id}/events`` streams server-sent events
made by ``stockade.api.rollout_events``; it reads the rollout once before the stream starts, so
an unknown id is an ordinary 404. Who may call what is decided by ``stockade.api.access``.

Who calls it: ``stockade.api.app.create_app``.
"""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import FastAPI, Query
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from stockade.api.rollout_events import rollout_stream
from stockade.api.rollout_schemas import (
    ApplyOut,
    ApplyRequest,
    HaltRequest,
    RolloutList,
    RolloutOut,
)
from stockade.api.routes import AUTHENTICATED, Caller, error_responses
from stockade.engine.facade import RolloutOperations
from stockade.store.rollout_types import Rollout, RolloutState

#: the largest page ``GET /api/v1/rollouts`` returns
MAX_ROLLOUTS = 500
#: seconds between two readings of a rollout while streaming its events
DEFAULT_POLL_INTERVAL: Final = 0.5
EVENT_STREAM: Final = "text/event-stream"
#: no caching, and no buffering by a reverse proxy (nginx honours X-Accel-Buffering)
_STREAM_HEADERS: Final = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def add_rollout_routes(
    app: FastAPI, *, rollouts: RolloutOperations, poll_interval: float = DEFAULT_POLL_INTERVAL
) -> None:
    """Register the rollout routes on ``app``."""

    @app.post(
        "/api/v1/rollouts", tags=["rollouts"], status_code=201, responses=error_responses(409)
    )
    def apply(caller: Caller, body: ApplyRequest | None = None) -> ApplyOut:
        """Reload the spec, store its release and make it current, plan every tenant, and
        start a rollout of the tenants with changes (``rollout`` is null if none changes).
        409 while another rollout is pending, running or halted."""
        request = body or ApplyRequest()
        return ApplyOut.of(rollouts.apply(actor=caller.name, refresh=request.refresh))

    @app.get(
        "/api/v1/rollouts",
        tags=["rollouts"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(),
    )
    def list_rollouts(
        state: RolloutState | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_ROLLOUTS)] = 50,
    ) -> RolloutList:
        """Rollouts, newest first, with counts by wave (no tenants)."""
        return RolloutList.of(rollouts.list_rollouts(limit=limit, state=state))

    @app.get(
        "/api/v1/rollouts/{rollout_id}",
        tags=["rollouts"],
        dependencies=[AUTHENTICATED],
        responses=error_responses(404),
    )
    def get_rollout(rollout_id: str) -> RolloutOut:
        """One rollout with its waves and every tenant's status and error."""
        return RolloutOut.of(rollouts.get_rollout(rollout_id))

    @app.post(
        "/api/v1/rollouts/{rollout_id}/halt", tags=["rollouts"], responses=error_responses(404, 409)
    )
    def halt_rollout(
        rollout_id: str, caller: Caller, body: HaltRequest | None = None
    ) -> RolloutOut:
        """Stop starting new tenants (those in flight finish). 409 unless pending or running."""
        reason = (body.reason if body else None) or f"halted by {caller.name}"
        return RolloutOut.of(rollouts.halt_rollout(rollout_id, actor=caller.name, reason=reason))

    @app.post(
        "/api/v1/rollouts/{rollout_id}/resume",
        tags=["rollouts"],
        responses=error_responses(404, 409),
    )
    def resume_rollout(rollout_id: str, caller: Caller) -> RolloutOut:
        """Continue a halted rollout; failed tenants are tried again. 409 unless halted."""
        return RolloutOut.of(rollouts.resume_rollout(rollout_id, actor=caller.name))

    @app.post(
        "/api/v1/rollouts/{rollout_id}/rollback",
        tags=["rollouts"],
        status_code=201,
        responses=error_responses(404, 409),
    )
    def rollback_rollout(rollout_id: str, caller: Caller) -> RolloutOut:
        """Start a new rollout redeploying the previous release to the tenants this one
        changed, and return it. 409 if the rollout is running (halt it first), already rolled
        back, or has no previous release."""
        return RolloutOut.of(rollouts.rollback_rollout(rollout_id, actor=caller.name))

    @app.get(
        "/api/v1/rollouts/{rollout_id}/events",
        tags=["rollouts"],
        dependencies=[AUTHENTICATED],
        response_class=StreamingResponse,
        responses={200: {"content": {EVENT_STREAM: {}}}, **error_responses(404)},
    )
    async def rollout_events(rollout_id: str) -> StreamingResponse:
        """Server-sent events of the rollout's progress: first a snapshot (``rollout``, one
        ``wave`` per wave, a ``tenant`` per tenant no longer pending), then what changes.
        The stream ends after the ``rollout`` event of a state other than pending or running;
        ``: keep-alive`` comments come when nothing changed for 15 s."""
        first = await run_in_threadpool(rollouts.get_rollout, rollout_id)

        async def read() -> Rollout:
            return await run_in_threadpool(rollouts.get_rollout, rollout_id)

        return StreamingResponse(
            rollout_stream(first, read, poll_interval=poll_interval),
            media_type=EVENT_STREAM,
            headers=_STREAM_HEADERS,
        )
