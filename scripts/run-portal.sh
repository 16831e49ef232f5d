#!/usr/bin/env bash
# Runs the portal for `make run`, inside `python -m portal.devservices run` (which exported where Kafka,
# Redis and LDAP are): migrations, the demo catalogue and admin, the topics, a Celery worker with beat, the demo
# log flow (demo pods' lines shipped by the real collector: shipper/demo), and the portal under the ASGI server
# uvicorn (follow streams hold their connections; runserver is not for that).
# Ctrl-C stops everything; the harness then stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python

$py manage.py migrate --no-input -v 0
$py manage.py seed_demo
# the dev broker keeps its data in .devservices/dev, but it may be new (or reset): put any missing topic back
$py manage.py sync_topics || true
$py manage.py demo_signin
$py manage.py check_services || echo "(some components are not answering: see http://127.0.0.1:8000/health/)"

.venv/bin/celery -A portal worker --beat --loglevel=warning --concurrency=1 &
worker=$!
# logs flowing: demo pods' lines shipped by the real collector (built and cached on first use, progress printed)
$py manage.py demo_logs &
shipper=$!
trap 'kill $shipper $worker 2>/dev/null; wait $shipper $worker 2>/dev/null' EXIT

.venv/bin/uvicorn portal.asgi:application --host 127.0.0.1 --port 8000 --no-access-log
