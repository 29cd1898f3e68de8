-- wrk script: POST /posts with a small JSON body (used by scripts/bench-node.sh).
-- Every request creates a post; no Idempotency-Key, so none is deduplicated.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"author":"bench","text":"hello from wrk, a post of ordinary length"}'
