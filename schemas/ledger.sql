-- custody vault database, format 1. Applied once by `custody init`.
-- The `ledger` table is the only source of truth; every other table is a
-- projection rebuilt from it (and compared by `custody verify`). Triggers only
-- stop honest mistakes: the signatures, the Merkle tree and checkpoints kept
-- outside the vault are the control. See FORMAT.md.
PRAGMA application_id = 1129665364;  -- 0x43555354 'CUST'
PRAGMA user_version = 1;

CREATE TABLE ledger (
  seq       INTEGER PRIMARY KEY CHECK (seq >= 0),      -- RFC 6962 leaf index, contiguous from 0
  entry     BLOB NOT NULL,                             -- canonical JSON: exactly what is hashed and signed
  leaf_hash BLOB NOT NULL UNIQUE CHECK (length(leaf_hash) = 32),  -- SHA-256(0x00 || entry); a cache
  kid       TEXT NOT NULL CHECK (length(kid) = 64),    -- signer's key fingerprint (also inside entry)
  sig       BLOB NOT NULL CHECK (length(sig) = 64)     -- Ed25519 over "custody-entry/v1\n" || entry
) STRICT;

CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
  BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
  BEGIN SELECT RAISE(ABORT, 'custody ledger is append-only'); END;
CREATE TRIGGER ledger_contiguous BEFORE INSERT ON ledger
  WHEN NEW.seq <> (SELECT COALESCE(MAX(seq), -1) + 1 FROM ledger)
  BEGIN SELECT RAISE(ABORT, 'custody ledger seq must be contiguous'); END;

CREATE TABLE checkpoints (
  tree_size INTEGER PRIMARY KEY CHECK (tree_size > 0),
  root      BLOB NOT NULL CHECK (length(root) = 32),
  note      TEXT NOT NULL,                             -- C2SP signed note, ledger key
  t_ms      INTEGER NOT NULL                           -- when it was signed (writer clock, unsigned)
) STRICT;

CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'custody checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_grow BEFORE INSERT ON checkpoints
  WHEN NEW.tree_size <= (SELECT COALESCE(MAX(tree_size), 0) FROM checkpoints)
    OR NEW.tree_size > (SELECT COUNT(*) FROM ledger)
  BEGIN SELECT RAISE(ABORT, 'custody checkpoint size must grow and not exceed the ledger'); END;

-- Projections: one canonical JSON document per row, keyed. The typed columns
-- beside it are copies of document fields (for queries and indexes), written
-- by the same code and compared by the verifier (verify/projection.cpp,
-- projection_columns). They are not generated columns because SQLite refuses
-- json_extract() in the schema when trusted_schema is OFF, as it is here.
CREATE TABLE meta (
  key TEXT PRIMARY KEY,
  doc TEXT NOT NULL
) STRICT;

CREATE TABLE incidents (
  key        TEXT PRIMARY KEY,                         -- INC-YYYY-MM-DD-N
  doc        TEXT NOT NULL,                            -- incident.schema.json
  status     TEXT NOT NULL,
  opened_seq INTEGER NOT NULL
) STRICT;

CREATE TABLE items (
  key      TEXT PRIMARY KEY,                           -- INC-YYYY-MM-DD-N-E<n>
  doc      TEXT NOT NULL,
  incident TEXT NOT NULL,
  n        INTEGER NOT NULL,
  sha256   TEXT                                        -- NULL for a cloud snapshot
) STRICT;
CREATE INDEX items_by_incident ON items (incident, n);
CREATE INDEX items_by_sha256 ON items (sha256);

CREATE TABLE keys (
  key   TEXT PRIMARY KEY,                              -- key fingerprint (kid)
  doc   TEXT NOT NULL,
  actor TEXT NOT NULL
) STRICT;
CREATE INDEX keys_by_actor ON keys (actor);

CREATE TABLE accesses (
  key      TEXT PRIMARY KEY,                           -- seq of the access entry, zero-padded to 12 digits
  doc      TEXT NOT NULL,
  item     TEXT NOT NULL,
  incident TEXT NOT NULL
) STRICT;
CREATE INDEX accesses_by_item ON accesses (item);
CREATE INDEX accesses_by_incident ON accesses (incident);
