-- Triage: a snoozed report leaves the inbox until this moment (unix microseconds).
alter table issues add column snoozed_until bigint;
