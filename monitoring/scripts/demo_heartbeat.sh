#!/usr/bin/env bash
# Plays the nightly "Orders ETL" of the demo: reports its start, works a little, then reports success with the number
# of rows it wrote. Run it against a portal with the demo loaded:  monitoring/scripts/demo_heartbeat.sh [seconds]
# Each instance has its own random heartbeat address (shown on the policy's page); give it as DEMO_PING_URL, or the
# script reads it from this checkout's database with manage.py.
# The demo's recorded runs took about ten minutes, so a run of a few seconds is reported as duration drift: that is
# the drift rule at work (see /monitoring/pipelines/orders-etl/).
set -euo pipefail
BASE="${PORTAL_BASE_URL:-http://127.0.0.1:8000}"
if [ -z "${DEMO_PING_URL:-}" ]; then
  HERE="$(cd "$(dirname "$0")/../.." && pwd)"
  PYTHON="${PYTHON:-$([ -x "$HERE/.venv/bin/python" ] && echo "$HERE/.venv/bin/python" || echo python)}"
  KEY="$(cd "$HERE" && "$PYTHON" manage.py shell --no-imports -c \
    "from monitoring.models import FreshnessPolicy; print(FreshnessPolicy.objects.get(asset__kind='pipeline', asset__slug='orders-etl').ping_key)")"
  DEMO_PING_URL="$BASE/ping/$KEY"
fi
URL="$DEMO_PING_URL"
RUN_ID="demo-$(date +%Y%m%d%H%M%S)"
curl -fsS -m 10 --retry 3 "$URL/start?rid=$RUN_ID"
sleep "${1:-5}"
ROWS=$((1900 + RANDOM % 200))
curl -fsS -m 10 --retry 3 "$URL?rid=$RUN_ID&rows=$ROWS" || curl -fsS -m 10 "$URL/fail?rid=$RUN_ID"
