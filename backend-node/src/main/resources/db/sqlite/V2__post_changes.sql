-- One row per committed create, edit or delete, in commit order: what the nodes' live feeds read.
-- seq only grows (AUTOINCREMENT never reuses a value, and SQLite has one writer at a time, so seq
-- order is commit order). Old rows are pruned by the writes themselves.
CREATE TABLE post_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    post_id    INTEGER NOT NULL,
    deleted    INTEGER NOT NULL,
    changed_at INTEGER NOT NULL
);
