#!/usr/bin/env bash
# The whole test suite: the Rust tests, then the Python package (python/) built as a wheel into a
# virtual environment ($ASRPIPE_VENV, default .venv; made with python/requirements-test.txt when
# missing) and its pytest tests.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --release

venv="${ASRPIPE_VENV:-.venv}"
if [ ! -x "$venv/bin/maturin" ] || [ ! -x "$venv/bin/pytest" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r python/requirements-test.txt
fi
rm -rf target/wheels
"$venv/bin/maturin" build --release --quiet -m python/Cargo.toml -i "$venv/bin/python" -o target/wheels
"$venv/bin/pip" install -q --force-reinstall --no-deps target/wheels/asrpipe-*.whl
# Run from python/tests' parent so the installed wheel, not the source tree, is imported.
(cd python && "../$venv/bin/python" -m pytest -q tests)
