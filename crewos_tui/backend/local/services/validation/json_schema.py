"""A small JSON Schema validator for the subset the validation scorer supports.

The ``jsonschema`` package is not a dependency, and rubrics need only the common
structural keywords, so this validates that subset (draft 2020-12 meanings):

- ``type`` (a name or a list: object, array, string, number, integer, boolean, null)
- ``enum``, ``const``
- objects: ``properties``, ``required``, ``additionalProperties`` (bool or schema),
  ``minProperties``, ``maxProperties``
- arrays: ``items`` (one schema for every item), ``minItems``, ``maxItems``, ``uniqueItems``
- strings: ``minLength``, ``maxLength`` (in code points), ``pattern`` (Python ``re``, searched)
- numbers: ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``, ``multipleOf``
- combinators: ``allOf``, ``anyOf``, ``oneOf``, ``not``
- annotations, ignored: ``$schema``, ``$id``, ``title``, ``description``, ``default``,
  ``examples``, ``$comment``, ``format``

Any other keyword (``$ref``, ``if``/``then``, ``patternProperties``, ...) makes the
schema *unsupported*: ``check_schema`` names it, so a rubric never silently checks
less than its author meant. Booleans are not numbers here (as in JSON Schema).
"""

from __future__ import annotations

import json
import re
from typing import Any

SUPPORTED = frozenset({
    "type", "enum", "const", "properties", "required", "additionalProperties", "minProperties",
    "maxProperties", "items", "minItems", "maxItems", "uniqueItems", "minLength", "maxLength", "pattern",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "allOf", "anyOf", "oneOf", "not",
})
ANNOTATIONS = frozenset({"$schema", "$id", "title", "description", "default", "examples", "$comment", "format"})
TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")
#: Errors reported per validation; the rest are counted.
MAX_ERRORS = 20


class SchemaError(ValueError):
    """The schema itself is malformed or uses a keyword outside the subset."""


def keywords() -> list[str]:
    return sorted(SUPPORTED | ANNOTATIONS)


