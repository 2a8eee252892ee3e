-- (SQLite) Intake: a report resent under the same idempotency key (the widget's outbox
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
-- JSON again: quadratic for a problem reported a thousand times). The indexed text of
-- comments and captured messages stops at 50,000 characters, as on PostgreSQL (where a
-- tsvector must stay under 1 MB): a report arriving after that adds nothing to the index and
-- costs nothing there. Each report's text starts on a new line, so appending it gives the
-- same text as the view below builds from scratch. Text is only cut when it is long: SQLite's
-- substr() and length() stop at a NUL character, which captured messages may hold.
drop view issue_search_extra;
create view issue_search_extra as
select x.issue_id, case when length(cast(x.text as blob)) > 50000 then substr(x.text, 1, 50000) else x.text end as extra
from (select i.id as issue_id,
    coalesce((select group_concat(c.body, char(10)) from comments c where c.issue_id = i.id), '')
    || coalesce((select group_concat(char(10) || m.text, '') from (
        select coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
                         from json_each(r.context, '$.console') e where e.type = 'object'), '')
            || char(10) ||
            coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
                      from json_each(r.context, '$.errors') e where e.type = 'object'), '') as text
        from reports r where r.issue_id = i.id order by r.id) m), '') as text
    from issues i) x;

drop trigger reports_search_insert;
create trigger reports_search_insert after insert on reports
when (select length(extra) from issue_search where rowid = new.issue_id) < 50000
begin
    update issue_search set extra = (
        select case when length(cast(extra || m.text as blob)) > 50000 then substr(extra || m.text, 1, 50000)
                    else extra || m.text end
        from (select char(10)
            || coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
                         from json_each(new.context, '$.console') e where e.type = 'object'), '')
            || char(10) ||
            coalesce((select group_concat(json_extract(e.value, '$.message'), char(10))
                      from json_each(new.context, '$.errors') e where e.type = 'object'), '') as text) m)
    where rowid = new.issue_id;
end;
