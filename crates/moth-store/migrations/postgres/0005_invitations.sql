-- Invitations: an admin invites by link; the link's secret is kept only as a hash.
create table invitations (
    id bigint generated always as identity primary key,
    email text not null,
    role text not null check (role in ('admin', 'member', 'viewer')),
    token_hash text not null unique,
    invited_by bigint references users(id),
    expires_at bigint not null,
    accepted_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index invitations_pending on invitations(accepted_at, expires_at);
