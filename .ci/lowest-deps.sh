#!/usr/bin/env bash
# The unit tests against the LOWEST versions pyproject.toml allows.
#
# Every direct dependency ([project] dependencies and the dev and bench extras) is pinned to
# the floor of its range (`name>=X` -> `name==X`) in a constraints file, installed into a
# fresh temporary venv (never .venv), and tests/unit plus the package doctests run there.
# Dependencies of dependencies resolve as pip chooses (the newest that fit the pins), as
# uv's "lowest-direct" does: the floors we declare are what this checks.
#
# Not part of `make test`: creating the venv and installing ~150 packages takes minutes and
# needs the package index. Run it when a floor changes or a new API is used:
#
#     bash .ci/lowest-deps.sh                  # python3 on PATH (the lowest supported: 3.11)
#     PYTHON=python3.11 bash .ci/lowest-deps.sh -x -k sql   # extra args go to pytest
#     KEEP_VENV=1 bash .ci/lowest-deps.sh      # keep the venv to investigate a failure
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
WORK="$(mktemp -d -t hasivu-lowest-XXXXXX)"
cleanup() {
  if [[ -z "${KEEP_VENV:-}" ]]; then rm -rf "$WORK"; else echo "venv kept in $WORK/venv"; fi
}
trap cleanup EXIT

"$PYTHON" - "$WORK/constraints.txt" <<'EOF'
"""Write `name==floor` for every dependency of pyproject.toml that declares a `>=` floor."""
import re
import sys
import tomllib

project = tomllib.load(open("pyproject.toml", "rb"))["project"]
requirements = list(project["dependencies"])
for extra in ("dev", "bench"):
    requirements += project["optional-dependencies"][extra]
floors: dict[str, str] = {}
for requirement in requirements:
    found = re.match(r"\s*([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*(.*)", requirement)
    name, spec = found.group(1), found.group(2).split(";")[0]
    floor = re.search(r">=\s*([^,\s]+)", spec)
    if floor is None:
        sys.exit(f"{requirement!r} has no floor (>=): every dependency needs one")
    key = re.sub(r"[-_.]+", "-", name).lower()
    if floors.get(key, floor.group(1)) != floor.group(1):
        sys.exit(f"{name} has two different floors: {floors[key]} and {floor.group(1)}")
    floors[key] = floor.group(1)
with open(sys.argv[1], "w") as out:
    out.writelines(f"{name}=={version}\n" for name, version in sorted(floors.items()))
EOF
echo "== floors (constraints for pip):"
cat "$WORK/constraints.txt"

"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install --quiet --upgrade pip
"$VPY" -m pip install --quiet -c "$WORK/constraints.txt" '.[dev,bench]'

echo "== installed (must equal the floors):"
"$VPY" - "$WORK/constraints.txt" <<'EOF'
import sys
from importlib.metadata import version

from packaging.version import Version  # installed with the dev tools

wrong = []
for line in open(sys.argv[1]):
    name, _, floor = line.strip().partition("==")
    got = version(name)
    print(f"  {name:<20} {got}")
    if Version(got) != Version(floor):
        wrong.append(f"{name} {got} (floor {floor})")
sys.exit(f"not installed at their floor: {wrong}" if wrong else 0)
EOF

echo "== unit tests and doctests with the lowest versions:"
# The venv's tools first on PATH: the project tests run its ruff and lint-imports. Not mypy:
# its verdict on the strict packages depends on numpy's type stubs, and numpy 1.26 (the
# runtime floor) ships older ones; typing is checked by `make test` with the dev versions.
PATH="$WORK/venv/bin:$PATH" RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0 \
  "$VPY" -m pytest tests/unit hasivu_compute -q -p no:cacheprovider \
  --deselect tests/unit/project/test_layers_and_lint.py::test_mypy_is_clean_where_the_project_claims_strict_typing \
  "$@"
