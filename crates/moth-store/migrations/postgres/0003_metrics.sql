-- Covering indexes for the metrics aggregates, so each is one index range scan with no table
-- lookups: issues created in a window (by type, with status and reopen count for the reopen
-- rate), issues resolved in a window (with what the mean time to fix needs), and open issues
-- (by type and severity).
create index issues_project_created on issues(project_id, created_at, type, status, reopen_count);
create index issues_project_resolved on issues(project_id, resolved_at, type, severity, resolution, created_at)
    where resolved_at is not null;
create index issues_project_status_type on issues(project_id, status, type, severity);
-- Regressions per release count a few flagged issues; the partial index holds only those.
create index issues_project_regression on issues(project_id, affects_version) where regression = true;
