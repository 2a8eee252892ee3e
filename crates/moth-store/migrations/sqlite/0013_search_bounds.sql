-- The index's terms, one row per occurrence, for expanding `pay*` to the stems that start with
-- it. Unlike the 'row' table (which counts each term's documents before yielding it, walking its
-- whole doclist), a row of this one costs one seek, so finding the next term is cheap.
create virtual table issue_search_instances using fts5vocab(issue_search, 'instance');
drop table issue_search_terms;

-- A search with words and field terms walks the full-text index newest first and checks each
-- match's fields; this narrow index holds the fields most searched, so that check reads a few
-- pages of it instead of each issue's row (a page of its own at a million issues).
create index issues_search_fields on issues(id, project_id, type, status, severity, priority, assignee_id);
