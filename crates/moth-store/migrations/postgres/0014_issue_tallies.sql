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
    project_id bigint not null,
    basis text not null,
    week_start bigint not null,
    type text not null,
    severity text not null,
    issue_count bigint not null,
    settled bigint not null,
    reopened bigint not null,
    fixed bigint not null,
    fixed_seconds bigint not null,
    primary key (project_id, basis, week_start, type, severity)
);

-- One issue's parts, each counted `sign` times (1 to add, -1 to take away); none for a null row.
create function issue_tally_parts(r issues, sign bigint)
returns table (project_id bigint, basis text, week_start bigint, type text, severity text,
               issue_count bigint, settled bigint, reopened bigint, fixed bigint,
               fixed_seconds bigint)
language sql immutable as $$
    select r.project_id, 'created', r.created_at - ((r.created_at - 345600000000) % 604800000000),
           r.type, coalesce(r.severity, ''), sign,
           sign * (case when r.status in ('resolved', 'closed') or r.reopen_count > 0 then 1 else 0 end),
           sign * (case when r.reopen_count > 0 then 1 else 0 end), 0::bigint, 0::bigint
    where r.id is not null
    union all
    select r.project_id, 'resolved', r.resolved_at - ((r.resolved_at - 345600000000) % 604800000000),
           r.type, coalesce(r.severity, ''), sign, 0, 0,
           sign * (case when r.resolution = 'fixed' then 1 else 0 end),
           sign * (case when r.resolution = 'fixed' then (r.resolved_at - r.created_at) / 1000000 else 0 end)
    where r.id is not null and r.resolved_at is not null
    union all
    select r.project_id, 'open', 0, r.type, coalesce(r.severity, ''), sign, 0, 0, 0, 0
    where r.id is not null and r.status in ('new', 'triaged', 'in_progress', 'needs_info')
$$;

insert into issue_tallies
select p.project_id, p.basis, p.week_start, p.type, p.severity, sum(p.issue_count), sum(p.settled),
       sum(p.reopened), sum(p.fixed), sum(p.fixed_seconds)
from issues i, issue_tally_parts(i, 1) p
group by 1, 2, 3, 4, 5;

-- Old parts out, new parts in, summed first so a change within one row is one upsert of it, and
-- rows locked in key order so two changes never wait on each other crosswise.
create function issues_tally() returns trigger language plpgsql as $$
begin
    insert into issue_tallies as t
    select parts.project_id, parts.basis, parts.week_start, parts.type, parts.severity,
           sum(parts.issue_count), sum(parts.settled), sum(parts.reopened), sum(parts.fixed),
           sum(parts.fixed_seconds)
    from (select * from issue_tally_parts(old, -1)
          union all select * from issue_tally_parts(new, 1)) parts
    group by 1, 2, 3, 4, 5
    having sum(parts.issue_count) <> 0 or sum(parts.settled) <> 0 or sum(parts.reopened) <> 0
        or sum(parts.fixed) <> 0 or sum(parts.fixed_seconds) <> 0
    order by 1, 2, 3, 4, 5
    on conflict (project_id, basis, week_start, type, severity) do update set
        issue_count = t.issue_count + excluded.issue_count, settled = t.settled + excluded.settled,
        reopened = t.reopened + excluded.reopened, fixed = t.fixed + excluded.fixed,
        fixed_seconds = t.fixed_seconds + excluded.fixed_seconds;
    return null;
end;
$$;

create trigger issues_tally_insert_delete after insert or delete on issues
for each row execute function issues_tally();

create trigger issues_tally_update after update on issues
for each row when (old.project_id is distinct from new.project_id or old.type is distinct from new.type
    or old.severity is distinct from new.severity or old.status is distinct from new.status
    or old.resolution is distinct from new.resolution or old.reopen_count is distinct from new.reopen_count
    or old.created_at is distinct from new.created_at or old.resolved_at is distinct from new.resolved_at)
execute function issues_tally();
