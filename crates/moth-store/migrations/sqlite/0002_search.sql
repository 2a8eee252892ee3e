-- Full-text search (FTS5, porter stemming) over each issue: its title, its body (description
-- and bug-report fields) and what others wrote or captured about it (comments, console and
-- error messages of reports). Triggers keep it in step inside the writing transaction, so no
-- write path has to remember it. The rowid is the issue id.
create virtual table issue_search using fts5(title, body, extra, tokenize = 'porter unicode61');

-- The index's terms, for expanding `pay*` to the stems that start with it (porter turns the
-- query's `pay` into `pai`, which would miss `payment`).
create virtual table issue_search_terms using fts5vocab(issue_search, 'row');

-- Every version string issues carry. Few enough to compare in Rust with the domain's Version
-- ordering; a version filter then becomes an indexed `in (...)` list.
create table known_versions (
    version text primary key,
    created_at bigint not null,
    updated_at bigint not null
);
create index issues_fixed_in_version on issues(fixed_in_version);
create index issues_affects_version on issues(affects_version);

create trigger issues_search_insert after insert on issues begin
    insert into issue_search (rowid, title, body, extra) values (
        new.id, new.title,
        new.description || char(10) || new.steps_to_reproduce || char(10) || new.expected
            || char(10) || new.actual || char(10) || new.environment,
        '');
end;

create trigger issues_search_update after update of title, description, steps_to_reproduce, expected, actual, environment
on issues begin
    update issue_search set title = new.title,
        body = new.description || char(10) || new.steps_to_reproduce || char(10) || new.expected
            || char(10) || new.actual || char(10) || new.environment
    where rowid = new.id;
end;

create trigger issues_search_delete after delete on issues begin
    delete from issue_search where rowid = old.id;
end;

create trigger issues_versions_insert after insert on issues
when new.affects_version is not null or new.fixed_in_version is not null begin
    insert into known_versions (version, created_at, updated_at)
    select v, new.updated_at, new.updated_at from (select new.affects_version as v union select new.fixed_in_version)
    where v is not null
    on conflict do nothing;
end;

create trigger issues_versions_update after update of affects_version, fixed_in_version on issues
when new.affects_version is not null or new.fixed_in_version is not null begin
    insert into known_versions (version, created_at, updated_at)
    select v, new.updated_at, new.updated_at from (select new.affects_version as v union select new.fixed_in_version)
    where v is not null
    on conflict do nothing;
end;

-- Comments and captured messages: the whole `extra` column is rebuilt for the one issue.
create view issue_search_extra as
select i.id as issue_id,
    coalesce((select group_concat(c.body, char(10)) from comments c where c.issue_id = i.id), '')
    || char(10) ||
    coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
              from reports r, json_each(r.context, '$.console') e
              where r.issue_id = i.id and e.type = 'object'), '')
    || char(10) ||
    coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
              from reports r, json_each(r.context, '$.errors') e
              where r.issue_id = i.id and e.type = 'object'), '') as extra
from issues i;

create trigger comments_search_insert after insert on comments begin
    update issue_search set extra = (select extra from issue_search_extra where issue_id = new.issue_id)
    where rowid = new.issue_id;
end;

create trigger comments_search_update after update of body on comments begin
    update issue_search set extra = (select extra from issue_search_extra where issue_id = new.issue_id)
    where rowid = new.issue_id;
end;

create trigger comments_search_delete after delete on comments begin
    update issue_search set extra = (select extra from issue_search_extra where issue_id = old.issue_id)
    where rowid = old.issue_id;
end;

create trigger reports_search_insert after insert on reports begin
    update issue_search set extra = (select extra from issue_search_extra where issue_id = new.issue_id)
    where rowid = new.issue_id;
end;

-- Issues filed before this migration.
insert into issue_search (rowid, title, body, extra)
select i.id, i.title,
    i.description || char(10) || i.steps_to_reproduce || char(10) || i.expected || char(10) || i.actual
        || char(10) || i.environment,
    x.extra
from issues i join issue_search_extra x on x.issue_id = i.id;

insert into known_versions (version, created_at, updated_at)
select v, 0, 0 from (select affects_version as v from issues union select fixed_in_version from issues)
where v is not null
on conflict do nothing;
