#!/usr/bin/env bash
# Install what the project needs on a Debian machine: apt packages, then a virtualenv in .venv
# with the package and its test extras. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
while read -r pkg; do
    [[ -z "$pkg" || "$pkg" == \#* ]] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done < scripts/apt-packages.txt
if ((${#missing[@]})); then
    echo "setup: installing Debian packages: ${missing[*]}"
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [[ ! -x .venv/bin/python ]]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml scripts/constraints.txt | sha1sum | cut -c1-12)
if [[ ! -f $stamp ]]; then
    echo "setup: installing Python packages into .venv (log: .venv/pip.log)"
    if ! { .venv/bin/python -m pip install -q --upgrade pip &&
           .venv/bin/python -m pip install -q -e ".[test]" -c scripts/constraints.txt; } > .venv/pip.log 2>&1; then
        cat .venv/pip.log; exit 1
    fi
    rm -f .venv/.installed-*; touch "$stamp"
fi
