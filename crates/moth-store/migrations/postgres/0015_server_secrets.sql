-- Secrets this server makes for itself once and keeps: the key of the status links derived from
-- a report's idempotency key (a resend is answered with the same link, and knowing the key
-- alone, from a proxy's log say, does not give the link).
create table server_secrets (
    name text primary key,
    value text not null,
    created_at bigint not null,
    updated_at bigint not null
);
