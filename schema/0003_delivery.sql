-- 0003: delivery.  A reference names one notification (a spear warning to
-- an entity, an advisory, a relay digest); each of its recipients gets a
-- message row of its own, so the reference is unique per recipient, not
-- per row.  The row keeps the pinned fingerprint it was encrypted to, so
-- the sender checks the key again just before sending (fail closed), and
-- the language its template was rendered in.
ALTER TABLE message DROP CONSTRAINT message_reference_key;
ALTER TABLE message ADD CONSTRAINT message_reference_recipient
    UNIQUE (reference, recipient);
ALTER TABLE message ADD COLUMN recipient_fpr pgp_fpr;
ALTER TABLE message ADD COLUMN language lang_code NOT NULL DEFAULT 'en';
ALTER TABLE message ADD COLUMN subject text
    CHECK (subject IS NULL OR (length(subject) <= 300 AND subject !~ '[[:cntrl:]]'));
-- An encrypted message names the key it was encrypted to.
ALTER TABLE message ADD CONSTRAINT message_encrypted_has_key
    CHECK (NOT encrypted OR state IN ('held', 'cancelled') OR recipient_fpr IS NOT NULL);
-- A message that can be sent has its wire form.
ALTER TABLE message ADD CONSTRAINT message_sendable_has_body
    CHECK (state NOT IN ('queued', 'sending', 'deferred') OR body IS NOT NULL);
CREATE INDEX message_reference ON message (reference);
CREATE INDEX message_state ON message (state);
