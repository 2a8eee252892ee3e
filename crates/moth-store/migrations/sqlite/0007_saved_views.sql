-- Saved views: a named list query of a project, personal or shared with the team.
create table saved_views (
    id integer primary key autoincrement,
    project_id bigint not null references projects(id),
    owner_id bigint not null references users(id),
    shared boolean not null default false,
    name text not null,
    query text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index saved_views_project on saved_views(project_id, owner_id);
