-- Indexes for the pages' queries, each walked in the page's order so a page stops at its
-- last row (checked with EXPLAIN on both databases; see the README's page benchmark).
-- The board's open columns: one status, by priority.
create index issues_project_status_priority on issues(project_id, status, priority_rank, id);
-- The board's resolved and closed columns: one status, most recently changed first.
create index issues_project_status_updated on issues(project_id, status, updated_at, id);
-- The bug queue: one type, worst first.
create index issues_project_type_severity on issues(project_id, type, severity_rank, id);
-- The triage inbox: new issues, oldest first, a page at a time.
create index issues_triage on issues(project_id, number) where status = 'new';
-- The inbox's count of snoozed new issues (few: the rest come from the shared counts).
create index issues_snoozed on issues(project_id, snoozed_until) where status = 'new' and snoozed_until is not null;
-- Finer statistics of the search words: with the default target a word missing from the
-- sampled common ones was guessed to match 0.2% of issues, so a query for a rare word (the
-- palette's "newest matches") walked every issue newest first instead of asking the GIN index.
alter table issues alter column search_document set statistics 1000;
