"""wimpy.yml as hostile input: a file from a repository can be written to hang validation,
to make messages megabytes long, to slip a value past a pattern with a trailing newline or
look-alike characters, to name stacks that belong to something else, or to pass validation
and crash the deploy. Each must come back quickly as a ConfigError naming the file, the key,
the (shortened) bad value and what would be accepted."""

from __future__ import annotations

import copy
import itertools
import re
import signal
import time
from pathlib import Path

import pytest
import yaml

from wimpy_domain import naming
from wimpy_domain.config import ConfigError, load_config
from wimpy_domain.config import loader
from wimpy_domain.config import yaml_source
from wimpy_cli.toolchain import PROJECT_ROOT
from tests.test_config import VALID, config_with, one_problem, problems


@pytest.fixture(autouse=True)
def never_hang():
    """A hostile file must not hang the suite: past 20 seconds the test fails instead."""
    def stop(signum, frame):
        raise TimeoutError("validation did not return within 20 seconds")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def refused_quickly(path: Path) -> list[str]:
    """The problems load_config reports, checked to take under a second of CPU. The CPU of
    this thread only: threads a previous test left winding down in this worker (an
    emulator's server, a data plane's loops) are not the parser's cost."""
    started = time.thread_time()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert time.thread_time() - started < 1.0
    assert len(message) < 20_000, len(message)
    return [str(p) for p in caught.value.problems]


BASE = "account: {id: '123456789012'}\napp: {name: web}\n"


# --- 1. aliases, size, nesting --------------------------------------------------------------

