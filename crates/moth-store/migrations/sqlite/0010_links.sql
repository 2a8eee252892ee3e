-- (SQLite) Links between issues: blocks, relates_to (stored one way only), regressed_by.
-- Duplicates stay in issues.duplicate_of_id, the one source of truth for them.
create table issue_links (
    from_issue_id bigint not null references issues(id) on delete cascade,
    kind text not null,
    to_issue_id bigint not null references issues(id) on delete cascade,
    created_by bigint references users(id),
    created_at bigint not null,
    updated_at bigint not null,
    primary key (from_issue_id, kind, to_issue_id)
);
create index issue_links_to on issue_links(to_issue_id);

-- A captured report moved onto the original when its issue was resolved as a duplicate
-- remembers where it came from, so the duplicate keeps its context and a reopened duplicate
-- gets its reports back.
alter table reports add column merged_from_issue_id bigint references issues(id);
create index reports_merged_from on reports(merged_from_issue_id) where merged_from_issue_id is not null;
