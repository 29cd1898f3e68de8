-- Posts; ids only grow (AUTOINCREMENT never reuses an id), which keyset pagination relies on.
CREATE TABLE posts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    author          TEXT    NOT NULL,
    text            TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    idempotency_key TEXT    UNIQUE
);
CREATE INDEX posts_author_id ON posts (author, id);
