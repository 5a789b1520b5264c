"""wimpy.yml's JSON Schema, for editors that complete and check YAML as it is typed
(yaml-language-server in VS Code, Neovim and others; IntelliJ): built from the reference
table the loader reads its keys from (wimpy_domain/config/reference.py), each key's meaning as
its description, so the schema, the loader, the README and `wimpy init` cannot drift
apart. `wimpy schema` prints it; `wimpy init` writes it beside wimpy.yml and points the
file at it with yaml-language-server's modeline."""

from __future__ import annotations

import json
from typing import Any

from . import aws_limits as aws
from .reference import KEYS, TYPES

SCHEMA_FILE = "wimpy.schema.json"
MODELINE = f"# yaml-language-server: $schema=./{SCHEMA_FILE}"

# What a name the user chooses may be, where the path says <name> or <NAME>.
_NAMES = {"<name>": aws.ENVIRONMENT_NAME.regex.pattern, "<NAME>": aws.VARIABLE_NAME.regex.pattern}


def _object() -> dict[str, Any]:
    # null too: a section left empty (`hosted_zone:`) is read as not set, as the loader does.
    return {"type": ["object", "null"], "properties": {}, "additionalProperties": False}


def _leaf(key: Any) -> dict[str, Any]:
    """The key's type, or null or "" (the loader reads a key left empty as not set: it
    takes its default)."""
    return {"anyOf": [TYPES[key.path], {"type": "null"}, {"const": ""}],
            "description": f"{key.meaning} Default: {key.default}."}


def build() -> dict[str, Any]:
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "wimpy.yml", "description": "Wimpy's settings for one application "
            "(README.md, 'wimpy.yml reference').", **_object(), "type": "object"}
    for key in KEYS:
        node = root
        parts = key.path.split(".")
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            value = _leaf(key) if last else None
            if part in _NAMES:
                if node.get("additionalProperties") is False:
                    del node["additionalProperties"]
                node["propertyNames"] = {"pattern": f"^(?:{_NAMES[part]})$"}
                child = node.setdefault("additionalProperties", value or _object())
            else:
                child = node["properties"].setdefault(part, value or _object())
            node = child
    return root


def text() -> str:
    return json.dumps(build(), indent=2) + "\n"
