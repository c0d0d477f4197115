"""Strict JSON in, problems out at JSON paths (`variants[2].layers.title`, `$` the document).

Python's json module accepts what a spec cannot hold (keys given twice, NaN, numbers past any
range) and pydantic locates its errors as tuples; this module reads JSON strictly, standing a
marker in for each refused value, and writes every problem, its own or pydantic's, at the
value's path, so that a 500-variant spec's error names the one place to fix.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

_UTF8_BOM = b"\xef\xbb\xbf"
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class JsonProblem:
    """One problem, located by its JSON path (`$` is the whole document)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"

    def report(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message}


class UnreadableJsonError(ValueError):
    """Bytes that are not a JSON document at all (not UTF-8, not JSON, nested too deeply)."""

    def __init__(self, problem: JsonProblem):
        self.problem = problem
        super().__init__(str(problem))


class _JsonObject(dict):
    """A decoded JSON object that remembers keys it saw more than once."""

    duplicate_keys: tuple[str, ...] = ()


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JsonObject:
    obj = _JsonObject()
    duplicates = []
    for key, value in pairs:
        if key in obj:
            duplicates.append(key)
        obj[key] = value
    obj.duplicate_keys = tuple(duplicates)
    return obj


@dataclass(frozen=True)
class _RefusedNumber:
    """A number JSON's grammar allows or Python would take, but a document cannot hold.

    It stands in the decoded document where the number was, so that the problem is reported at
    the value's JSON path (in a spec of 500 variants, "$" alone finds nothing).
    """

    text: str
    reason: str


def _refuse_constant(name: str) -> _RefusedNumber:
    return _RefusedNumber(name, "is not a valid JSON number")


def _finite_float(text: str) -> float | _RefusedNumber:
    value = float(text)
    if not math.isfinite(value):
        return _RefusedNumber(text[:40], "is out of range")
    return value


def _bounded_int(text: str) -> int | _RefusedNumber:
    try:
        return int(text)
    except ValueError:  # over Python's int conversion limit (4300 digits)
        return _RefusedNumber(f"{text[:20]}...", f"has {len(text)} digits: out of range")


def read_json(data: bytes) -> Any:
    """The decoded document; a value it cannot hold is left as a marker document_problems
    reports. Raises UnreadableJsonError when the bytes are not a JSON document."""
    # RFC 8259 section 8.1 lets a parser ignore a UTF-8 byte order mark; editors on Windows
    # add one, so it is accepted rather than reported.
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        where = f"byte {error.start}, line {line} column {column}"
        raise UnreadableJsonError(JsonProblem("$", f"not valid UTF-8 ({where})")) from None
    try:
        return json.loads(
            text,
            object_pairs_hook=_object_pairs,
            parse_constant=_refuse_constant,
            parse_float=_finite_float,
            parse_int=_bounded_int,
        )
    except json.JSONDecodeError as error:
        # Some of the json module's messages end in "at" (e.g. "Invalid control character at").
        message = error.msg.removesuffix(" at")
        problem = f"not valid JSON: {message} at line {error.lineno} column {error.colno}"
        raise UnreadableJsonError(JsonProblem("$", problem)) from None
    except RecursionError:
        raise UnreadableJsonError(JsonProblem("$", "JSON is nested too deeply")) from None


def document_problems(value: Any, path: str = "$") -> Iterator[JsonProblem]:
    """Problems of the decoded JSON itself: keys given twice, numbers it cannot hold."""
    if isinstance(value, _RefusedNumber):
        yield JsonProblem(path, f"{value.text} {value.reason}")
    elif isinstance(value, _JsonObject):
        for key in value.duplicate_keys:
            yield JsonProblem(join(path, key), "key appears more than once in the object")
        for key, child in value.items():
            yield from document_problems(child, join(path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from document_problems(child, f"{path}[{index}]")


def join(path: str, key: str) -> str:
    """The path of `key` in the object at `path`."""
    # A key that is not a plain name (empty, or with dots, brackets, spaces, quotes) is shown
    # quoted in brackets, so that every path names exactly one place in the document.
    if not _PLAIN_KEY.fullmatch(key):
        return f"{'' if path == '$' else path}[{json.dumps(key)}]"
    if path == "$":
        return key
    return f"{path}.{key}"


def _loc_to_path(loc: tuple[Any, ...]) -> str:
    path = "$"
    for part in loc:
        path = f"{path}[{part}]" if isinstance(part, int) else join(path, str(part))
    return path


_PYDANTIC_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "an integer",
    "model_type": "an object",
    "dict_type": "an object",
    "list_type": "an array",
}


def problems_from_pydantic(error: ValidationError) -> Iterator[JsonProblem]:
    """Pydantic's errors as problems at JSON paths, in words that speak of JSON types."""
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        kind = item["type"]
        # Pydantic locates a bad mapping key as (..., key, "[key]"): the path is the key's.
        is_key = loc[-1:] == ("[key]",)
        path = _loc_to_path(loc[:-1] if is_key else loc)
        if kind == "missing":
            message = "required field is missing"
        elif kind == "extra_forbidden":
            message = "unknown field"
        elif kind in _PYDANTIC_TYPE_NAMES:
            message = f"must be {_PYDANTIC_TYPE_NAMES[kind]}, not {json_type(item['input'])}"
        elif kind == "value_error":
            message = str(item["ctx"]["error"])
        elif kind == "literal_error":
            message = f"must be one of {item['ctx']['expected']}, not {item['input']!r}"
        elif kind == "too_short":
            message = f"must have at least {item['ctx']['min_length']} item(s)"
        elif kind == "too_long":
            message = f"must have at most {item['ctx']['max_length']} item(s)"
        elif kind == "string_too_long":
            message = f"longer than {item['ctx']['max_length']} characters"
        elif kind == "string_unicode":
            # A JSON \ud800-style escape of half a surrogate pair: not a character at all.
            message = "contains a lone surrogate escape (half of a UTF-16 pair), not text"
        else:
            message = item["msg"].replace("Input should be", "must be")
        yield JsonProblem(path, f"this key is {message}" if is_key else message)


def json_type(value: Any) -> str:
    """What a decoded value is, in JSON's words: "an array", "a number", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
