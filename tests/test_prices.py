"""The shipped price table (wimpy_cli/estimate/prices.json) says where each figure was read and
whether that source confirmed it, and load_prices refuses a table that does not."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from wimpy_cli.errors import WimpyError
from wimpy_cli.estimate import cost as model

SECTIONS = ("prices", "instances_per_hour")
# A verified line's source names the region, by code, by AWS's location name or by the
# "EU-" usage-type prefix eu-west-1 bills under; or its note says why the price is not a
# regional one.
REGION_MARKERS = ("eu-west-1", "EU (Ireland)", "EU-")


def shipped() -> dict:
    return json.loads(model.PRICES_FILE.read_text())


def write(tmp_path: Path, document: dict) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(document))
    return path


def lines(document: dict):
    for section in SECTIONS:
        for key, entry in document[section].items():
            yield f"{section}.{key}", entry


def test_every_shipped_line_names_its_source_and_says_whether_it_was_verified():
    document = shipped()
    assert document["region"] == "eu-west-1" and document["currency"] == "USD"
    for where, entry in lines(document):
        assert isinstance(entry, dict), where
        assert isinstance(entry["usd"], (int, float)) and not isinstance(entry["usd"], bool), where
        assert entry["usd"] >= 0, where
        assert isinstance(entry["source"], str) and entry["source"].strip(), where
        assert isinstance(entry["verified"], bool), where
        note = entry.get("note", "")
        assert isinstance(note, str), where
        if entry["verified"]:
            assert (any(marker in entry["source"] for marker in REGION_MARKERS)
                    or "region" in note.lower()), f"{where}: a verified line names eu-west-1"
        else:
            assert note.strip(), f"{where}: an unverified line says why"
    table = model.load_prices()
    assert set(table.unverified) == {where for where, entry in lines(document)
                                     if not entry["verified"]}
    assert set(table.prices) == set(document["prices"])
    assert set(table.instances_per_hour) == set(document["instances_per_hour"])


def test_the_types_wimpy_yml_defaults_to_and_the_nat_lines_are_verified():
    table = model.load_prices()
    for where in ("prices.nat_gateway_per_hour", "prices.nat_gateway_per_gb",
                  "prices.public_ipv4_per_hour", "prices.ebs_gp3_per_gb_month",
                  "instances_per_hour.t3.micro", "instances_per_hour.m5.large"):
        assert where not in table.unverified, where


@pytest.mark.parametrize("section, key", [("prices", "alb_per_hour"),
                                          ("instances_per_hour", "t3.small")])
@pytest.mark.parametrize("source", [None, "", "   ", 7])
def test_a_line_without_a_source_is_refused_naming_the_file_and_the_key(tmp_path, section, key,
                                                                        source):
    document = copy.deepcopy(shipped())
    if source is None:
        del document[section][key]["source"]
    else:
        document[section][key]["source"] = source
    path = write(tmp_path, document)
    with pytest.raises(WimpyError) as raised:
        model.load_prices(path)
    assert f"{section}.{key}" in str(raised.value)
    assert str(path) in str(raised.value)
    assert "source" in str(raised.value)


@pytest.mark.parametrize("verified", [None, "yes", 1, 0])
def test_a_line_without_a_boolean_verified_is_refused(tmp_path, verified):
    document = copy.deepcopy(shipped())
    if verified is None:
        del document["prices"]["kms_key_per_month"]["verified"]
    else:
        document["prices"]["kms_key_per_month"]["verified"] = verified
    path = write(tmp_path, document)
    with pytest.raises(WimpyError, match=r"prices\.kms_key_per_month needs \"verified\""):
        model.load_prices(path)


@pytest.mark.parametrize("section, key", [("prices", "nat_gateway_per_hour"),
                                          ("instances_per_hour", "t3.medium")])
def test_a_bare_number_is_refused_as_it_names_no_source(tmp_path, section, key):
    document = copy.deepcopy(shipped())
    document[section][key] = 0.05
    path = write(tmp_path, document)
    with pytest.raises(WimpyError, match=rf"{section}\.{key} must be an object") as raised:
        model.load_prices(path)
    assert "source" in raised.value.hint and "verified" in raised.value.hint


def test_a_negative_or_boolean_figure_is_refused(tmp_path):
    document = copy.deepcopy(shipped())
    document["instances_per_hour"]["t3.small"]["usd"] = True
    with pytest.raises(WimpyError, match=r"instances_per_hour\.t3\.small must be a number"):
        model.load_prices(write(tmp_path, document))
    document["instances_per_hour"]["t3.small"]["usd"] = -1
    with pytest.raises(WimpyError, match=r"instances_per_hour\.t3\.small must be a number"):
        model.load_prices(write(tmp_path, document))


def test_the_footer_says_how_many_prices_are_unverified(tmp_path):
    document = copy.deepcopy(shipped())
    for _, entry in lines(document):
        entry["verified"] = True
    document["prices"]["alb_per_hour"]["verified"] = False
    document["instances_per_hour"]["t3.small"]["verified"] = False
    table = model.load_prices(write(tmp_path, document))
    assert table.unverified == ("prices.alb_per_hour", "instances_per_hour.t3.small")
    total = len(document["prices"]) + len(document["instances_per_hour"])
    footer = model.estimate({}, prices=table).notes[0]
    assert footer.startswith("Prices: eu-west-1, on-demand, USD, as of ")
    assert f"2 of its {total} prices unverified" in footer

    shipped_table = model.load_prices()
    footer = model.estimate({}, prices=shipped_table).notes[0]
    assert (f"{len(shipped_table.unverified)} of its "
            f"{len(shipped_table.prices) + len(shipped_table.instances_per_hour)} prices "
            "unverified") in footer
