"""The dbt side of the usage families follows the source's table of families
(`pipelines/openai_admin/families.py`): every raw usage table the source loads is a dbt source,
has its staging model, and is unioned into `int_usages__unioned` under its family's name. Read
from the dbt manifest that `make test` parses first (`python -m assets.dbt`)."""

from __future__ import annotations

import json
import re

import pytest

from assets.dbt import DBT_PROJECT_DIR
from pipelines.openai_admin.families import FAMILIES

PACKAGE = "openai_usage_warehouse"


@pytest.fixture(scope="module")
def manifest() -> dict:
    path = DBT_PROJECT_DIR / "target" / "manifest.json"
    assert path.exists(), "run `python -m assets.dbt` first (make test does)"
    return json.loads(path.read_text())


def unioned_families(manifest: dict) -> dict[str, str]:
    """Raw table of each staging model `int_usages__unioned` reads: staging model -> table."""
    nodes = manifest["nodes"]
    unioned = nodes[f"model.{PACKAGE}.int_usages__unioned"]
    tables = {}
    for staging in unioned["depends_on"]["nodes"]:
        sources = [manifest["sources"][s] for s in nodes[staging]["depends_on"]["nodes"]]
        assert len(sources) == 1, f"{staging} reads {len(sources)} sources"
        tables[nodes[staging]["name"]] = sources[0]["name"]
    return tables


def test_every_family_is_a_source_a_staging_model_and_a_union_arm(manifest):
    declared = {
        source["name"]
        for source in manifest["sources"].values()
        if source["source_name"] == "openai"
    }
    tables = {family.table for family in FAMILIES}
    assert tables <= declared
    assert sorted(unioned_families(manifest).values()) == sorted(tables)


def test_each_union_arm_is_named_for_the_family_whose_table_it_reads(manifest):
    """`macros/usage_families.sql` maps the `family` value of each union arm to its staging
    model; the value must be the source's name for the family whose raw table that model reads
    (the `accepted_values` test on `family` is built from the same macro)."""
    macro = manifest["macros"][f"macro.{PACKAGE}.usage_families"]["macro_sql"]
    listed = dict(re.findall(r"'(\w+)':\s*'(stg_openai__\w+)'", macro))
    tables = unioned_families(manifest)
    assert sorted(listed.values()) == sorted(tables)
    assert {family: tables[model] for family, model in listed.items()} == {
        family.name: family.table for family in FAMILIES
    }
