"""The documentation keeps up with the code: every setting and every source field is documented."""

from __future__ import annotations

from pathlib import Path

import pytest

import settings
from crawler.sources import _KEYS

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize("setting", settings.DECLARED, ids=lambda s: s.name)
def test_every_setting_is_documented(setting: settings.Setting) -> None:
    doc = (DOCS / "settings.md").read_text(encoding="utf-8")
    assert f"`{setting.name}`" in doc and f"`{setting.env}`" in doc and setting.help in doc


@pytest.mark.parametrize("field", sorted(_KEYS))
def test_every_source_field_is_documented(field: str) -> None:
    doc = (DOCS / "sources.md").read_text(encoding="utf-8")
    assert any(f"`{mark}`" in doc for mark in (field, f"[{field}]", f"[[{field}]]"))


def test_environment_overrides_and_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPEECH_ARCHIVE_REVIEW_SHARE", "0.9")
    assert settings.get("review_share") == 0.9
    monkeypatch.setenv("SPEECH_ARCHIVE_DEPTH_LIMIT", "deep")
    with pytest.raises(ValueError, match="SPEECH_ARCHIVE_DEPTH_LIMIT='deep' is not a valid int"):
        settings.get("depth_limit")


def test_readme_has_exactly_the_two_setup_commands() -> None:
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    blocks = [b.split("```", 1)[0].strip() for b in setup.split("```sh")[1:]]
    assert blocks == ["python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/speech-archive demo",
                      "python3 -m venv .venv && .venv/bin/pip install -e '.[test]' && .venv/bin/python -m pytest"]
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert blocks[1] in ci


def test_export_schema_and_docs_agree_with_the_exporter() -> None:
    import json

    from archive.export.write import COLUMNS, FIELDS, SCHEMA_VERSION, SEGMENTED, arrow_schema, fields

    schema = json.loads((DOCS / "export-schema.json").read_text(encoding="utf-8"))
    assert list(schema["properties"]) == list(fields(segment=True)) and schema["required"] == list(FIELDS)
    json_types = {"integer": "integer", "string": "string", "boolean": "boolean", "strings": "array"}
    for column in (*COLUMNS, SEGMENTED):
        documented = schema["properties"][column.name]["type"]
        assert documented == ([json_types[column.kind], "null"] if column.nullable else json_types[column.kind]), column
    assert arrow_schema(segment=True).names == list(fields(segment=True))
    assert schema["$id"].endswith(f"/{SCHEMA_VERSION}") and f"schema version {SCHEMA_VERSION}" in schema["title"]
    doc = (DOCS / "export.md").read_text(encoding="utf-8")
    assert f"## Columns (schema version {SCHEMA_VERSION})" in doc
    assert all(f"| `{f}` |" in doc for f in fields(segment=True))


def test_readme_lists_the_speech_records_columns_in_order() -> None:
    """README's "Columns:" sentence names exactly the record's fields, in export order."""
    import re

    from archive.export.record import FIELDS, SEGMENTED

    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    sentence = readme.split("Columns: ", 1)[1].split(". ", 1)[0]
    without_asides = re.sub(r"\([^)]*\)", "", sentence)
    named = [w for w in re.findall(r"[a-z_]+", without_asides) if w not in {"and", "with", "segment"}]
    assert named == [*FIELDS, SEGMENTED.name]
