#!/usr/bin/env python3
"""Check schemas/sweep.schema.json and the shipped sweep files with an
independent validator: python3-jsonschema (Draft 2020-12) checks that the
schema is a valid schema, that every examples/sweeps/*.sweep.json is valid
and that each document of tests/data/sweep/invalid-sweeps.json is
rejected.  The CUnit suite runs the same files through `lsgd sweep
--dry-run`, so the two validators are seen to agree.  Exit 0 ok, 1 not.
"""
import glob
import json
import os
import sys

import jsonschema


def main(root):
    with open(os.path.join(root, "schemas/sweep.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    files = sorted(glob.glob(os.path.join(root, "examples/sweeps/*.sweep.json")))
    for path in files:
        with open(path) as f:
            errors = list(validator.iter_errors(json.load(f)))
        if errors:
            problems.append(f"{os.path.relpath(path, root)}: {errors[0].json_path}: "
                            f"{errors[0].message}")
    with open(os.path.join(root, "tests/data/sweep/invalid-sweeps.json")) as f:
        invalid = json.load(f)
    for i, doc in enumerate(invalid):
        if validator.is_valid(doc):
            problems.append(f"invalid-sweeps.json[{i}]: accepted")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"python3-jsonschema: {len(files)} sweep files valid, {len(invalid)} invalid "
          f"documents rejected")
    return 1 if problems or not files else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
