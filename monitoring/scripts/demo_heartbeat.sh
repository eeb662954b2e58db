#!/usr/bin/env bash
# Plays the nightly "Orders ETL" of the demo: reports its start, works a little, then reports success with the number
# of rows it wrote. Run it against a portal with the demo loaded:  monitoring/scripts/demo_heartbeat.sh [seconds]
# The address is the demo policy's fixed heartbeat URL (monitoring/demo.py, DEMO_PING_KEY).
# The demo's recorded runs took about ten minutes, so a run of a few seconds is reported as duration drift: that is
# the drift rule at work (see /monitoring/pipelines/orders-etl/).
set -euo pipefail
BASE="${PORTAL_BASE_URL:-http://127.0.0.1:8000}"
URL="$BASE/ping/a197cf9f-b6f0-55ae-a181-22d87c1fe6b7"
RUN_ID="demo-$(date +%Y%m%d%H%M%S)"
curl -fsS -m 10 --retry 3 "$URL/start?rid=$RUN_ID"
sleep "${1:-5}"
ROWS=$((1900 + RANDOM % 200))
curl -fsS -m 10 --retry 3 "$URL?rid=$RUN_ID&rows=$ROWS" || curl -fsS -m 10 "$URL/fail?rid=$RUN_ID"
