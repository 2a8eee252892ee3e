-- Moth's foundation schema for SQLite. Times are unix microseconds (UTC) so one SQL text
-- serves both databases and sorts and compares exactly.

create table users (
    id integer primary key,
    email text not null unique,
    name text not null,
    role text not null check (role in ('admin', 'member', 'viewer')),
    password_hash text,
    active boolean not null default true,
    created_at bigint not null,
    updated_at bigint not null
);

create table sessions (
    token_hash text primary key,
    user_id bigint not null references users(id) on delete cascade,
    expires_at bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index sessions_user on sessions(user_id);

create table api_tokens (
    id integer primary key,
    user_id bigint not null references users(id) on delete cascade,
    name text not null,
    token_hash text not null unique,
    expires_at bigint,
    revoked_at bigint,
    last_used_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index api_tokens_user on api_tokens(user_id);

create table projects (
    id integer primary key,
    key text not null unique,
    name text not null,
    intake_key text not null unique,
    allowed_origins text not null default '[]',
    components text not null default '[]',
    versions text not null default '[]',
    next_issue_number bigint not null default 1,
    created_at bigint not null,
    updated_at bigint not null
);

create table issues (
    id integer primary key,
    project_id bigint not null references projects(id),
    number bigint not null,
    type text not null,
    title text not null,
    description text not null default '',
    status text not null,
    resolution text,
    severity text,
    severity_rank smallint not null,
    priority text not null,
    priority_rank smallint not null,
    component text,
    affects_version text,
    fixed_in_version text,
    assignee_id bigint references users(id),
    reporter_user_id bigint references users(id),
    reporter_name text,
    reporter_email text,
    duplicate_of_id bigint references issues(id),
    duplicate_count bigint not null default 0,
    regression boolean not null default false,
    reopen_count integer not null default 0,
    steps_to_reproduce text not null default '',
    expected text not null default '',
    actual text not null default '',
    environment text not null default '',
    created_at bigint not null,
    updated_at bigint not null,
    resolved_at bigint,
    unique (project_id, number)
);
-- Newest-first lists walk this index instead of sorting the whole project.
create index issues_project on issues(project_id, id);
create index issues_project_type_status on issues(project_id, type, status, priority_rank, id);
create index issues_project_status on issues(project_id, status, id);
create index issues_project_priority on issues(project_id, priority_rank, id);
create index issues_project_updated on issues(project_id, updated_at, id);
create index issues_assignee on issues(assignee_id);
create index issues_duplicate_of on issues(duplicate_of_id);

create table issue_labels (
    issue_id bigint not null references issues(id) on delete cascade,
    label text not null,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (issue_id, label)
);
create index issue_labels_label on issue_labels(label, issue_id);

create table watchers (
    issue_id bigint not null references issues(id) on delete cascade,
    user_id bigint not null references users(id) on delete cascade,
    created_at bigint not null,
    updated_at bigint not null,
    primary key (issue_id, user_id)
);

create table comments (
    id integer primary key,
    issue_id bigint not null references issues(id) on delete cascade,
    author_id bigint not null references users(id),
    body text not null,
    body_html text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index comments_issue on comments(issue_id, id);

create table attachments (
    id text primary key,
    issue_id bigint not null references issues(id) on delete cascade,
    filename text not null,
    content_type text not null,
    size bigint not null,
    object_key text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index attachments_issue on attachments(issue_id);

-- One row per captured report: the reporter's status link and everything the widget sent.
create table reports (
    id integer primary key,
    issue_id bigint not null references issues(id) on delete cascade,
    status_token_hash text not null unique,
    reporter_name text,
    reporter_email text,
    page_url text,
    app_version text,
    build text,
    context text not null,
    screenshot_attachment_id text,
    created_at bigint not null,
    updated_at bigint not null
);
create index reports_issue on reports(issue_id, id);

-- The one ordered log every change is written to, in the same transaction as the change.
create table events (
    id integer primary key autoincrement,
    kind text not null,
    project_id bigint references projects(id),
    issue_id bigint references issues(id) on delete set null,
    actor_id bigint references users(id),
    payload text not null,
    created_at bigint not null,
    updated_at bigint not null
);
create index events_issue on events(issue_id, id);
