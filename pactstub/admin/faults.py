"""Admin: faults and delays, read, set and removed (shared through the store by every worker)."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from pactstub.admin import AdminApp, AdminError, json_body, reply, session_of
from pactstub.errors import ConfigError
from pactstub.faults import ANY, Fault


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
    """``PUT /_pactstub/faults`` with ``{"interaction"?, "status"|"drop"|"delay_ms", "probability"?}``."""
    body = json_body(request)
    try:
        fault = Fault.from_json(body)
    except ConfigError as error:
        raise AdminError(400, str(error)) from None
    session = session_of(app, request)
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
