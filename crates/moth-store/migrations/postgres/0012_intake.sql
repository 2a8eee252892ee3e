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

-- Captured messages reach the full-text index by appending one report's own text, no longer
-- by rebuilding the issue's text from all its reports (which parsed every earlier report's
-- JSON again: quadratic for a problem reported a thousand times). The indexed text stops at
-- 50,000 characters, as before: a report arriving after that leaves the issue row alone (no
-- new tsvector, no new row version). Each report's text starts on a new line, so appending it
-- gives the same text as moth_search_extra builds from scratch.
create or replace function moth_search_extra(issue bigint) returns text language sql stable as $$
    select left(
        coalesce((select string_agg(c.body, E'\n' order by c.id) from comments c where c.issue_id = issue), '')
        || coalesce((select string_agg(E'\n' || moth_report_messages(r.context), '' order by r.id)
                     from reports r where r.issue_id = issue), ''),
        50000)
$$;

create function moth_append_report_search() returns trigger language plpgsql as $$
begin
    update issues set search_extra = left(search_extra || E'\n' || moth_report_messages(new.context), 50000)
    where id = new.issue_id and length(search_extra) < 50000;
    return null;
end;
$$;

drop trigger reports_search on reports;
create trigger reports_search after insert on reports
for each row execute function moth_append_report_search();
