"""Response templates, bound to interactions by file name, rendered as safe JSON.

Layout of a templates folder (``--templates DIR``, ``create_app(..., templates=DIR)``)::

    DIR/<pact file stem>/<interaction slug>.json.j2   the body of that interaction's response
    DIR/<pact file stem>/_no_match.json.j2            the body when nothing in that pact matched
    DIR/**/_<name>.j2                                 partials, for {% include %} / {% import %}

The slug of an interaction is its description in lower case with every run of
characters other than ``a-z``/``0-9`` replaced by ``-`` (accents dropped, no
``-`` at either end): ``"a job registration request"`` ->
``a-job-registration-request``. An interaction without a template answers its
pact example. A template whose slug names no interaction of its pact is an
error at load, with the known slugs listed, so a typo never goes unnoticed.

Templates are Jinja2, compiled once when the set is loaded, and run in a
:class:`~jinja2.sandbox.SandboxedEnvironment` with
:class:`~jinja2.StrictUndefined` (a misspelt name is an error, not an empty
string). Output is safe by construction: ``finalize`` writes the value of
every ``{{ expression }}`` as a JSON literal (``json.dumps``), so strings come
out quoted and escaped, numbers as numbers, ``none`` as ``null``, lists and
dicts as JSON arrays and objects. A request value holding quotes, braces or
``{{ }}`` therefore cannot break the document nor run as template code:
request values are data, never templates. Consequently a URL is written as
``{{ base_url ~ "/path" }}`` (one expression), not ``"{{ base_url }}/path"``.

A template that fails, or whose output is not valid JSON (when the pact's
response is JSON), raises :class:`~pactstub.errors.TemplateError` naming the
file and, where known, the template line; the app answers it with a 500. So does
one that runs longer or writes more than its :class:`~pactstub.render.limits.RenderLimits`
allow (see :mod:`pactstub.render.limits`). A number that is not finite is written as
the string ``"NaN"``, ``"Infinity"`` or ``"-Infinity"``, as everywhere the stub writes JSON.
"""

from __future__ import annotations

import contextlib
import logging
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from json import JSONDecodeError
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined

from pactstub import jsontext
from pactstub.errors import StoreError, StoreUnavailable, TemplateError
from pactstub.model import Interaction, Pact
from pactstub.render.context import RequestView, TemplateContext, frozen
from pactstub.render.helpers import Helpers, ResponseChoices, iso_utc
from pactstub.render.lifecycles import load_lifecycles
from pactstub.render.limits import LimitedSandbox, RenderLimitReached, RenderLimits, render_within
from pactstub.state.documents import RecordTooLarge
from pactstub.state.lifecycle import Lifecycle

log = logging.getLogger("pactstub.templates")

#: suffix of a template bound to an interaction (or to a pact's no-match answer)
SUFFIX = ".json.j2"
#: file name (without :data:`SUFFIX`) of a pact's no-match template
NO_MATCH = "_no_match"
DEFAULT_LIMITS = RenderLimits()
#: Levels a template's output may nest. More than a request may (:data:`jsontext.MAX_DEPTH`):
#: a template wraps what it echoes (the no-match template puts a whole request body five levels
#: down, in its closest interaction's mismatches), and a request within its limit must not turn
#: into a 500. Still far from the recursion limit of Python's JSON parser and writer.
OUTPUT_MAX_DEPTH = 2 * jsontext.MAX_DEPTH

_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_JSON_TYPE = re.compile(r"^application/(.+\+)?json\b|^text/json\b", re.IGNORECASE)


def slug(description: str) -> str:
    """``"A job registration request!"`` -> ``"a-job-registration-request"``."""
    ascii_text = unicodedata.normalize("NFKD", description).encode("ascii", "ignore").decode("ascii")
    return _NOT_SLUG.sub("-", ascii_text.lower()).strip("-")


# ------------------------------------------------------------------ output as JSON


def _json_default(value: Any) -> Any:
    if isinstance(value, RequestView):
        return value.to_json()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"a value of type {type(value).__name__} cannot be written as JSON")


def to_json(value: Any) -> str:
    """The JSON literal of ``value``: what every ``{{ expression }}`` writes."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return jsontext.dumps(value, default=_json_default)


def _environment(folder: Path, limits: RenderLimits) -> LimitedSandbox:
    return LimitedSandbox(
        limits,
        loader=jinja2.FileSystemLoader(str(folder), encoding="utf-8", followlinks=False),
        undefined=StrictUndefined,
        finalize=to_json,
        extensions=["jinja2.ext.do"],
        autoescape=False,
        auto_reload=False,
        cache_size=-1,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


# ------------------------------------------------------------------ one template


@dataclass(frozen=True, slots=True)
class Rendered:
    """A template's output: the body, and the status and headers it chose (if any)."""

    body: bytes
    status: int | None = None
    headers: tuple[tuple[str, str], ...] = ()


