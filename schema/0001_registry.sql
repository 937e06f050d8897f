-- 0001: the registry, the outbox and the audit log (DESIGN.md "Registry").
-- Constraints make bad rows impossible: enums for TLP labels, NIS2 kinds,
-- sectors, languages and states; inet/cidr for prefixes; one owner per exact
-- prefix, ASN and domain.  Applied by `tocsinctl db migrate` in a transaction.

CREATE TYPE tlp_label AS ENUM ('CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED');
CREATE TYPE nis2_kind AS ENUM ('essential', 'important', 'public_admin', 'other');
-- NIS2 Annex I and II sectors, snake_case.
CREATE TYPE nis2_sector AS ENUM (
    'energy', 'transport', 'banking', 'financial_market_infrastructure',
    'health', 'drinking_water', 'waste_water', 'digital_infrastructure',
    'ict_service_management', 'public_administration', 'space',
    'postal_and_courier', 'waste_management', 'chemicals', 'food',
    'manufacturing', 'digital_providers', 'research');
CREATE TYPE lang_code AS ENUM ('en', 'fr', 'nl', 'de');
CREATE TYPE severity AS ENUM ('info', 'low', 'medium', 'high', 'critical');
CREATE TYPE category AS ENUM (
    'vulnerable_service', 'exposed_service', 'compromised_host',
    'compromised_website', 'malicious_infra', 'leaked_credentials',
    'vulnerable_product', 'other');
CREATE TYPE asset_type AS ENUM ('ipv4', 'ipv6', 'asn', 'domain', 'email_domain', 'product');
CREATE TYPE receive_kind AS ENUM ('spear', 'advisory', 'relay');
CREATE TYPE message_kind AS ENUM ('spear', 'advisory', 'relay');
CREATE TYPE message_state AS ENUM ('queued', 'sending', 'sent', 'deferred', 'failed', 'held', 'cancelled');
CREATE TYPE advisory_state AS ENUM ('queued', 'approved', 'dispatched', 'cancelled');

-- A lower-case DNS name without trailing dot, labels of 1..63 LDH chars.
CREATE DOMAIN dns_name AS text CHECK (
    length(VALUE) BETWEEN 1 AND 253
    AND VALUE ~ '^([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$');
CREATE DOMAIN email_addr AS text CHECK (
    length(VALUE) BETWEEN 3 AND 254
    AND VALUE ~ '^[^@[:space:][:cntrl:]<>",;]+@([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$');
-- An OpenPGP v4 fingerprint: 40 upper-case hex digits, no spaces.
CREATE DOMAIN pgp_fpr AS text CHECK (VALUE ~ '^[0-9A-F]{40}$');

