-- (PostgreSQL) Duplicate detection at intake: the match key of each issue filed from a captured report,
-- looked up by hash (one index probe however many reports are stored). A later report with
-- the same key becomes another occurrence (a reports row) of that issue instead of a new one.
create table issue_fingerprints (
    project_id bigint not null references projects(id),
    hash text not null,
    kind text not null,
    issue_id bigint not null references issues(id) on delete cascade,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (project_id, hash, issue_id)
);
create index issue_fingerprints_issue on issue_fingerprints(issue_id);

-- Distinct people whose captured reports landed on the issue (reports without an e-mail
-- count one each), kept in step by the intake transaction.
alter table issues add column affected_reporters bigint not null default 0;
update issues set affected_reporters = (
    select count(distinct coalesce(r.reporter_email, 'report:' || r.id)) from reports r where r.issue_id = issues.id
);
create index reports_issue_reporter on reports(issue_id, reporter_email);

-- A report that matched a fixed issue without a version to judge by is filed anew and
-- flagged here for triage; it never reopens the fixed issue by itself.
alter table issues add column possible_regression_of_id bigint references issues(id);