def laughs(levels: int, *, mappings: bool = False) -> str:
    """The billion-laughs document: each level is ten aliases of the one before."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels + 1):
        if mappings:
            items = ", ".join(f"k{i}: *l{level - 1}" for i in range(10))
            lines.append(f"l{level}: &l{level} {{{items}}}")
        else:
            lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("mappings", [False, True], ids=["lists", "mappings"])
@pytest.mark.parametrize("where", ["top", "value"])
def test_alias_expansion_is_bounded(write_config, mappings, where):
    document = laughs(9, mappings=mappings)  # 10**9 values once expanded
    if where == "value":
        document = document.replace("l9: &l9", "app:\n  name: web\n  database_ports:")
        document = "account: {id: '123456789012'}\n" + document
    else:
        document = BASE + document
    path = write_config(document)
    found = refused_quickly(path)
    assert len(found) == 1, found
    message = found[0]
    assert message.startswith(f"{path}:") and "alias *l" in message
    assert f"at most {yaml_source.MAX_VALUES}" in message and "aliases" in message
    line = int(message.split(":")[1])
    assert 1 < line <= document.count("\n")


def test_aliases_of_single_values_and_small_lists_still_work(write_config):
    path = write_config(
        "account: {id: &account '123456789012'}\n"
        "app:\n  name: web\n  database_ports: &ports [5432, 6379]\n"
        "  environment: {ACCOUNT: *account}\n"
        "environments:\n  staging: {cidr: &cidr 10.0.0.0/16}\n")
    config = load_config(path)
    assert config.app.database_ports == (5432, 6379)
    assert config.app.environment["ACCOUNT"] == "123456789012"


def test_an_alias_inside_the_value_it_names_is_refused(write_config):
    path = write_config(BASE.replace("app: {name: web}", "app: {name: web, database_ports: &a [*a]}"))
    message = one_problem(path)
    assert f"{path}:2:" in message and "*a" in message and "inside the value it names" in message


def test_a_plain_document_with_too_many_values_is_refused(write_config):
    path = write_config(BASE + "x: [" + ", ".join(["1"] * (yaml_source.MAX_VALUES + 10)) + "]\n")
    message = refused_quickly(path)[0]
    assert f"at most {yaml_source.MAX_VALUES}" in message


@pytest.mark.parametrize("text", [
    "app: " + "[" * 5000 + "]" * 5000 + "\n",
    "app: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "app:\n" + "".join("  " * i + f"k{i}:\n" for i in range(1, 200)),
], ids=["lists", "flow-mappings", "block-mappings"])
def test_deep_nesting_is_refused(write_config, text):
    path = write_config(text)
    message = refused_quickly(path)[0]
    assert f"{path}:" in message and f"deeper than {yaml_source.MAX_DEPTH} levels" in message


def test_a_file_too_large_is_refused_before_parsing(write_config):
    size = yaml_source.MAX_BYTES * 8
    path = write_config(BASE + "# " + "x" * size + "\n")
    message = refused_quickly(path)[0]
    assert f"{path}: (file):" in message
    assert f"{yaml_source.MAX_BYTES // 1024} KiB" in message and "larger than" in message


def test_a_file_of_exactly_the_limit_is_read(write_config):
    text = BASE
    path = write_config(text + "#" * (yaml_source.MAX_BYTES - len(text) - 1) + "\n")
    assert path.stat().st_size == yaml_source.MAX_BYTES
    assert load_config(path).app.name == "web"


@pytest.mark.parametrize("tag", [
    "!!python/object/apply:os.system ['true']", "!!python/name:os.system ''",
    "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [a: 1]", "!shop web", "!!timestamp 2024-01-01",
])
def test_yaml_tags_are_refused(write_config, tag):
    path = write_config(f"account: {{id: '123456789012'}}\napp:\n  name: {tag}\n")
    message = one_problem(path)
    assert f"{path}:3: app.name: the tag '!" in message
    assert "plain text, numbers, true/false, lists and mappings" in message


def test_plain_core_tags_are_accepted(write_config):
    config = load_config(write_config(
        "account: {id: !!str 123456789012}\napp: {name: web, port: !!int '8080'}\n"))
    assert config.account.id == "123456789012" and config.app.port == 8080


def test_merge_keys_are_refused_with_what_to_do(write_config):
    path = write_config(BASE + "environments:\n  staging: &base {cidr: 10.0.0.0/16}\n"
                               "  production: {<<: *base, cidr: 10.1.0.0/16}\n")
    message = one_problem(path)
    assert f"{path}:5: environments.production: merge keys" in message
    assert "write the keys out" in message


@pytest.mark.parametrize("key, shown", [("no", "false"), ("2024", "2024"), ("on", "true"),
                                        ("[a, b]", "['a', 'b']"), ("null", "null")])
def test_keys_that_yaml_does_not_read_as_text(write_config, key, shown):
    path = write_config(BASE + f"environments:\n  {key}: {{cidr: 10.0.0.0/16}}\n")
    message = one_problem(path)
    assert f"{path}:4: environments: keys must be text, found {shown}" in message
    assert "quote it" in message


def test_a_number_too_long_for_python_is_refused(write_config):
    path = write_config(BASE.replace("name: web", "name: web, port: " + "9" * 5000))
    message = refused_quickly(path)[0]
    assert f"{path}:2: app.port:" in message and "5000 digits" in message and "quote it" in message


def test_dates_stay_text(write_config):
    config = load_config(write_config(BASE.replace("name: web", "name: web, environment: {SINCE: 2024-01-01}")))
    assert config.app.environment["SINCE"] == "2024-01-01"


@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b"])
def test_control_characters_in_the_file_are_reported_with_their_line(write_config, character):
    path = write_config(BASE + "x: a" + character + "b\n")
    message = one_problem(path)
    assert f"{path}:3: (file):" in message and f"#x{ord(character):04x}" in message
    assert "\n" not in message and character not in message


def test_a_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "wimpy.yml"
    path.write_bytes(b"app: {name: \xff}\n")
    message = one_problem(path)
    assert f"{path}:1: (file):" in message and "UTF-8" in message


# --- 2. messages echo bounded values --------------------------------------------------------

def test_show_bounds_what_it_echoes():
    long = "a" * 1048576
    assert loader._show(long) == "'" + "a" * yaml_source.SHOWN_CHARACTERS + "…' (1048576 characters)"
    assert loader._show("web") == "'web'" and loader._show(True) == "true"
    shown = loader._show([long] * 1000)
    assert len(shown) < 200 and shown.endswith("…")
    nested: list = []
    for _ in range(1000):
        nested = [nested, nested]  # 2**1000 leaves if walked
    assert len(loader._show(nested)) < 200
    assert loader._show("tab\there\n") == "'tab\\there\\n'"
    assert loader._show("wеb") == "'w\\u0435b'"  # a Cyrillic е is shown for what it is


def paths_of_every_key() -> list[str]:
    from wimpy_domain.config.reference import KEYS

    return [key.path.replace("<name>", "staging").replace("<NAME>", "X") for key in KEYS]


def set_path(data: dict, path: str, value) -> None:
    *parents, last = path.split(".")
    for part in parents:
        if not isinstance(data.get(part), dict):
            data[part] = {}
        data = data[part]
    data[last] = value


# Keys that take any text (or any list of commands): a long value there may be accepted.
TAKES_ANY_TEXT = {"app.environment.X", "environments.staging.app.environment.X", "build.args.X", "hooks.before_deploy", "hooks.after_deploy"}


@pytest.mark.parametrize("path", paths_of_every_key())
@pytest.mark.parametrize("value", ["\x1b[31m" + "a" * 40_000, ["b" * 20_000, "c" * 20_000]],
                         ids=["text", "list"])
def test_every_key_echoes_a_bounded_value(write_config, path, value):
    data = copy.deepcopy(VALID)
    set_path(data, path, value)
    file = write_config(yaml.safe_dump(data, width=float("inf")))
    if path in TAKES_ANY_TEXT:
        try:
            load_config(file)
            return
        except ConfigError as error:
            found = [str(p) for p in error.problems]
    else:
        found = refused_quickly(file)
    assert any(f": {path}: " in p for p in found), found
    for problem in found:
        assert len(problem) < 1000, problem[:2000]
        assert "\x1b" not in problem and "\n" not in problem


@pytest.mark.parametrize("section", ["environments", "app.environment", "build.args", "app.secrets"])
def test_keys_are_echoed_bounded_and_escaped(write_config, section):
    data = copy.deepcopy(VALID)
    set_path(data, f"{section}.{'k' * 40_000}\n\x1b[2J", "x")
    found = refused_quickly(write_config(yaml.safe_dump(data, width=float("inf"))))
    assert any(section in p for p in found), found
    for problem in found:
        assert len(problem) < 1000 and "\x1b" not in problem and "\n" not in problem, problem[:300]


def test_an_unknown_env_on_the_command_line_is_echoed_bounded(write_config):
    from wimpy_domain.config import UnknownEnvironment

    config = load_config(config_with(write_config))
    with pytest.raises(UnknownEnvironment) as caught:
        config.environment("prod\x1b[2J" + "x" * 1_000_000)
    message = str(caught.value)
    assert message.startswith("--env: 'prod\\x1b[2J") and "(1000008 characters)" in message
    assert len(message) < 500


def test_the_number_of_problems_shown_is_bounded(write_config):
    data = copy.deepcopy(VALID)
    data["app"].update({f"unknown{i}": 1 for i in range(3000)})
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(yaml.safe_dump(data)))
    assert len(caught.value.problems) == 3000  # all kept for programs
    message = str(caught.value)
    assert message.count("\n") <= loader.SHOWN_PROBLEMS + 2
    assert f"and {3000 - loader.SHOWN_PROBLEMS} more" in message


# --- 3. patterns: whole values, ASCII only --------------------------------------------------

def hostile_variants(value: str) -> dict[str, str]:
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in value)
    look_alikes = str.maketrans("aceopxyi", "асеорхуі")  # Cyrillic
    variants = {
        "trailing newline": value + "\n",
        "trailing crlf": value + "\r\n",
        "leading space": " " + value,
        "trailing space": value + " ",
        "nul byte": value + "\x00",
        "full-width digits": fullwidth,
        "look-alike letters": value.translate(look_alikes),
        "very long": value + "a" * 5000,
    }
    return {name: v for name, v in variants.items() if v != value}


# Every wimpy.yml field checked with a pattern, with a value it accepts.
PATTERN_FIELDS = {
    "app.name": "web",
    "account.id": "123456789012",
    "account.region": "eu-west-1",
    "hosted_zone.id": "Z0123456789ABC",
    "hosted_zone.name": "example.com",
    "environments.staging.domain": "web.staging.example.com",
    "environments.staging.cidr": "10.0.0.0/16",
    "app.health_check.path": "/health",
    "app.machine_image": "ami-0123456789abcdef0",
    "app.instance_type": "t3.small",
    "app.secrets.DB_PASSWORD": "/hello/db-password",
    "build.target": "app",
    "registry.url": "ghcr.io/acme/web",
    "registry.username_env": "GHCR_USER",
    "registry.password_env": "GHCR_TOKEN",
    "notifications.sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:deploys",
    "notifications.github_repository": "acme/hello",
    "notifications.github_token_env": "GITHUB_TOKEN",
    "notifications.slack_webhook_url_env": "SLACK_WEBHOOK_URL",
    "notifications.github_api_url": "https://api.github.com",
}
# Fields whose key (not value) has a pattern: the name of an environment, variable or arg.
PATTERN_KEYS = {"environments": ("staging", {"cidr": "10.5.0.0/16"}),
                "app.environment": ("DEBUG", "1"), "build.args": ("VERSION", "1")}


def accepted_with(path: str, value) -> dict:
    data = copy.deepcopy(VALID)
    set_path(data, path, value)
    if path == "registry.password_env":
        set_path(data, "registry.username_env", "GHCR_USER")
    if path.startswith("registry.") and path != "registry.url":
        set_path(data, "registry.url", "ghcr.io/acme/web")
    if path == "registry.username_env":
        set_path(data, "registry.password_env", "GHCR_TOKEN")
    return data


@pytest.mark.parametrize("path, value", PATTERN_FIELDS.items())
def test_the_pattern_fields_accept_their_example(write_config, path, value):
    load_config(write_config(yaml.safe_dump(accepted_with(path, value))))


@pytest.mark.parametrize("path, value", PATTERN_FIELDS.items())
def test_hostile_values_are_refused_naming_the_key(write_config, path, value):
    for variant, hostile in hostile_variants(value).items():
        file = write_config(yaml.safe_dump(accepted_with(path, hostile), width=float("inf")))
        with pytest.raises(ConfigError) as caught:
            load_config(file)
        found = [str(p) for p in caught.value.problems]
        assert any(f": {path}: " in p for p in found), (variant, found)


@pytest.mark.parametrize("section, example", PATTERN_KEYS.items())
def test_hostile_names_are_refused_naming_the_key(write_config, section, example):
    name, settings = example
    for variant, hostile in hostile_variants(name).items():
        data = copy.deepcopy(VALID)
        set_path(data, f"{section}.{hostile}", settings)
        with pytest.raises(ConfigError, match=re.escape(f": {section}.")) as caught:
            load_config(write_config(yaml.safe_dump(data, width=float("inf"))))
        assert all("\n" not in str(p) for p in caught.value.problems), variant


@pytest.mark.parametrize("variant, version", hostile_variants("v1.4.0").items())
def test_hostile_versions_are_refused(variant, version):
    from wimpy_cli.build import versions
    from wimpy_cli.errors import WimpyError

    assert versions.check("v1.4.0") == "v1.4.0"
    with pytest.raises(WimpyError, match="--version"):
        versions.check(version)


def test_environment_values_that_would_break_the_env_file_are_refused(write_config):
    found = problems(config_with(write_config, app={"name": "web", "environment": {
        "A": "one\nPORT=1", "B": "x\ry", "C": "nul\x00"}}))
    for key in "ABC":
        assert any(f"app.environment.{key}:" in p and "single line" in p for p in found), found


def test_every_validation_pattern_is_whole_and_ascii():
    """`$` matches before a trailing newline and `\\d` matches full-width digits: a pattern
    compiled without re.ASCII, or used with .match/.search, lets such values through. In the
    command, the wimpy.yml domain (moved out of wimpy_cli/) and the construct library. Files
    listed here are left out, each for the reason given."""
    import ast

    not_validation = {"wimpy_cli/build/images.py": "searches Docker's error text for known phrases"}
    left_to_owners: dict[str, str] = {}  # none left
    offenders = []
    files = [file for package in ("wimpy_cli", "wimpy_domain", "library/wimpy_constructs")
             for file in (PROJECT_ROOT / package).rglob("*.py")]
    for file in sorted(files):
        relative = file.relative_to(PROJECT_ROOT).as_posix()
        if relative in not_validation or relative in left_to_owners:
            continue
        for node in ast.walk(ast.parse(file.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            call, name = ast.unparse(node)[:80], node.func.attr
            module_re = isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
            if name in ("match", "search"):
                offenders.append(f"{relative}:{node.lineno}: {call} (use fullmatch)")
            elif module_re and name in ("compile", "fullmatch") and "re.ASCII" not in ast.unparse(node):
                offenders.append(f"{relative}:{node.lineno}: {call} (add re.ASCII)")
    assert not offenders, offenders


# --- 4. names that belong to Wimpy's own stacks and parameters ------------------------------

@pytest.mark.parametrize("environment, fragment", [
    ("baseline", "wimpy-baseline"),
    ("registry", "wimpy-registry-web"),
])
def test_environment_names_taken_by_wimpys_own_stacks(write_config, environment, fragment):
    message = one_problem(config_with(write_config, environments={environment: {"cidr": "10.5.0.0/16"}}))
    assert f"environments.{environment}: '{environment}' is reserved" in message
    assert fragment in message and "choose another" in message


@pytest.mark.parametrize("name, fragment", [
    ("network", "/wimpy/<env>/network/"),
    ("web-resources", "wimpy-<env>-web-resources"),
    ("a-b-resources", "wimpy-<env>-a-b-resources"),
    ("web-data", "wimpy-<env>-web-data"),
])
def test_app_names_taken_by_wimpys_own_stacks(write_config, name, fragment):
    found = problems(config_with(write_config, app={"name": name}))
    assert any(f"app.name: '{name}' is reserved" in p and fragment in p for p in found), found


@pytest.mark.parametrize("name", ["resources", "resources-web", "networks", "web-network",
                                  "baseline", "registry", "web-resource", "data", "data-web", "webdata"])
def test_names_near_the_reserved_ones_are_fine(write_config, name):
    load_config(config_with(write_config, app={"name": name}))


WORDS = ("a", "b", "baseline", "registry", "network", "resources", "data", "front", "storage", "logs", "wimpy",
         "errors", "unhealthy", "hosts", "p99", "latency")


def owned_names(env: str, app: str) -> list[tuple[str, str, tuple]]:
    """(namespace, name, owner) of each stack, alarm, parameter folder, log group and S3
    prefix the pair (env, app) makes. The owner is what the name belongs to: an
    environment's stack is shared by its applications, a registry stack by environments."""
    service = naming.rolling_stack(env, app)
    return [
        ("stack", naming.environment_stack(env), ("environment", env)),
        ("stack", naming.application_resources_stack(env, app), ("resources", env, app)),
        ("stack", naming.application_data_stack(env, app), ("data", env, app)),
        ("stack", naming.front_stack(env, app), ("front", env, app)),
        ("stack", naming.registry_stack(app), ("registry", app)),
        ("stack", service, ("service", env, app)),
        *(("alarm", alarm, ("service", env, app)) for alarm in naming.stack_alarms(service)),
        ("parameter", naming.environment_parameter(env, ""), ("environment", env)),
        ("parameter", naming.application_parameter(env, app, ""), ("application", env, app)),
        ("log group", naming.application_log_group(env, app) + "/", ("application", env, app)),
        ("storage", naming.storage_prefix(env, app) + "/", ("application", env, app)),
        ("repository", naming.repository(app), ("registry", app)),
    ]


