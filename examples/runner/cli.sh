#!/usr/bin/env bash
# Run orders_handler.handler on the Orders table's stream in DynamoDB Local, as Lambda would.
# Start the server first in another terminal:  ddbstream local start --port 8000
set -euo pipefail
ENDPOINT="${ENDPOINT:-http://localhost:8000}"

ddbstream run orders_handler:handler --table "${TABLE:-Orders}" --endpoint-url "$ENDPOINT" \
    --batch-size 10 --report-batch-item-failures --max-retries 2 \
    --on-failure failed.jsonl --checkpoint checkpoints.db --until-idle

# only MODIFY records reach the handler; the others count as processed
ddbstream run orders_handler:handler --table "${TABLE:-Orders}" --endpoint-url "$ENDPOINT" \
    --filter-criteria modify_only.json --until-idle