CREATE TABLE entity (
    id                bigserial PRIMARY KEY,
    enterprise_number text NOT NULL UNIQUE
                      CHECK (enterprise_number ~ '^[0-9]{4}\.[0-9]{3}\.[0-9]{3}$'),
    name              text NOT NULL CHECK (length(name) BETWEEN 1 AND 300
                                           AND name !~ '[[:cntrl:]]'),
    kind              nis2_kind NOT NULL,
    sector            nis2_sector NOT NULL,
    language          lang_code NOT NULL DEFAULT 'en',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE contact (
    id              bigserial PRIMARY KEY,
    entity_id       bigint NOT NULL REFERENCES entity(id) ON DELETE CASCADE,
    email           email_addr NOT NULL,
    name            text CHECK (name IS NULL OR (length(name) <= 200 AND name !~ '[[:cntrl:]]')),
    role            text CHECK (role IS NULL OR (length(role) <= 100 AND role !~ '[[:cntrl:]]')),
    language        lang_code,            -- NULL: the entity's language
    pgp_fingerprint pgp_fpr,
    receives        receive_kind[] NOT NULL DEFAULT '{spear,advisory}'
                    CHECK (cardinality(receives) >= 1),
    UNIQUE (entity_id, email)
);

CREATE TABLE asset (
    id        bigserial PRIMARY KEY,
    entity_id bigint NOT NULL REFERENCES entity(id) ON DELETE CASCADE,
    type      asset_type NOT NULL,
    prefix    cidr,
    asn       bigint CHECK (asn IS NULL OR asn BETWEEN 1 AND 4294967295),
    domain    dns_name,
    cpe       text CHECK (cpe IS NULL OR (cpe ~ '^cpe:2\.3:[aho\*]:' AND length(cpe) <= 1000)),
    verified  boolean NOT NULL DEFAULT false,
    CHECK ((type = 'ipv4' AND family(prefix) = 4 AND asn IS NULL AND domain IS NULL AND cpe IS NULL)
        OR (type = 'ipv6' AND family(prefix) = 6 AND asn IS NULL AND domain IS NULL AND cpe IS NULL)
        OR (type = 'asn' AND asn IS NOT NULL AND prefix IS NULL AND domain IS NULL AND cpe IS NULL)
        OR (type IN ('domain', 'email_domain') AND domain IS NOT NULL AND prefix IS NULL AND asn IS NULL AND cpe IS NULL)
        OR (type = 'product' AND cpe IS NOT NULL AND prefix IS NULL AND asn IS NULL AND domain IS NULL))
);
-- One owner per exact prefix, ASN and domain; products may be shared.
CREATE UNIQUE INDEX asset_prefix_owner ON asset (prefix) WHERE prefix IS NOT NULL;
CREATE UNIQUE INDEX asset_asn_owner ON asset (asn) WHERE type = 'asn';
CREATE UNIQUE INDEX asset_domain_owner ON asset (type, domain) WHERE domain IS NOT NULL;
CREATE UNIQUE INDEX asset_product_once ON asset (entity_id, cpe) WHERE type = 'product';
CREATE INDEX asset_entity ON asset (entity_id);

CREATE TABLE subscription (
    id           bigserial PRIMARY KEY,
    entity_id    bigint NOT NULL UNIQUE REFERENCES entity(id) ON DELETE CASCADE,
    clearance    tlp_label NOT NULL DEFAULT 'GREEN',
    sectors      nis2_sector[] NOT NULL DEFAULT '{}',
    categories   category[] NOT NULL DEFAULT '{}',   -- empty: all
    min_severity severity NOT NULL DEFAULT 'info'
);

CREATE TABLE sector_authority (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 300 AND name !~ '[[:cntrl:]]'),
    sectors         nis2_sector[] NOT NULL CHECK (cardinality(sectors) >= 1),
    email           email_addr NOT NULL,
    language        lang_code NOT NULL DEFAULT 'en',
    pgp_fingerprint pgp_fpr NOT NULL,
    -- The most restrictive label whose details may be relayed to it.
    clearance       tlp_label NOT NULL DEFAULT 'AMBER'
                    CHECK (clearance <= 'AMBER')
);

CREATE TABLE feed (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.-]{1,64}$'),
    format        text NOT NULL CHECK (format IN ('auto', 'shadowserver', 'misp', 'stix', 'csaf', 'kev', 'ioc', 'creds')),
    source        text NOT NULL,
    schedule_s    integer CHECK (schedule_s IS NULL OR schedule_s >= 60),
    default_tlp   tlp_label NOT NULL DEFAULT 'AMBER',
    state         text NOT NULL DEFAULT 'idle' CHECK (state IN ('idle', 'running', 'failed')),
    etag          text,
    last_modified text,
    last_run_at   timestamptz,
    last_error    text
);

CREATE TABLE sighting (
    entity_id     bigint NOT NULL REFERENCES entity(id) ON DELETE CASCADE,
    category      category NOT NULL,
    indicator     text NOT NULL CHECK (length(indicator) BETWEEN 1 AND 4096),
    first_seen    timestamptz NOT NULL,
    last_seen     timestamptz NOT NULL CHECK (last_seen >= first_seen),
    last_notified timestamptz,
    PRIMARY KEY (entity_id, category, indicator)
);