class ResponseTemplate:
    """One compiled template, bound to one interaction (or a pact's no-match answer)."""

    def __init__(
        self,
        path: Path,
        template: jinja2.Template,
        interaction: Interaction | None = None,
        limits: RenderLimits = DEFAULT_LIMITS,
    ) -> None:
        #: the file, as reached from the templates folder given
        self.path = path
        self._template = template
        self._limits = limits
        self._expects_json = _expects_json(interaction)
        # What templates read of the pact, frozen once: no copy per request, no change by a template.
        self._interaction = frozen(_interaction_view(interaction))
        self._example = frozen(_example(interaction))

    def __repr__(self) -> str:
        return f"ResponseTemplate({str(self.path)!r})"

    def render(self, context: TemplateContext) -> Rendered:
        """The response for one request; :class:`TemplateError` if it fails or is not JSON.

        The state helpers' writes are committed once the body and the status chosen are
        known to be good, and rolled back when not: a failed render leaves the store unchanged.
        """
        helpers = Helpers(context.unit, context.rng, ResponseChoices())
        try:
            body = self._render(self._variables(context, helpers))
            if helpers.choices.status is not None and context.check_status is not None:
                context.check_status(helpers.choices.status)
        except BaseException:
            with contextlib.suppress(StoreError):  # the template's error is the one to report
                helpers.rollback()
            raise
        try:
            helpers.commit()
        except StoreError as error:
            if isinstance(error, StoreUnavailable):
                raise
            raise TemplateError(str(self.path), f"the state could not be saved: {error}") from error
        choices = helpers.choices
        return Rendered(body, choices.status, tuple(choices.headers))

    def _variables(self, context: TemplateContext, helpers: Helpers) -> dict[str, Any]:
        variables: dict[str, Any] = {
            "request": context.request,
            "interaction": self._interaction,
            "example": self._example,
            "state": context.state_params,
            "base_url": context.base_url,
            **helpers.functions(),
        }
        if context.no_match is not None:
            variables["no_match"] = context.no_match
        return variables

    def _render(self, variables: dict[str, Any]) -> bytes:
        try:
            text = render_within(self._template, variables, self._limits)
        except (TemplateError, StoreUnavailable, RecordTooLarge):  # answered as what they are (503, 413)
            raise
        except Exception as error:  # a template may fail in any way; all become TemplateError
            raise TemplateError(str(self.path), _describe(error), self._line_of(error)) from error
        if not self._expects_json:
            body = jsontext.encode_text(text)
        else:
            try:
                document = jsontext.loads(text, max_depth=OUTPUT_MAX_DEPTH)
            except ValueError as error:
                raise TemplateError(str(self.path), _invalid_json(text, error)) from error
            body = jsontext.dumps_bytes(document)
        if len(body) > self._limits.max_bytes:
            message = f"the output is {len(body)} bytes, more than the {self._limits.max_bytes} allowed"
            raise TemplateError(str(self.path), message)
        return body

    def _line_of(self, error: BaseException) -> int | None:
        if isinstance(error, TemplateSyntaxError):  # an {% include %}d partial that fails to compile
            return error.lineno
        filename = self._template.filename
        line = None
        trace: TracebackType | None = error.__traceback__
        while trace is not None:
            if trace.tb_frame.f_code.co_filename == filename:
                line = trace.tb_lineno
            trace = trace.tb_next
        return line


def _interaction_view(interaction: Interaction | None) -> dict[str, Any] | None:
    if interaction is None:
        return None
    return {
        "description": interaction.description,
        "pact": interaction.pact_name,
        "index": interaction.index,
        "slug": slug(interaction.description),
        "provider_states": [
            {"name": state.name, "params": dict(state.params)} for state in interaction.provider_states
        ],
        "status": interaction.response.status,
    }


def _example(interaction: Interaction | None) -> Any:
    if interaction is None or interaction.response.body is None:
        return None
    value = interaction.response.body.value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def _describe(error: BaseException) -> str:
    if isinstance(error, RenderLimitReached):
        return str(error)
    if isinstance(error, TemplateSyntaxError):
        return f"syntax error in {error.name or error.filename}: {error.message}"
    message = str(error) or type(error).__name__
    return f"{type(error).__name__}: {message}"


def _invalid_json(text: str, error: ValueError) -> str:
    if isinstance(error, JSONDecodeError):
        lines = text.splitlines() or [""]
        shown = lines[min(error.lineno, len(lines)) - 1].strip()
        if len(shown) > 120:
            shown = shown[:117] + "..."
        where = f"output line {error.lineno} column {error.colno}"
        return f"output is not valid JSON: {error.msg} at {where}: {shown}"
    return f"output is not valid JSON: {error}"