FIXED = [("stack", naming.baseline_stack(), ("baseline",)),
         ("parameter", naming.baseline_parameter(""), ("baseline",))]


def collisions(pairs) -> list[str]:
    """Names two owners share: the same name, or a folder (ending in /) inside another's."""
    owner_of: dict[tuple[str, str], tuple] = {}
    found = []
    for namespace, name, owner in itertools.chain(FIXED, *(owned_names(e, a) for e, a in pairs)):
        if owner_of.setdefault((namespace, name), owner) != owner:
            found.append(f"{namespace} {name}: {owner} and {owner_of[namespace, name]}")
    for (namespace, name), owner in owner_of.items():
        if name.endswith("/"):
            parts = name.split("/")
            for cut in range(len(parts) - 2):
                outer = "/".join(parts[:cut + 1]) + "/"
                other = owner_of.get((namespace, outer))
                if other is not None and other != owner:
                    found.append(f"{namespace} {name} is inside {outer}: {owner} and {other}")
    return found


def small_names():
    apps = list(WORDS) + [f"{x}-{y}" for x, y in itertools.product(WORDS, repeat=2)]
    return list(WORDS), apps


def accepted(env: str, app: str) -> bool:
    return (loader.environment_name_problem(env) is None and loader.app_name_problem(app) is None)


