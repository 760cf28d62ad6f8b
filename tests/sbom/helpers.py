"""Validation of SBOM documents against the formats' own schemas: CycloneDX 1.6 through
cyclonedx-python-lib's bundled validator, SPDX 2.3 through the spec repository's
schema (fixtures/spdx-schema-2.3.json, spdx/spdx-spec tag v2.3,
commit aadf3b0b8dbbabdb4d880b0fc714255fea436ff7, schemas/spdx-schema.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SPDX_SCHEMA = Path(__file__).parent / "fixtures" / "spdx-schema-2.3.json"


def valid_cyclonedx(text: str) -> dict[str, Any]:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    doc: dict[str, Any] = json.loads(text)
    return doc


def valid_spdx(text: str) -> dict[str, Any]:
    import jsonschema

    doc: dict[str, Any] = json.loads(text)
    jsonschema.validate(doc, json.loads(SPDX_SCHEMA.read_text()),
                        format_checker=jsonschema.FormatChecker())
    return doc
