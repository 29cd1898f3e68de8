-- Posts; ids come from a sequence, so they only grow, which keyset pagination relies on.
CREATE TABLE posts (
    id              BIGSERIAL PRIMARY KEY,
    author          TEXT      NOT NULL,
    text            TEXT      NOT NULL,
    version         BIGINT    NOT NULL,
    created_at      BIGINT    NOT NULL,
    updated_at      BIGINT    NOT NULL,
    idempotency_key TEXT      UNIQUE
);
CREATE INDEX posts_author_id ON posts (author, id);