def test_no_two_accepted_names_make_the_same_stack_or_parameter():
    envs, apps = small_names()
    pairs = [(e, a) for e, a in itertools.product(envs, apps) if accepted(e, a)]
    assert len(pairs) > 2000
    assert collisions(pairs) == []


def test_each_reserved_word_is_needed():
    """Without any one reservation, some pair of otherwise accepted names collides: the
    list is no longer than it must be, and the check above is not vacuous."""
    envs, apps = small_names()
    reserved = [*loader.RESERVED_ENVIRONMENTS, *loader.RESERVED_APPS,
                *loader.RESERVED_APP_SUFFIXES]
    assert {"baseline", "registry", "network", "-resources", "-data", "-front"} <= set(reserved)
    for word in reserved:
        def environment_ok(env):
            return loader.environment_name_problem(env) is None or env == word

        def app_ok(app):
            if loader.app_name_problem(app) is None or app == word:
                return True
            return (word.startswith("-") and app.endswith(word)
                    and loader.app_name_problem(app.removesuffix(word)) is None)
        pairs = [(e, a) for e, a in itertools.product(envs, apps) if environment_ok(e) and app_ok(a)]
        assert collisions(pairs), word


def test_a_release_stack_never_takes_another_stacks_name():
    """A release's stack is `wimpy-<env>-<app>--<release>`: no application name holds
    `--`, so no version of any application names a stack that another one, or its own
    resources or rolling stack, already has (`web` at version `api` vs the app `web-api`)."""
    from wimpy_cli.release.names import release_name

    apps = ["web", "web-api", "web-v1", "api", "web-resources"]
    fixed = {f(env, app) for env in ("staging", "production") for app in apps
             for f in (naming.application_resources_stack, naming.application_data_stack,
                       naming.rolling_stack)}
    fixed |= {naming.baseline_stack(), *(naming.registry_stack(a) for a in apps),
              *(naming.environment_stack(e) for e in ("staging", "production"))}
    for app in apps:
        for version in ("resources", "data", "api", "v1", "api-resources", "v1.0.0", "-", "x"):
            try:
                release = release_name(version)
            except Exception:
                continue
            stack = naming.release_stack("staging", app, release)
            assert stack not in fixed, (app, version, stack)


