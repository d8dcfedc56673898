"""One strict reader of HTTP request bodies: bounded JSON, an object at the top, a typed model, or a 400.

The HTTP API decodes as strictly as the topics do (`streams/codec.py`): no NaN or Infinity
(nor a number that overflows to one, like `1e400`), no duplicate keys, no nesting deeper than
`MAX_DEPTH` (checked by a scan before parsing, so a 100,000-deep array is a quick 400, never a
RecursionError), an object at the top, and then a request model (`views/requests.py`,
extra="forbid", strict types). The size limit is aiohttp's `client_max_size`
(OMNI_HTTP_MAX_BODY_BYTES): reading more raises its 413, which the guard answers as JSON.
Every refusal says what was wrong in `{"error": ...}`; nothing of the body is echoed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TypeVar

from faust.web import Request, Response, View
from pydantic import BaseModel, ValidationError

from views.requests import path_error

MAX_DEPTH = 32
# Strings whole (their brackets are text); an unterminated one runs to the end, so no start
# position is tried twice (without `\Z`, 64 KB of `\"` took the event loop 19 s).
_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|\Z)|[\[\]{}]', re.DOTALL)
M = TypeVar("M", bound=BaseModel)


class BodyError(ValueError):
    """A body that is not a request: the message says why, for the caller."""


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """The deepest nesting of arrays and objects in `raw`, counted without recursion; stops past `limit`."""
    depth = deepest = 0
    for match in _TOKENS.finditer(raw):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif token in (b"]", b"}"):
            depth -= 1
    return deepest


def _constant(name: str) -> Any:
    raise BodyError(f"{name} is not a JSON number: give a finite number")


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BodyError(f"the number {text[:24]} is out of range: give a finite number")
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BodyError(f"the key {key[:40]!r} appears twice in one object")
        out[key] = value
    return out


def parse_object(raw: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The JSON object `raw` holds, or BodyError. An empty body is an empty object."""
    if not raw.strip():
        return {}
    if nesting_depth(raw, max_depth) > max_depth:
        raise BodyError(f"JSON nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")
        value = json.loads(text, parse_constant=_constant, parse_float=_float, object_pairs_hook=_object)
    except BodyError:
        raise
    except UnicodeDecodeError:
        raise BodyError("the body is not UTF-8 text") from None
    except (ValueError, RecursionError) as err:  # JSONDecodeError, or an integer of over 4300 digits
        raise BodyError(f"not JSON: {str(err)[:120]}") from None
    if not isinstance(value, dict):
        raise BodyError(f"expected a JSON object at the top, got {type(value).__name__}")
    return value


def describe(err: ValidationError) -> str:
    """The first few failing fields, without their values."""
    parts = []
    for error in err.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    more = err.error_count() - len(parts)
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


def validate(model: type[M], raw: bytes) -> M:
    """The request `raw` holds, or BodyError saying why not. Pure: the unit tests call it."""
    obj = parse_object(raw)
    try:
        return model.model_validate(obj)
    except ValidationError as err:
        raise BodyError(describe(err)) from None


def refuse(view: View, reason: BodyError | str) -> Response:
    """The 400 for a malformed request."""
    return view.json({"error": f"bad request: {reason}"}, status=400)


async def read(request: Request, model: type[M]) -> M:
    """The request's body as `model`, or BodyError (aiohttp raises its 413 past the size limit)."""
    return validate(model, await request.read())


def bad_path(view: View, **values: str) -> Response | None:
    """A 400 if a path parameter is malformed (`views/requests.py` patterns), else None."""
    message = path_error(**values)
    return None if message is None else refuse(view, message)
