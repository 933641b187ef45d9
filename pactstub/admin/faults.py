"""Admin: faults and delays, read, set and removed (shared through the store by every worker)."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp, AdminError, json_body, reply, session_of
from pactstub.errors import ConfigError, StoreError
from pactstub.faults import ANY, Fault
from pactstub.state.documents import check_session


def _target(app: AdminApp, name: object) -> str:
    if name is None:
        return ANY
    served = {route.interaction.description for route in app.contract.index.routes}
    if not isinstance(name, str) or name not in served:
        raise AdminError(404, f"no interaction is described {name!r}", interactions=sorted(served))
    return name


def read(app: AdminApp, request: Request) -> Response:
    return reply({"faults": app.store.faults(session_of(app, request, default=None))})


def put(app: AdminApp, request: Request) -> Response:
    """``PUT /_pactstub/faults`` with ``{"interaction"?, "session"?, "status"|"drop"|"delay_ms",
    "probability"?}``; the session is the body's, else the call's (parameter or header)."""
    body = json_body(request)
    try:
        fault = Fault.from_json(body)
        session = session_of(app, request) if body.get("session") is None else check_session(body["session"])
    except (ConfigError, StoreError) as error:
        raise AdminError(400, str(error)) from None
    assert session is not None
    target = _target(app, body.get("interaction"))
    app.store.set_fault(session, target, fault.to_json())
    app.faults.forget()
    return reply({"session": session, "target": target, "config": fault.to_json()})


def remove(app: AdminApp, request: Request) -> Response:
    """``DELETE /_pactstub/faults[?interaction=DESCRIPTION]``: one target's fault, or all of the session's."""
    session = session_of(app, request)
    assert session is not None
    name = request.args.get("interaction")
    targets = [_target(app, name)] if name is not None else [f["target"] for f in app.store.faults(session)]
    for target in targets:
        app.store.set_fault(session, target, None)
    app.faults.forget()
    return Response(status=204)


ROUTES = [("faults", ["GET"], read), ("faults", ["PUT"], put), ("faults", ["DELETE"], remove)]
