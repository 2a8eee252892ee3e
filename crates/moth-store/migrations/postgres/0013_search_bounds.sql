-- How many issues hold each word (lexeme) of the search document, for similar issues: counting
-- a word's matches through the GIN index reads a row of the table per match, up to 300 for
-- each of 64 words, while here it is one indexed read. Kept by statement triggers in the
-- writing transaction; a write changes only the rows of the words it adds or removes, taken
-- in word order so that two writers never wait for each other in a cycle.
create table search_words (
    lexeme text primary key,
    issues bigint not null,
    created_at bigint not null,
    updated_at bigint not null
);

-- Adds each lexeme's change of count (a jsonb object: lexeme -> change). A word no issue holds
-- any more keeps its row, at zero.
create function moth_count_search_words(changes jsonb) returns void language sql as $$
    insert into search_words as w (lexeme, issues, created_at, updated_at)
    select key, value::bigint, (extract(epoch from clock_timestamp()) * 1000000)::bigint,
        (extract(epoch from clock_timestamp()) * 1000000)::bigint
    from jsonb_each_text(changes) where value::bigint <> 0 order by key
    on conflict (lexeme) do update set issues = w.issues + excluded.issues, updated_at = excluded.updated_at
$$;

create function moth_search_words_inserted() returns trigger language plpgsql as $$
begin
    perform moth_count_search_words(coalesce((
        select jsonb_object_agg(lexeme, n) from (
            select w.lexeme, count(*) as n from new_issues i, unnest(tsvector_to_array(i.search_document)) w(lexeme)
            group by w.lexeme) c), '{}'::jsonb));
    return null;
end;
$$;

create function moth_search_words_deleted() returns trigger language plpgsql as $$
begin
    perform moth_count_search_words(coalesce((
        select jsonb_object_agg(lexeme, -n) from (
            select w.lexeme, count(*) as n from old_issues i, unnest(tsvector_to_array(i.search_document)) w(lexeme)
            group by w.lexeme) c), '{}'::jsonb));
    return null;
end;
$$;

-- Only rows whose document changed, and only the words that came or went.
create function moth_search_words_updated() returns trigger language plpgsql as $$
begin
    perform moth_count_search_words(coalesce((
        select jsonb_object_agg(lexeme, n) from (
            select lexeme, sum(d) as n from (
                select w.lexeme, 1 as d from old_issues o join new_issues i on i.id = o.id,
                    unnest(tsvector_to_array(i.search_document)) w(lexeme)
                where o.search_document is distinct from i.search_document
                union all
                select w.lexeme, -1 from old_issues o join new_issues i on i.id = o.id,
                    unnest(tsvector_to_array(o.search_document)) w(lexeme)
                where o.search_document is distinct from i.search_document
            ) changes group by lexeme having sum(d) <> 0) c), '{}'::jsonb));
    return null;
end;
$$;

create trigger issues_search_words_insert after insert on issues
referencing new table as new_issues for each statement execute function moth_search_words_inserted();
create trigger issues_search_words_update after update on issues
referencing old table as old_issues new table as new_issues
for each statement execute function moth_search_words_updated();
create trigger issues_search_words_delete after delete on issues
referencing old table as old_issues for each statement execute function moth_search_words_deleted();

insert into search_words (lexeme, issues, created_at, updated_at)
select w.lexeme, count(*), (extract(epoch from clock_timestamp()) * 1000000)::bigint,
    (extract(epoch from clock_timestamp()) * 1000000)::bigint
from issues i, unnest(tsvector_to_array(i.search_document)) w(lexeme)
group by w.lexeme;