-- Per-year counters behind references such as CCB-EWS-2026-000042.
CREATE TABLE reference_counter (
    year integer PRIMARY KEY CHECK (year BETWEEN 2000 AND 9999),
    last integer NOT NULL DEFAULT 0 CHECK (last BETWEEN 0 AND 999999)
);

CREATE TABLE advisory (
    id          bigserial PRIMARY KEY,
    reference   text NOT NULL UNIQUE,
    tlp         tlp_label NOT NULL,
    severity    severity NOT NULL,
    state       advisory_state NOT NULL DEFAULT 'queued',
    document    jsonb NOT NULL,          -- the validated advisory YAML as JSON
    queued_by   text NOT NULL,
    queued_at   timestamptz NOT NULL DEFAULT now(),
    approved_by text,
    approved_at timestamptz,
    CHECK (approved_by IS NULL OR approved_at IS NOT NULL)
);

CREATE TABLE message (
    id            bigserial PRIMARY KEY,
    reference     text NOT NULL UNIQUE,
    kind          message_kind NOT NULL,
    entity_id     bigint REFERENCES entity(id) ON DELETE SET NULL,
    contact_id    bigint REFERENCES contact(id) ON DELETE SET NULL,
    authority_id  bigint REFERENCES sector_authority(id) ON DELETE SET NULL,
    advisory_id   bigint REFERENCES advisory(id),
    recipient     email_addr NOT NULL,
    tlp           tlp_label NOT NULL,
    category      category,
    -- 0 essential, 1 public administration, 2 important, 3 everyone else.
    priority      smallint NOT NULL DEFAULT 3 CHECK (priority BETWEEN 0 AND 3),
    state         message_state NOT NULL DEFAULT 'queued',
    encrypted     boolean NOT NULL,
    -- The mail as it goes on the wire (signed, or signed and encrypted).
    -- Confidential content is only ever stored encrypted: see the CHECK.
    body          bytea,
    held_reason   text,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt  timestamptz NOT NULL DEFAULT now(),
    last_reply    text,
    locked_by     text,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz,
    CHECK (encrypted OR tlp IN ('CLEAR', 'GREEN')),
    CHECK (state <> 'held' OR held_reason IS NOT NULL),
    CHECK (state <> 'sending' OR (locked_by IS NOT NULL AND locked_until IS NOT NULL))
);
-- Claimable rows, in priority order, for FOR UPDATE SKIP LOCKED.
CREATE INDEX message_claimable ON message (priority, created_at)
    WHERE state IN ('queued', 'deferred');
CREATE INDEX message_lease ON message (locked_until) WHERE state = 'sending';

CREATE TABLE audit_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,          -- OS account, or "tocsind"
    action    text NOT NULL,
    reference text,
    detail    jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_reference ON audit_log (reference);
CREATE INDEX audit_log_at ON audit_log (at);

-- The audit log is append-only, enforced by the database itself.
CREATE FUNCTION audit_log_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse();

-- Registry changes wake the daemons (LISTEN registry), which rebuild their
-- in-memory index off the loop and swap it in.
CREATE FUNCTION registry_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('registry', TG_TABLE_NAME);
    RETURN NULL;
END $$;
CREATE TRIGGER entity_notify AFTER INSERT OR UPDATE OR DELETE ON entity
    FOR EACH STATEMENT EXECUTE FUNCTION registry_notify();
CREATE TRIGGER asset_notify AFTER INSERT OR UPDATE OR DELETE ON asset
    FOR EACH STATEMENT EXECUTE FUNCTION registry_notify();
CREATE TRIGGER contact_notify AFTER INSERT OR UPDATE OR DELETE ON contact
    FOR EACH STATEMENT EXECUTE FUNCTION registry_notify();