def _expects_json(interaction: Interaction | None) -> bool:
    """Whether the response is JSON: the pact says so, or says nothing of its type."""
    if interaction is None:
        return True
    response = interaction.response
    declared = next(
        (
            v
            for name, values in (response.headers or {}).items()
            if name.lower() == "content-type"
            for v in values
        ),
        None,
    )
    if declared is None and response.body is not None:
        declared = response.body.content_type
    if declared is not None:
        return bool(_JSON_TYPE.match(declared.strip()))
    return response.body is None or response.body.kind == "json"


# ------------------------------------------------------------------ the set


@dataclass
class TemplateSet:
    """The templates of one folder, bound to the interactions of the pacts served."""

    _by_interaction: dict[tuple[str, int], ResponseTemplate] = field(default_factory=dict)
    _no_match: dict[str, ResponseTemplate] = field(default_factory=dict)
    #: lifecycles of collections, from ``<pact stem>/_lifecycles.yaml`` files
    lifecycles: dict[str, Lifecycle] = field(default_factory=dict)

    @classmethod
    def load(
        cls, folder: Path | str | None, pacts: Sequence[Pact], limits: RenderLimits = DEFAULT_LIMITS
    ) -> TemplateSet:
        """Find, bind and compile every template under ``folder`` (``None``: no templates).

        Every render is held to ``limits``.

        Raises :class:`TemplateError` for a syntax error (file and line), a
        template file that names no interaction, or a folder that is not one.
        """
        if folder is None:
            return cls()
        root = Path(folder)
        if not root.is_dir():
            raise TemplateError(str(root), "the templates folder does not exist (or is not a folder)")
        environment = _environment(root, limits)
        by_pact: dict[str, list[Pact]] = {}
        for pact in pacts:
            by_pact.setdefault(pact.name, []).append(pact)
        result = cls()
        for path in sorted(root.rglob("*")):
            relative = path.relative_to(root)
            if path.is_dir() or any(part.startswith(".") for part in relative.parts):
                continue
            name = relative.as_posix()
            if path.name.startswith("_") and path.name.endswith(".j2") and path.name != NO_MATCH + SUFFIX:
                _compile(environment, root, name)  # a partial: compiled now so its errors show at start-up
                continue
            if len(relative.parts) != 2 or not path.name.endswith(SUFFIX):
                if path.name.endswith(".j2"):
                    raise TemplateError(
                        str(root / relative),
                        f"not where a template can be bound: expected <pact stem>/<interaction slug>{SUFFIX} "
                        f"(or a partial named _<name>.j2)",
                    )
                continue  # README files and the like
            pact_name, stem = relative.parts[0], path.name[: -len(SUFFIX)]
            owners = by_pact.get(pact_name)
            if owners is None:
                known = ", ".join(sorted(by_pact)) or "none"
                log.warning(
                    "template %s: no pact named %r is loaded (loaded: %s)", root / relative, pact_name, known
                )
                continue
            interactions = [i for pact in owners for i in pact.interactions]
            compiled = _compile(environment, root, name)
            if stem == NO_MATCH:
                result._no_match[pact_name] = ResponseTemplate(root / relative, compiled, limits=limits)
                continue
            bound = [i for i in interactions if slug(i.description) == stem]
            if not bound:
                known = ", ".join(sorted({slug(i.description) for i in interactions}))
                raise TemplateError(
                    str(root / relative),
                    f"no interaction of pact {pact_name!r} has the slug {stem!r}; known slugs: {known}",
                )
            for interaction in bound:
                result._by_interaction[(interaction.pact_name, interaction.index)] = ResponseTemplate(
                    root / relative, compiled, interaction, limits
                )
        result.lifecycles = load_lifecycles(root, [pact.name for pact in pacts])
        return result

    def for_interaction(self, interaction: Interaction) -> ResponseTemplate | None:
        return self._by_interaction.get((interaction.pact_name, interaction.index))

    def for_no_match(self, pact_name: str) -> ResponseTemplate | None:
        return self._no_match.get(pact_name)

    def path_for(self, interaction: Interaction) -> str | None:
        template = self.for_interaction(interaction)
        return str(template.path) if template else None

    def __len__(self) -> int:
        return len(self._by_interaction) + len(self._no_match)


def _compile(environment: LimitedSandbox, root: Path, name: str) -> jinja2.Template:
    try:
        return environment.get_template(name)
    except TemplateSyntaxError as error:
        where = root / (error.name or name)
        raise TemplateError(str(where), f"syntax error: {error.message}", error.lineno) from error
    except UnicodeDecodeError as error:
        raise TemplateError(str(root / name), f"not UTF-8 text: {error}") from error


__all__ = ["NO_MATCH", "SUFFIX", "Rendered", "ResponseTemplate", "TemplateSet", "iso_utc", "slug", "to_json"]
