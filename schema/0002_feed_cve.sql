-- 0002: feeds may also be CVE JSON 5 records.
ALTER TABLE feed DROP CONSTRAINT feed_format_check;
ALTER TABLE feed ADD CONSTRAINT feed_format_check CHECK (format IN
    ('auto', 'shadowserver', 'misp', 'stix', 'csaf', 'kev', 'ioc', 'creds', 'cve'));
