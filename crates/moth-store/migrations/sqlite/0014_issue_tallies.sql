-- Running tallies behind the quality figures, kept by triggers in the same transaction as every
-- change to an issue, so fresh figures read a few hundred rows instead of scanning every issue of
-- the window. Each issue adds to up to three rows (`issue_tally_parts` says which):
--   basis 'created':  the UTC week (from Monday 00:00) it was filed in; `settled` counts it when it
--                     is resolved or closed now or was ever reopened, `reopened` when it was;
--   basis 'resolved': the week of its `resolved_at`, when it has one; `fixed` and `fixed_seconds`
--                     (whole seconds from filing to fix) when its resolution is 'fixed';
--   basis 'open':     week 0, while its status is open.
-- Severity is '' when unset. Times are unix microseconds; 1970-01-05 was a Monday.
create table issue_tallies (
    project_id integer not null,
    basis text not null,
    week_start integer not null,
    type text not null,
    severity text not null,
    issue_count integer not null,
    settled integer not null,
    reopened integer not null,
    fixed integer not null,
    fixed_seconds integer not null,
    primary key (project_id, basis, week_start, type, severity)
) without rowid;

create view issue_tally_parts as
select id as issue_id, project_id, 'created' as basis,
       created_at - ((created_at - 345600000000) % 604800000000) as week_start,
       type, coalesce(severity, '') as severity, 1 as issue_count,
       case when status in ('resolved', 'closed') or reopen_count > 0 then 1 else 0 end as settled,
       case when reopen_count > 0 then 1 else 0 end as reopened,
       0 as fixed, 0 as fixed_seconds
from issues
union all
select id, project_id, 'resolved',
       resolved_at - ((resolved_at - 345600000000) % 604800000000),
       type, coalesce(severity, ''), 1, 0, 0,
       case when resolution = 'fixed' then 1 else 0 end,
       case when resolution = 'fixed' then (resolved_at - created_at) / 1000000 else 0 end
from issues where resolved_at is not null
union all
select id, project_id, 'open', 0, type, coalesce(severity, ''), 1, 0, 0, 0, 0
from issues where status in ('new', 'triaged', 'in_progress', 'needs_info');

insert into issue_tallies
select project_id, basis, week_start, type, severity, sum(issue_count), sum(settled),
       sum(reopened), sum(fixed), sum(fixed_seconds)
from issue_tally_parts group by project_id, basis, week_start, type, severity;

-- Adding to the tallies, in one place: rows inserted into this view are summed into
-- `issue_tallies` (negative parts take away).
create view issue_tally_additions as select * from issue_tallies where false;

create trigger issue_tally_add instead of insert on issue_tally_additions begin
    insert into issue_tallies values (new.project_id, new.basis, new.week_start, new.type,
        new.severity, new.issue_count, new.settled, new.reopened, new.fixed, new.fixed_seconds)
    on conflict (project_id, basis, week_start, type, severity) do update set
        issue_count = issue_count + excluded.issue_count, settled = settled + excluded.settled,
        reopened = reopened + excluded.reopened, fixed = fixed + excluded.fixed,
        fixed_seconds = fixed_seconds + excluded.fixed_seconds;
end;

-- An update takes the old row's parts away before it is written and adds the new row's after.
create trigger issues_tally_insert after insert on issues begin
    insert into issue_tally_additions
    select project_id, basis, week_start, type, severity, issue_count, settled, reopened, fixed,
           fixed_seconds
    from issue_tally_parts where issue_id = new.id;
end;

create trigger issues_tally_before_update before update on issues
when old.project_id is not new.project_id or old.type is not new.type
    or old.severity is not new.severity or old.status is not new.status
    or old.resolution is not new.resolution or old.reopen_count is not new.reopen_count
    or old.created_at is not new.created_at or old.resolved_at is not new.resolved_at
begin
    insert into issue_tally_additions
    select project_id, basis, week_start, type, severity, -issue_count, -settled, -reopened,
           -fixed, -fixed_seconds
    from issue_tally_parts where issue_id = old.id;
end;

create trigger issues_tally_after_update after update on issues
when old.project_id is not new.project_id or old.type is not new.type
    or old.severity is not new.severity or old.status is not new.status
    or old.resolution is not new.resolution or old.reopen_count is not new.reopen_count
    or old.created_at is not new.created_at or old.resolved_at is not new.resolved_at
begin
    insert into issue_tally_additions
    select project_id, basis, week_start, type, severity, issue_count, settled, reopened, fixed,
           fixed_seconds
    from issue_tally_parts where issue_id = new.id;
end;

create trigger issues_tally_delete before delete on issues begin
    insert into issue_tally_additions
    select project_id, basis, week_start, type, severity, -issue_count, -settled, -reopened,
           -fixed, -fixed_seconds
    from issue_tally_parts where issue_id = old.id;
end;
