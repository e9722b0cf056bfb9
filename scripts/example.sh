#!/usr/bin/env bash
# Set up (apt + .venv), make the bundled example product and run the main job on it.
# The example is synthetic (written by s1tiling_cloud.testing), so this runs offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
product=$(.venv/bin/s1tiling-cloud synthesize example/)
.venv/bin/s1tiling-cloud info "$product"
