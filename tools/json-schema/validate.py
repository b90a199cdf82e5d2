#!/usr/bin/env python3
"""Validates ssmlog's JSON output against docs/schemas (JSON Schema 2020-12).

    validate.py SCHEMA_DIR FILE...

Each FILE is one JSON document, or JSON Lines (one document per line); each document is
validated against the schema its `schemaVersion` names (`ssmlog.check/1` ->
`check.schema.json`). The schemas refer to each other by `$id` (`urn:ssmlog:schema:common`).
Exit 0 when every document validates, 1 with the first error of each failing one.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource


def main():
    schema_dir = pathlib.Path(sys.argv[1])
    schemas = {}
    for path in sorted(schema_dir.glob("*.schema.json")):
        schemas[path.name[: -len(".schema.json")]] = json.loads(path.read_text())
    registry = Registry().with_resources(
        (s["$id"], Resource.from_contents(s)) for s in schemas.values()
    )
    failed = 0
    checked = 0
    for name in sys.argv[2:]:
        text = pathlib.Path(name).read_text()
        try:
            docs = [json.loads(text)]
        except json.JSONDecodeError:
            docs = [json.loads(line) for line in text.splitlines() if line.strip()]
        for i, doc in enumerate(docs):
            where = name if len(docs) == 1 else f"{name} line {i + 1}"
            version = doc.get("schemaVersion", "") if isinstance(doc, dict) else ""
            schema = schemas.get(version.removeprefix("ssmlog.").split("/")[0])
            if not version.startswith("ssmlog.") or schema is None:
                print(f"{where}: no schema for schemaVersion {version!r}")
                failed += 1
                continue
            validator = jsonschema.Draft202012Validator(schema, registry=registry)
            error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
            if error is not None:
                path = "/".join(str(p) for p in error.absolute_path)
                print(f"{where}: {version}: at /{path}: {error.message}")
                failed += 1
            checked += 1
    print(f"{checked} documents checked, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