def check_schema(schema: Any, path: str = "#") -> None:
    """Raise SchemaError when ``schema`` is not a schema of the supported subset."""
    if isinstance(schema, bool):
        return
    if not isinstance(schema, dict):
        raise SchemaError(f"{path}: a schema must be an object or a boolean")
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key not in SUPPORTED:
            raise SchemaError(f"{path}: keyword {key!r} is not supported (supported: {', '.join(sorted(SUPPORTED))})")
        if key == "type":
            names = value if isinstance(value, list) else [value]
            if not names or any(n not in TYPES for n in names):
                raise SchemaError(f"{path}/type: must be one of {', '.join(TYPES)} or a list of them")
        elif key == "properties":
            if not isinstance(value, dict):
                raise SchemaError(f"{path}/properties: must be an object")
            for name, sub in value.items():
                check_schema(sub, f"{path}/properties/{name}")
        elif key in ("items", "additionalProperties", "not"):
            check_schema(value, f"{path}/{key}")
        elif key in ("allOf", "anyOf", "oneOf"):
            if not isinstance(value, list) or not value:
                raise SchemaError(f"{path}/{key}: must be a non-empty list of schemas")
            for i, sub in enumerate(value):
                check_schema(sub, f"{path}/{key}/{i}")
        elif key == "required":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SchemaError(f"{path}/required: must be a list of property names")
        elif key == "enum":
            if not isinstance(value, list):
                raise SchemaError(f"{path}/enum: must be a list")
        elif key == "pattern":
            try:
                re.compile(value)
            except (re.error, TypeError):
                raise SchemaError(f"{path}/pattern: not a valid regular expression") from None
        elif key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"):
            if not _is_number(value):
                raise SchemaError(f"{path}/{key}: must be a number")
            if key == "multipleOf" and value <= 0:
                raise SchemaError(f"{path}/multipleOf: must be greater than 0")
        elif key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SchemaError(f"{path}/{key}: must be a non-negative integer")
        elif key == "uniqueItems" and not isinstance(value, bool):
            raise SchemaError(f"{path}/uniqueItems: must be true or false")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _type_of(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v.is_integer() else "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _matches_type(v: Any, name: str) -> bool:
    actual = _type_of(v)
    return actual == name or (name == "number" and actual == "integer")


def _canonical(v: Any) -> str:
    return json.dumps(v, sort_keys=True, ensure_ascii=False)


def _same(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0, but true != 1.
    if _is_number(a) and _is_number(b):
        return a == b
    return _type_of(a) == _type_of(b) and _canonical(a) == _canonical(b)


def validate(instance: Any, schema: Any) -> list[str]:
    """Every way ``instance`` breaks ``schema`` (empty when valid), as ``path: message``."""
    errors: list[str] = []
    _validate(instance, schema, "$", errors)
    return errors


def _validate(v: Any, schema: Any, path: str, errors: list[str]) -> None:
    if schema is True:
        return
    if schema is False:
        errors.append(f"{path}: no value is allowed here")
        return
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_matches_type(v, n) for n in names):
            errors.append(f"{path}: expected {' or '.join(names)}, got {_type_of(v)}")
            return  # the other keywords would only repeat the mismatch
    if "const" in schema and not _same(v, schema["const"]):
        errors.append(f"{path}: must be {_canonical(schema['const'])}")
    if "enum" in schema and not any(_same(v, option) for option in schema["enum"]):
        errors.append(f"{path}: must be one of {', '.join(_canonical(o) for o in schema['enum'])}")
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in v:
                errors.append(f"{path}: missing required property {name!r}")
        for name, value in v.items():
            if name in props:
                _validate(value, props[name], f"{path}.{name}", errors)
            elif "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    errors.append(f"{path}: property {name!r} is not allowed")
                else:
                    _validate(value, extra, f"{path}.{name}", errors)
        if len(v) < schema.get("minProperties", 0):
            errors.append(f"{path}: needs at least {schema['minProperties']} properties")
        if "maxProperties" in schema and len(v) > schema["maxProperties"]:
            errors.append(f"{path}: allows at most {schema['maxProperties']} properties")
    if isinstance(v, list):
        if "items" in schema:
            for i, item in enumerate(v):
                _validate(item, schema["items"], f"{path}[{i}]", errors)
        if len(v) < schema.get("minItems", 0):
            errors.append(f"{path}: needs at least {schema['minItems']} items")
        if "maxItems" in schema and len(v) > schema["maxItems"]:
            errors.append(f"{path}: allows at most {schema['maxItems']} items")
        if schema.get("uniqueItems") and len({_canonical(i) for i in v}) < len(v):
            errors.append(f"{path}: items must be unique")
    if isinstance(v, str):
        if len(v) < schema.get("minLength", 0):
            errors.append(f"{path}: shorter than {schema['minLength']} characters")
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            errors.append(f"{path}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errors.append(f"{path}: does not match pattern {schema['pattern']!r}")
    if _is_number(v):
        if "minimum" in schema and v < schema["minimum"]:
            errors.append(f"{path}: less than the minimum {schema['minimum']}")
        if "maximum" in schema and v > schema["maximum"]:
            errors.append(f"{path}: more than the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and v <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: must be more than {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and v >= schema["exclusiveMaximum"]:
            errors.append(f"{path}: must be less than {schema['exclusiveMaximum']}")
        if "multipleOf" in schema:
            q = v / schema["multipleOf"]
            if abs(q - round(q)) > 1e-9:
                errors.append(f"{path}: not a multiple of {schema['multipleOf']}")
    for sub in schema.get("allOf", []):
        _validate(v, sub, path, errors)
    if "anyOf" in schema and not any(not validate(v, sub) for sub in schema["anyOf"]):
        errors.append(f"{path}: matches none of the anyOf schemas")
    if "oneOf" in schema:
        matching = sum(1 for sub in schema["oneOf"] if not validate(v, sub))
        if matching != 1:
            errors.append(f"{path}: matches {matching} of the oneOf schemas (exactly one needed)")
    if "not" in schema and not validate(v, schema["not"]):
        errors.append(f"{path}: must not match the 'not' schema")
