"""wimpy.yml's JSON Schema (`wimpy schema`, written by `wimpy init`): what an editor checks
as the file is typed must agree with what the loader accepts, key by key."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from typer.testing import CliRunner

from wimpy_domain.config import ConfigError, load_config
from wimpy_domain.config.reference import KEYS, TYPES
from wimpy_domain.config.schema import MODELINE, SCHEMA_FILE, build
from wimpy_cli.main import app
from tests.conftest import PROJECT_ROOT

SCHEMA = build()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
BASE = {"app": {"name": "shop", "port": 3000},
        "account": {"id": "111111111111", "region": "eu-west-1",
                    "availability_zones": ["eu-west-1a", "eu-west-1b"]},
        "hosted_zone": {"name": "example.com", "id": "Z0123456789ABC"},
        "environments": {"staging": {"cidr": "10.0.0.0/16"}}}
# What a key's path holds where it names something the user chooses.
CHOSEN = {"<name>": "staging", "<NAME>": "GREETING"}


def schema_errors(document: dict) -> list[str]:
    return [".".join(map(str, error.absolute_path)) or "(file)"
            for error in VALIDATOR.iter_errors(document)]


def loader_problems(document: dict, tmp_path: Path) -> list[str]:
    path = tmp_path / "wimpy.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    try:
        load_config(path)
    except ConfigError as error:
        return [problem.key for problem in error.problems]
    return []


def concrete(key_path: str) -> list[str]:
    return [CHOSEN.get(part, part) for part in key_path.split(".")]


def with_value(parts: list[str], value: object, extra: dict | None = None) -> dict:
    document = copy.deepcopy(BASE)
    for path, companion in {".".join(parts): value, **(extra or {})}.items():
        node = document
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = companion
    return document


def test_every_key_of_the_reference_is_in_the_schema_with_its_meaning():
    assert sorted(TYPES) == sorted(key.path for key in KEYS)
    for key in KEYS:
        node = SCHEMA
        for part in key.path.split("."):
            node = node["additionalProperties"] if part in CHOSEN else node["properties"][part]
        assert node["description"].startswith(key.meaning), key.path


@pytest.mark.parametrize("example", ["wimpy.yml", "blue-green.yml", "lean.yml"])
def test_the_examples_are_valid_against_the_schema(example):
    document = yaml.safe_load((PROJECT_ROOT / "examples" / "hello" / example).read_text())
    assert schema_errors(document) == []


def test_a_file_with_every_key_set_and_the_starter_are_valid(tmp_path):
    from wimpy_cli.starter import render
    from tests.test_config import EVERY_KEY, _set

    data: dict = {}
    for path, (value, _) in EVERY_KEY.items():
        _set(data, path, value)
    assert schema_errors(data) == []
    starter = render(name="web", account_id="123456789012", region="eu-west-1")
    assert starter.splitlines()[0] == MODELINE
    assert schema_errors(yaml.safe_load(starter)) == []


def test_what_the_loader_refuses_the_schema_marks_at_the_same_key(tmp_path):
    cases = {
        "unknown key": (with_value(["app", "prot"], 80), "app"),
        "an environment name": (with_value(["environments", "Staging"], {"cidr": "10.0.0.0/16"}),
                                "environments"),
        "a variable name": (with_value(["app", "environment", "1BAD"], "x"), "app.environment"),
        "a strategy": (with_value(["deploy", "strategy"], "canary"), "deploy.strategy"),
        "a port": (with_value(["app", "port"], 70000), "app.port"),
        "a port as text": (with_value(["app", "port"], "8080"), "app.port"),
        "an unquoted account id": (with_value(["account", "id"], 111111111111), "account.id"),
    }
    for name, (document, key) in cases.items():
        assert key in schema_errors(document), name
        assert loader_problems(document, tmp_path), name


def numeric_keys():
    for key in KEYS:
        kind = TYPES[key.path]
        if kind.get("type") in ("integer", "number") and "minimum" in kind:
            yield key.path, kind


@pytest.mark.parametrize("path,kind", list(numeric_keys()), ids=lambda value: value if isinstance(value, str) else "")
def test_each_range_is_the_loaders(path, kind, tmp_path):
    """Just outside the range both refuse; at its bounds the loader finds nothing wrong
    with the key (another key may then be out of step with it, e.g. min above max)."""
    parts = concrete(path)
    shown = ".".join(parts)
    step = 1 if kind["type"] == "integer" else 0.01
    # A timeout must stay under the interval, and a minimum capacity under the maximum:
    # the widest of those leave it its whole range.
    companion = {"app.health_check.interval_seconds": 300} if path.endswith("timeout_seconds") \
        and path.startswith("app.health_check") else {}
    if path.endswith("capacity.min"):
        companion = {shown.replace(".min", ".max"): 100}
    if path.endswith("capacity.max"):
        companion = {shown.replace(".max", ".min"): 1}
    for outside in (kind["minimum"] - step, kind["maximum"] + step):
        document = with_value(parts, outside, companion)
        assert shown in schema_errors(document), (shown, outside)
        assert shown in loader_problems(document, tmp_path), (shown, outside)
    # The most NATs an environment may have is its number of zones (the schema's 6 is
    # the most zones there can be); here, two.
    bounds = (kind["minimum"], 2 if path.endswith("nat_gateways") else kind["maximum"])
    for inside in bounds:
        document = with_value(parts, inside, companion)
        assert shown not in schema_errors(document), (shown, inside)
        assert shown not in loader_problems(document, tmp_path), (shown, inside)


@pytest.mark.parametrize("path", [key.path for key in KEYS if "enum" in TYPES[key.path]])
def test_each_choice_is_the_loaders(path, tmp_path):
    parts = concrete(path)
    shown = ".".join(parts)
    for value in TYPES[path]["enum"]:
        # blue-green through DNS takes a hosted zone, which BASE has.
        assert shown not in loader_problems(with_value(parts, value), tmp_path), (shown, value)
        assert shown not in schema_errors(with_value(parts, value)), (shown, value)
    bogus = with_value(parts, "no-such-choice")
    assert shown in schema_errors(bogus) and shown in loader_problems(bogus, tmp_path)


def test_alarm_periods_are_cloudwatchs(tmp_path):
    for period, accepted in ((10, True), (30, True), (60, True), (3600, True), (20, False),
                             (90, False), (3660, False)):
        document = with_value(["app", "alarms", "period_seconds"], period)
        key = "app.alarms.period_seconds"
        assert (key not in schema_errors(document)) is accepted, period
        assert (key not in loader_problems(document, tmp_path)) is accepted, period


def test_wimpy_schema_prints_it_and_init_writes_it_beside_wimpy_yml(tmp_path, monkeypatch):
    runner = CliRunner()
    printed = runner.invoke(app, ["schema"])
    assert printed.exit_code == 0 and json.loads(printed.stdout) == SCHEMA
    written = runner.invoke(app, ["schema", "-o", str(tmp_path / "out.json")])
    assert written.exit_code == 0 and json.loads((tmp_path / "out.json").read_text()) == SCHEMA
    refused = runner.invoke(app, ["schema", "-o", str(tmp_path / "missing" / "out.json")])
    assert refused.exit_code == 2 and "-o/--output" in refused.output and "Traceback" not in refused.output
    monkeypatch.chdir(tmp_path)
    made = runner.invoke(app, ["init", "--name", "web"])
    assert made.exit_code == 0, made.output
    assert json.loads((tmp_path / SCHEMA_FILE).read_text()) == SCHEMA
    assert (tmp_path / "wimpy.yml").read_text().splitlines()[0] == MODELINE
