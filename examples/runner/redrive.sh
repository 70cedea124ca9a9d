#!/usr/bin/env bash
# What orders_handler gives up on goes to failed/, in AWS's S3 shape (the records included);
# once the handler is fixed (orders_fixed.py), redrive runs those records through it again.
set -euo pipefail
ENDPOINT="${ENDPOINT:-http://localhost:8000}"

ddbstream run orders_handler:handler --table "${TABLE:-Orders}" --endpoint-url "$ENDPOINT" \
    --report-batch-item-failures --max-retries 1 --on-failure-dir failed --until-idle

ddbstream redrive orders_fixed:handler failed --endpoint-url "$ENDPOINT"
