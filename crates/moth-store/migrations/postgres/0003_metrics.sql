-- Indexes for the metrics windows: issues created, and issues resolved, in a span of time.
create index issues_project_created on issues(project_id, created_at, type);
create index issues_project_resolved on issues(project_id, resolved_at, type) where resolved_at is not null;
-- Regressions per release count a few flagged issues; the partial index holds only those.
create index issues_project_regression on issues(project_id, affects_version) where regression = true;