# --- 5. blue/green through DNS needs a hosted zone -------------------------------------------

def test_blue_green_through_dns_without_a_hosted_zone_is_refused(write_config):
    path = config_with(write_config, hosted_zone=None, deploy={"strategy": "blue-green", "traffic": "dns"})
    message = one_problem(path)
    assert "deploy.traffic: 'dns' needs hosted_zone" in message
    assert "weighted records" in message and "use traffic: load-balancer" in message
    assert re.search(rf"{re.escape(str(path))}:\d+: deploy.traffic", message)


def test_blue_green_through_the_load_balancer_needs_no_hosted_zone(write_config):
    from wimpy_domain.config import load_config

    config = load_config(config_with(write_config, hosted_zone=None, deploy={"strategy": "blue-green"}))
    assert (config.deploy.strategy, config.deploy.traffic, config.hosted_zone) == ("blue-green", "load-balancer", None)


def test_an_unknown_traffic_mode_names_the_key_and_the_choices(write_config):
    message = one_problem(config_with(write_config, deploy={"strategy": "blue-green", "traffic": "route53"}))
    assert "deploy.traffic: 'route53' is not a traffic mode; use load-balancer" in message and "or dns" in message


def test_blue_green_with_a_hosted_zone_and_rolling_without_are_fine(write_config):
    assert load_config(config_with(write_config, deploy={"strategy": "blue-green"})).hosted_zone
    load_config(config_with(write_config, hosted_zone=None, deploy={"strategy": "rolling"}))


@pytest.mark.parametrize("example", sorted((PROJECT_ROOT / "examples").glob("*/*.yml")),
                         ids=lambda p: p.parent.name)
def test_the_examples_still_validate(example):
    load_config(example)


# --- 6. values that pass validation but break the deploy ------------------------------------

def test_signal_timeout_leaves_time_to_boot(write_config):
    message = one_problem(config_with(write_config, deploy={"signal_timeout_seconds": 60}))
    assert "deploy.signal_timeout_seconds: 60 is out of range" in message and "from 120" in message


@pytest.mark.parametrize("command", ["echo \x00", "\x00"])
def test_hook_commands_with_a_nul_are_refused(write_config, command):
    found = problems(config_with(write_config, hooks={"before_deploy": [command]}))
    assert any("hooks.before_deploy" in p for p in found), found


@pytest.mark.parametrize("alarm", ["db-high\n", "db\x07high", "a" * 256])
def test_canary_alarm_names_cloudwatch_refuses(write_config, alarm):
    message = one_problem(config_with(write_config, deploy={"canary": {"alarms": [alarm]}}))
    assert "deploy.canary.alarms" in message
