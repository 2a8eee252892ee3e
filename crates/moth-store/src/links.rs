//! Links between issues: read both directions (with the duplicate links from `duplicate_of`),
//! add and remove, each with an event on both issues' history.

/// Implements issue links for one database type (expanded next to `sql_store!`).
macro_rules! link_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// An issue's links from both sides, duplicates first, then by kind and issue.
            pub async fn links(&self, issue_ref: &IssueRef) -> StoreResult<Vec<moth_core::IssueLink>> {
                use moth_core::{IssueLink, LinkKind, LinkRelation, LinkedIssue};
                let mut tx = self.reader().begin().await?;
                let (issue_id, _) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let rows = sqlx::query(
                    "select l.kind, 'out' as side, p.key, i.number, i.title, i.status from issue_links l \
                     join issues i on i.id = l.to_issue_id join projects p on p.id = i.project_id where l.from_issue_id = $1 \
                     union all \
                     select l.kind, 'in', p.key, i.number, i.title, i.status from issue_links l \
                     join issues i on i.id = l.from_issue_id join projects p on p.id = i.project_id where l.to_issue_id = $1 \
                     union all \
                     select 'duplicate_of', 'out', p.key, i.number, i.title, i.status from issues d \
                     join issues i on i.id = d.duplicate_of_id join projects p on p.id = i.project_id where d.id = $1 \
                     union all \
                     select 'duplicate_of', 'in', p.key, i.number, i.title, i.status from issues i \
                     join projects p on p.id = i.project_id where i.duplicate_of_id = $1",
                )
                .bind(issue_id)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                let mut links = rows
                    .into_iter()
                    .map(|r| {
                        let kind = LinkKind::parse_stored(r.get("kind")).map_err($crate::error::corrupt)?;
                        let relation = LinkRelation::of(kind, r.get::<&str, _>("side") == "in");
                        let key: String = r.get("key");
                        let number: i64 = r.get("number");
                        let issue = LinkedIssue { id: format!("{key}-{number}"), title: r.get("title"), status: r.get("status") };
                        Ok((relation, (key, number), IssueLink::new(relation, issue)))
                    })
                    .collect::<StoreResult<Vec<_>>>()?;
                let rank = |r: LinkRelation| (LinkKind::ALL.iter().position(|k| *k == r.kind), r.inward);
                links.sort_by(|a, b| (rank(a.0), &a.1).cmp(&(rank(b.0), &b.1)));
                Ok(links.into_iter().map(|(_, _, link)| link).collect())
            }

            /// Links `issue_ref` to `target` (`WEB-1 blocked_by WEB-2`), recorded on both issues.
            pub async fn add_link(
                &self,
                issue_ref: &IssueRef,
                relation: moth_core::LinkRelation,
                target: &IssueRef,
                actor: Actor,
            ) -> StoreResult<moth_core::IssueLink> {
                let link = moth_core::Link::between(issue_ref, relation, target)?;
                let mut tx = self.begin_write().await?;
                let ends = Self::link_ends(&mut tx, issue_ref, target).await?;
                let existing = Self::links_between(&mut tx, issue_ref, target, &ends).await?;
                link.check_against(&existing).map_err(|refusal| match refusal {
                    moth_core::LinkRefusal::AlreadyLinked(message) => StoreError::Conflict { field: "target", message },
                    moth_core::LinkRefusal::Invalid(error) => error.into(),
                })?;
                let (from_id, to_id) = if link.from == *issue_ref { (ends.0.0, ends.1.0) } else { (ends.1.0, ends.0.0) };
                let now = now_micros();
                sqlx::query(
                    "insert into issue_links (from_issue_id, kind, to_issue_id, created_by, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $5)",
                )
                .bind(from_id)
                .bind(link.kind.as_str())
                .bind(to_id)
                .bind(actor.0)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::conflict_on(
                    "target",
                    format!("{} already {} {}", link.from, moth_core::LinkRelation::of(link.kind, false).label(), link.to),
                ))?;
                let other = sqlx::query("select title, status from issues where id = $1").bind(ends.1.0).fetch_one(&mut *tx).await?;
                let linked = moth_core::LinkedIssue { id: target.to_string(), title: other.get("title"), status: other.get("status") };
                self.record_link(&mut tx, "issue.linked", &link, &ends, issue_ref, actor, now).await?;
                tx.commit().await?;
                Ok(moth_core::IssueLink::new(link.relation_from(issue_ref), linked))
            }

            /// Removes a link, from either of its issues; one that does not exist is not found.
            pub async fn remove_link(
                &self,
                issue_ref: &IssueRef,
                relation: moth_core::LinkRelation,
                target: &IssueRef,
                actor: Actor,
            ) -> StoreResult<()> {
                let link = moth_core::Link::between(issue_ref, relation, target)?;
                let missing = || StoreError::NotFound(format!("the link {issue_ref} {} {target}", relation.label()));
                let mut tx = self.begin_write().await?;
                let this = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let other = Self::issue_id(&mut tx, target).await?.ok_or_else(missing)?;
                let ends = (this, other);
                let (from_id, to_id) = if link.from == *issue_ref { (this.0, other.0) } else { (other.0, this.0) };
                let removed = sqlx::query("delete from issue_links where from_issue_id = $1 and kind = $2 and to_issue_id = $3")
                    .bind(from_id)
                    .bind(link.kind.as_str())
                    .bind(to_id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if removed == 0 {
                    return Err(missing());
                }
                self.record_link(&mut tx, "issue.unlinked", &link, &ends, issue_ref, actor, now_micros()).await?;
                tx.commit().await?;
                Ok(())
            }

            /// The (id, project id) of both issues, their rows locked in id order so two links
            /// between the same pair are decided one after the other.
            async fn link_ends(tx: &mut Tx, issue_ref: &IssueRef, target: &IssueRef) -> StoreResult<((i64, i64), (i64, i64))> {
                let this = Self::issue_id(tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let other = Self::issue_id(tx, target)
                    .await?
                    .ok_or_else(|| moth_core::DomainError::field("target", format!("{target} does not exist")))?;
                sqlx::query(&format!("select i.id from issues i where i.id in ($1, $2) order by i.id{}", Self::LOCK_ISSUE_ROW))
                    .bind(this.0)
                    .bind(other.0)
                    .fetch_all(&mut **tx)
                    .await?;
                Ok((this, other))
            }

            /// The links stored between two issues, either way round.
            async fn links_between(
                tx: &mut Tx,
                issue_ref: &IssueRef,
                target: &IssueRef,
                ends: &((i64, i64), (i64, i64)),
            ) -> StoreResult<Vec<moth_core::Link>> {
                let rows = sqlx::query(
                    "select from_issue_id, kind from issue_links \
                     where (from_issue_id = $1 and to_issue_id = $2) or (from_issue_id = $2 and to_issue_id = $1)",
                )
                .bind(ends.0.0)
                .bind(ends.1.0)
                .fetch_all(&mut **tx)
                .await?;
                rows.into_iter()
                    .map(|r| {
                        let kind = moth_core::LinkKind::parse_stored(r.get("kind")).map_err($crate::error::corrupt)?;
                        let (from, to) = if r.get::<i64, _>("from_issue_id") == ends.0.0 { (issue_ref, target) } else { (target, issue_ref) };
                        Ok(moth_core::Link { from: from.clone(), kind, to: to.clone() })
                    })
                    .collect()
            }

            /// Touches both issues and writes one event to each one's history, saying the link
            /// as that issue sees it.
            #[allow(clippy::too_many_arguments)]
            async fn record_link(
                &self,
                tx: &mut Tx,
                kind: &'static str,
                link: &moth_core::Link,
                ends: &((i64, i64), (i64, i64)),
                issue_ref: &IssueRef,
                actor: Actor,
                now: i64,
            ) -> StoreResult<()> {
                sqlx::query("update issues set updated_at = $1 where id in ($2, $3)")
                    .bind(now)
                    .bind(ends.0.0)
                    .bind(ends.1.0)
                    .execute(&mut **tx)
                    .await?;
                let verb = if kind == "issue.linked" { "linked" } else { "removed the link" };
                let other_of = |end: &IssueRef| if *end == link.from { link.to.clone() } else { link.from.clone() };
                let events = [(&link.from, ends), (&link.to, ends)]
                    .into_iter()
                    .map(|(end, ends)| {
                        let (id, project) = if end == issue_ref { ends.0 } else { ends.1 };
                        let relation = link.relation_from(end);
                        let other = other_of(end);
                        NewEvent {
                            kind,
                            project_id: Some(project),
                            issue_id: Some(id),
                            actor,
                            payload: serde_json::json!({
                                "issue": end.to_string(), "kind": link.kind.as_str(), "relation": relation.as_str(),
                                "target": other.to_string(), "detail": format!("{verb}: {} {other}", relation.label()),
                            }),
                        }
                    })
                    .collect::<Vec<_>>();
                self.append_events(tx, &events).await?;
                Ok(())
            }
        }
    };
}

pub(crate) use link_queries;
