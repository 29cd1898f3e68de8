-- One row per committed create, edit or delete, in commit order: what the nodes' live feeds read.
-- Writers take a transaction-scoped advisory lock before they insert here, so a row with a higher
-- seq never commits before one with a lower seq (a sequence alone does not promise that).
-- Old rows are pruned by the writes themselves.
CREATE TABLE post_changes (
    seq        BIGSERIAL PRIMARY KEY,
    post_id    BIGINT    NOT NULL,
    deleted    INTEGER   NOT NULL,
    changed_at BIGINT    NOT NULL
);
