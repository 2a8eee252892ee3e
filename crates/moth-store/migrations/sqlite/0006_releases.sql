-- Release pages look issues up by the version they affect and the version they are fixed in.
create index issues_project_fixed_in on issues(project_id, fixed_in_version);
create index issues_project_affects on issues(project_id, affects_version);
