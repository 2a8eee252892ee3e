-- Full-text search: a generated tsvector over each issue (title weighted A, description and
-- bug-report fields B, comments and captured console and error messages C) with a GIN index.
-- `search_extra` holds the text of comments and reports; triggers keep it in step inside the
-- writing transaction, so no write path has to remember it.
alter table issues add column search_extra text not null default '';

-- The console and error messages of one report. A context the jsonb type refuses (it cannot
-- hold \u0000) is read again without those escapes, or else skipped: indexing never fails a write.
create function moth_report_messages(context text) returns text language plpgsql immutable as $$
declare
    doc jsonb;
begin
    begin
        doc := context::jsonb;
    exception when others then
        begin
            doc := replace(context, '\u0000', '')::jsonb;
        exception when others then
            return '';
        end;
    end;
    return coalesce((select string_agg(e->>'message', E'\n')
                     from jsonb_array_elements(case when jsonb_typeof(doc -> 'console') = 'array'
                                                    then doc -> 'console' else '[]'::jsonb end) e
                     where jsonb_typeof(e) = 'object'), '')
        || E'\n' ||
        coalesce((select string_agg(e->>'message', E'\n')
                  from jsonb_array_elements(case when jsonb_typeof(doc -> 'errors') = 'array'
                                                 then doc -> 'errors' else '[]'::jsonb end) e
                  where jsonb_typeof(e) = 'object'), '');
end;
$$;

-- Comments and captured messages of one issue. The texts indexed are capped (100,000
-- characters of body, 50,000 of these) so a tsvector stays under PostgreSQL's 1 MB limit
-- whatever is filed; the data itself is never cut.
create function moth_search_extra(issue bigint) returns text language sql stable as $$
    select left(
        coalesce((select string_agg(c.body, E'\n' order by c.id) from comments c where c.issue_id = issue), '')
        || E'\n' ||
        coalesce((select string_agg(moth_report_messages(r.context), E'\n' order by r.id)
                  from reports r where r.issue_id = issue), ''),
        50000)
$$;

update issues set search_extra = moth_search_extra(id);

alter table issues add column search_document tsvector generated always as (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, left(description || E'\n' || steps_to_reproduce || E'\n'
        || expected || E'\n' || actual || E'\n' || environment, 100000)), 'B')
    || setweight(to_tsvector('english'::regconfig, search_extra), 'C')
) stored;
create index issues_search on issues using gin (search_document);

create function moth_refresh_search_extra() returns trigger language plpgsql as $$
declare
    target bigint;
begin
    if tg_op = 'DELETE' then
        target := old.issue_id;
    else
        target := new.issue_id;
    end if;
    update issues set search_extra = moth_search_extra(target) where id = target;
    return null;
end;
$$;

create trigger comments_search after insert or delete or update of body on comments
for each row execute function moth_refresh_search_extra();
create trigger reports_search after insert on reports
for each row execute function moth_refresh_search_extra();

-- Every version string issues carry. Few enough to compare in Rust with the domain's Version
-- ordering; a version filter then becomes an indexed `in (...)` list.
create table known_versions (
    version text primary key,
    created_at bigint not null,
    updated_at bigint not null
);
create index issues_fixed_in_version on issues(fixed_in_version);
create index issues_affects_version on issues(affects_version);

create function moth_remember_versions() returns trigger language plpgsql as $$
begin
    insert into known_versions (version, created_at, updated_at)
    select v, new.updated_at, new.updated_at from (values (new.affects_version), (new.fixed_in_version)) as t(v)
    where v is not null
    on conflict do nothing;
    return null;
end;
$$;

create trigger issues_versions after insert or update of affects_version, fixed_in_version on issues
for each row when (new.affects_version is not null or new.fixed_in_version is not null)
execute function moth_remember_versions();

insert into known_versions (version, created_at, updated_at)
select v, 0, 0 from (select affects_version as v from issues union select fixed_in_version from issues) t
where v is not null
on conflict do nothing;
