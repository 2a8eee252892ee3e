-- (PostgreSQL) Intake: a report resent under the same idempotency key (the widget's outbox
-- retrying after an answer was lost) is answered with the first one's issue and status link
-- instead of being filed twice. Unique per project; the key itself is kept only as a hash.
create table intake_requests (
    project_id bigint not null references projects(id) on delete cascade,
    key_hash text not null,
    report_id bigint not null references reports(id) on delete cascade,
    outcome text not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (project_id, key_hash)
);
create index intake_requests_report on intake_requests(report_id);
