#!/usr/bin/env bash
# Set up (apt + .venv), then run the main job on the bundled example: a synthetic Sentinel-1
# GRD (and a DEM) made by s1tiling_cloud.testing, taken through the S1Tiling chain onto S2 tile
# 31TCJ by the local runner from example/demo.cfg (heights, ortho, concatenate, border mask,
# quicklook, STAC). Offline; outputs in example/output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/s1tiling-cloud demo example/
