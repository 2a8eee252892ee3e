//! Filing captured reports: the fingerprint lookup, duplicate occurrences and regressions.
//!
//! An occurrence is simply another `reports` row on the issue it matched: it keeps its own
//! context, reporter, versions and status link, so no second table repeats those.

/// Implements report intake for one database type (expanded next to `sql_store!`).
macro_rules! intake_queries {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Files a captured report with its attachments, all or nothing; the issue it is on.
            pub async fn create_report(
                &self,
                project_key: &str,
                report: $crate::models::NewReport,
                attachments: Vec<$crate::models::NewAttachment>,
            ) -> StoreResult<moth_core::Issue> {
                Ok(self.file_report(project_key, report, attachments).await?.issue)
            }

            /// Files a captured report. Its match key is looked up among the project's known
            /// issues and the domain decides: a new issue, another occurrence of a known one, a
            /// regression that reopens a fixed one, or a report from before a fix. Attachment
            /// bytes are already stored.
            ///
            /// Reports arriving at the same moment share one transaction (see `group_commit`):
            /// a commit (and on PostgreSQL its wait for the disk) costs the same for one report
            /// as for sixty. A batch that fails is written again one report at a time, so only
            /// the refused report fails.
            pub async fn file_report(
                &self,
                project_key: &str,
                report: $crate::models::NewReport,
                attachments: Vec<$crate::models::NewAttachment>,
            ) -> StoreResult<$crate::models::FiledReport> {
                let receipt = self.receive_report(project_key, report, attachments).await?;
                let issue = self.issue(&receipt.issue).await?;
                Ok($crate::models::FiledReport { issue, outcome: receipt.outcome, replayed: receipt.replayed })
            }

            /// `file_report` without reading the issue back (four queries and its captured
            /// context, parsed): intake answers with the issue's id only.
            pub async fn receive_report(
                &self,
                project_key: &str,
                report: $crate::models::NewReport,
                attachments: Vec<$crate::models::NewAttachment>,
            ) -> StoreResult<$crate::models::ReportReceipt> {
                let filing = $crate::models::ReportFiling { project_key: project_key.to_owned(), report, attachments };
                let store = self.clone();
                self.report_filings
                    .submit(filing, move |batch| async move { store.file_reports(batch).await })
                    .await
            }

            async fn file_reports(
                &self,
                batch: Vec<$crate::models::ReportFiling>,
            ) -> Vec<StoreResult<$crate::models::ReportReceipt>> {
                if batch.len() > 1 {
                    if let Ok(written) = self.write_reports(&batch).await {
                        return written.into_iter().map(Ok).collect();
                    }
                }
                let mut results = Vec::with_capacity(batch.len());
                for filing in &batch {
                    results.push(self.write_reports(std::slice::from_ref(filing)).await.map(|mut one| one.remove(0)));
                }
                results
            }

            /// Writes reports one after another in one transaction (a later one sees what an
            /// earlier one filed), their events appended last, after every row lock taken.
            async fn write_reports(
                &self,
                batch: &[$crate::models::ReportFiling],
            ) -> StoreResult<Vec<$crate::models::ReportReceipt>> {
                let mut tx = self.begin_write().await?;
                let mut events = Vec::new();
                let mut later = $crate::intake::BatchRows::default();
                let mut written = Vec::with_capacity(batch.len());
                // Each project's id is looked up once per batch: one round trip to the writer less
                // per report.
                let mut projects: Vec<(&str, i64)> = Vec::new();
                for filing in batch {
                    let key = filing.project_key.as_str();
                    let project_id = match projects.iter().find(|(known, _)| *known == key) {
                        Some((_, id)) => *id,
                        None => {
                            let id: i64 = sqlx::query_scalar("select id from projects where key = $1")
                                .bind(key)
                                .fetch_optional(&mut *tx)
                                .await?
                                .ok_or_else(|| StoreError::NotFound(format!("project {key}")))?;
                            projects.push((key, id));
                            id
                        }
                    };
                    written.push(self.write_report(&mut tx, filing, project_id, &mut events, &mut later).await?);
                }
                Self::insert_batch_rows(&mut tx, &later).await?;
                if !events.is_empty() {
                    self.append_events(&mut tx, &events).await?;
                }
                tx.commit().await?;
                Ok(written)
            }

            async fn write_report<'b>(
                &self,
                tx: &mut Tx,
                filing: &'b $crate::models::ReportFiling,
                project_id: i64,
                events: &mut Vec<NewEvent>,
                later: &mut $crate::intake::BatchRows<'b>,
            ) -> StoreResult<$crate::models::ReportReceipt> {
                use moth_core::fingerprint::{MatchOutcome, decide, report_version};
                use $crate::models::{ReportOutcome, ReportReceipt};
                let (project_key, report, attachments) = (filing.project_key.as_str(), &filing.report, &filing.attachments);
                let now = now_micros();
                if let Some(key_hash) = &report.idempotency_key_hash {
                    // A resend racing its first attempt waits here, then finds it.
                    Self::lock_fingerprint(tx, key_hash).await?;
                    // Sent twice within this batch: its row is not written yet.
                    if let Some((issue_ref, outcome)) = later.keyed(project_id, key_hash) {
                        return Ok(ReportReceipt { issue: issue_ref, outcome, replayed: true });
                    }
                    if let Some((issue_ref, outcome)) = Self::earlier_report(tx, project_id, key_hash).await? {
                        return Ok(ReportReceipt { issue: issue_ref, outcome, replayed: true });
                    }
                }
                let version = report_version(report.app_version.as_deref(), report.build.as_deref());
                let outcome = match &report.match_key {
                    Some(key) => {
                        // Two reports of one new problem at once must not both file an issue.
                        Self::lock_fingerprint(tx, &key.hash).await?;
                        let known = Self::known_issues(tx, project_id, &key.hash).await?;
                        decide(&known, version.as_ref())
                    }
                    None => MatchOutcome::New,
                };
                let (issue_id, issue_ref, result) = match outcome {
                    MatchOutcome::New | MatchOutcome::PossibleRegression { .. } => {
                        let guest = GuestReporter { name: report.reporter_name.clone(), email: report.reporter_email.clone() };
                        let draft = IssueDraft { project_key, new: &report.issue, guest: &guest, actor: Actor::SYSTEM };
                        let (mut filed, created) = self.insert_issue_rows(tx, std::slice::from_ref(&draft)).await?;
                        let filed = filed.remove(0);
                        events.extend(created);
                        let (suspect, result) = match outcome {
                            MatchOutcome::PossibleRegression { of: (id, of) } => {
                                (Some(id), ReportOutcome::PossibleRegression { of })
                            }
                            _ => (None, ReportOutcome::Filed),
                        };
                        sqlx::query("update issues set affected_reporters = 1, possible_regression_of_id = $1 where id = $2")
                            .bind(suspect)
                            .bind(filed.issue_id)
                            .execute(&mut **tx)
                            .await?;
                        if let Some(key) = &report.match_key {
                            sqlx::query(
                                "insert into issue_fingerprints (project_id, hash, kind, issue_id, created_at, updated_at) \
                                 values ($1, $2, $3, $4, $5, $5)",
                            )
                            .bind(project_id)
                            .bind(&key.hash)
                            .bind(key.kind.as_str())
                            .bind(filed.issue_id)
                            .bind(now)
                            .execute(&mut **tx)
                            .await?;
                        }
                        (filed.issue_id, filed.issue_ref, result)
                    }
                    MatchOutcome::Occurrence { of: (id, of) } => (id, of, ReportOutcome::Duplicate),
                    MatchOutcome::Regression { of: (id, of) } => (id, of, ReportOutcome::Regression),
                    MatchOutcome::FixedLater { of: (id, of) } => (id, of, ReportOutcome::AlreadyFixed),
                };
                let joined = matches!(
                    result,
                    ReportOutcome::Duplicate | ReportOutcome::Regression | ReportOutcome::AlreadyFixed
                );
                if joined {
                    // Before this report's row: its reporter is new to the issue unless an earlier
                    // report has the same e-mail (a report without one counts as a person of its own).
                    sqlx::query(
                        "update issues set duplicate_count = duplicate_count + 1, \
                         affected_reporters = affected_reporters + case when exists \
                         (select 1 from reports where issue_id = $3 and reporter_email = $1) then 0 else 1 end, \
                         updated_at = $2 where id = $3",
                    )
                    .bind(&report.reporter_email)
                    .bind(now)
                    .bind(issue_id)
                    .execute(&mut **tx)
                    .await?;
                }
                let screenshot = attachments.iter().find(|a| a.is_screenshot).map(|a| a.id.clone());
                let report_id: i64 = sqlx::query_scalar(
                    "insert into reports (issue_id, status_token_hash, reporter_name, reporter_email, page_url, app_version, \
                     build, context, screenshot_attachment_id, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) returning id",
                )
                .bind(issue_id)
                .bind(&report.status_token_hash)
                .bind(&report.reporter_name)
                .bind(&report.reporter_email)
                .bind(&report.page_url)
                .bind(&report.app_version)
                .bind(&report.build)
                .bind(report.context.as_str())
                .bind(&screenshot)
                .bind(now)
                .fetch_one(&mut **tx)
                .await?;
                // Written with the rest of the batch's, one statement for all: nothing the batch
                // decides reads them (a key sent twice in it is found in `later`).
                later.attachments.extend(attachments.iter().map(|a| (issue_id, a, now)));
                if let Some(key_hash) = &report.idempotency_key_hash {
                    later.keys.push($crate::intake::KeyedReport {
                        project_id,
                        key_hash,
                        report_id,
                        issue: issue_ref.clone(),
                        outcome: result.clone(),
                        now,
                    });
                }
                let mut payload = serde_json::json!({
                    "issue": issue_ref.to_string(), "report_id": report_id, "attachments": attachments.len(),
                    "app_version": report.app_version, "build": report.build,
                    "match": report.match_key.as_ref().map(|k| k.kind.as_str()),
                });
                if joined {
                    // Row locks before the event log's lock, which every transaction takes last.
                    if result == ReportOutcome::Regression {
                        let build = version.as_ref().map(|v| v.to_string()).unwrap_or_default();
                        // It regressed in the release the report came from: that is the
                        // version it now affects (the fix it had stays as it was).
                        let affected = report.app_version.as_deref().and_then(|v| moth_core::Version::parse("affects_version", v).ok());
                        let change = moth_core::IssueChange {
                            status: Some(moth_core::Status::Triaged),
                            regression: Some(true),
                            affects_version: affected.map(Some),
                            ..Default::default()
                        };
                        let note = serde_json::json!({
                            "regression": {"report_id": report_id, "build": build},
                            "detail": format!("reopened as a regression: report {report_id} came from build {build}, at or after the fix"),
                        });
                        self.change_issue(tx, &issue_ref, change, Actor::SYSTEM, Some(note)).await?;
                    }
                    payload["detail"] = serde_json::json!(match &report.build.as_ref().or(report.app_version.as_ref()) {
                        Some(build) => format!("another report of this problem arrived, from build {build}"),
                        None => "another report of this problem arrived".to_string(),
                    });
                    events.push(NewEvent { kind: "report.duplicate", project_id: Some(project_id), issue_id: Some(issue_id), actor: Actor::SYSTEM, payload });
                } else {
                    if let ReportOutcome::PossibleRegression { of } = &result {
                        payload["possible_regression_of"] = serde_json::json!(of.to_string());
                        payload["detail"] = serde_json::json!(format!(
                            "matches {of}, which was fixed; the report names no version, so triage decides whether it is a regression"
                        ));
                    }
                    events.push(NewEvent { kind: "report.received", project_id: Some(project_id), issue_id: Some(issue_id), actor: Actor::SYSTEM, payload });
                }
                Ok(ReportReceipt { issue: issue_ref, outcome: result, replayed: false })
            }

            /// The attachments and idempotency keys of a batch's reports, one statement each.
            async fn insert_batch_rows(tx: &mut Tx, rows: &$crate::intake::BatchRows<'_>) -> StoreResult<()> {
                Self::insert_attachments(tx, &rows.attachments).await?;
                if !rows.keys.is_empty() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "insert into intake_requests (project_id, key_hash, report_id, outcome, created_at, updated_at) ",
                    );
                    insert.push_values(&rows.keys, |mut row, k| {
                        row.push_bind(k.project_id).push_bind(k.key_hash).push_bind(k.report_id)
                            .push_bind(k.outcome.answer()).push_bind(k.now).push_bind(k.now);
                    });
                    insert.build().execute(&mut **tx).await?;
                }
                Ok(())
            }

            /// The issue a report filed under this idempotency key is on now (it follows a
            /// merge), and what intake answered then.
            async fn earlier_report(
                tx: &mut Tx,
                project_id: i64,
                key_hash: &str,
            ) -> StoreResult<Option<(IssueRef, $crate::models::ReportOutcome)>> {
                let row = sqlx::query(
                    "select p.key, i.number, k.outcome from intake_requests k join reports r on r.id = k.report_id \
                     join issues i on i.id = r.issue_id join projects p on p.id = i.project_id \
                     where k.project_id = $1 and k.key_hash = $2",
                )
                .bind(project_id)
                .bind(key_hash)
                .fetch_optional(&mut **tx)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let issue_ref = IssueRef::parse(&format!("{}-{}", row.get::<String, _>("key"), row.get::<i64, _>("number")))?;
                Ok(Some((issue_ref, $crate::models::ReportOutcome::from_answer(row.get("outcome")))))
            }

            /// The known issue a report with this match key would join, for the widget's question
            /// before sending ("This looks like WEB-12").
            pub async fn known_issue(&self, project_key: &str, hash: &str) -> StoreResult<Option<$crate::models::KnownReport>> {
                let mut tx = self.reader().begin().await?;
                let project_id: Option<i64> = sqlx::query_scalar("select id from projects where key = $1")
                    .bind(project_key)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(project_id) = project_id else { return Ok(None) };
                let known = Self::known_issues(&mut tx, project_id, hash).await?;
                let best = match moth_core::fingerprint::decide(&known, None) {
                    moth_core::fingerprint::MatchOutcome::New => return Ok(None),
                    moth_core::fingerprint::MatchOutcome::Occurrence { of }
                    | moth_core::fingerprint::MatchOutcome::Regression { of }
                    | moth_core::fingerprint::MatchOutcome::FixedLater { of }
                    | moth_core::fingerprint::MatchOutcome::PossibleRegression { of } => of,
                };
                let row = sqlx::query("select title, status, affected_reporters from issues where id = $1")
                    .bind(best.0)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some($crate::models::KnownReport {
                    id: best.1.to_string(),
                    title: row.get("title"),
                    status: row.get("status"),
                    reporters: row.get("affected_reporters"),
                }))
            }

            /// Stores many captured reports at once on existing issues (benchmarks, importers),
            /// registering the match keys given: batched multi-row inserts and one
            /// `reports.imported` event, in one transaction.
            pub async fn import_reports(&self, project_key: &str, reports: &[$crate::models::ImportedReport]) -> StoreResult<usize> {
                let (Some(low), Some(high)) = (
                    reports.iter().map(|r| r.issue_number).min(),
                    reports.iter().map(|r| r.issue_number).max(),
                ) else {
                    return Ok(0);
                };
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                let project_id: i64 = sqlx::query_scalar("select id from projects where key = $1")
                    .bind(project_key)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("project {project_key}")))?;
                let ids: std::collections::HashMap<i64, i64> = sqlx::query_as::<_, (i64, i64)>(
                    "select number, id from issues where project_id = $1 and number between $2 and $3",
                )
                .bind(project_id)
                .bind(low)
                .bind(high)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
                let issue_id = |number: i64| {
                    ids.get(&number).copied().ok_or_else(|| StoreError::NotFound(format!("issue {project_key}-{number}")))
                };
                // Small batches stay under both databases' limits on bound values.
                for batch in reports.chunks(500) {
                    let rows = batch.iter().map(|r| Ok((issue_id(r.issue_number)?, r))).collect::<StoreResult<Vec<_>>>()?;
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "insert into reports (issue_id, status_token_hash, reporter_email, app_version, context, created_at, updated_at) ",
                    );
                    insert.push_values(&rows, |mut b, (id, r)| {
                        b.push_bind(*id)
                            .push_bind(r.status_token_hash.clone())
                            .push_bind(r.reporter_email.clone())
                            .push_bind(r.app_version.clone())
                            .push_bind(r.context.to_string())
                            .push_bind(now)
                            .push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                    let keyed: Vec<_> = rows.iter().filter_map(|(id, r)| r.match_key.as_ref().map(|k| (*id, k))).collect();
                    if !keyed.is_empty() {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(
                            "insert into issue_fingerprints (project_id, hash, kind, issue_id, created_at, updated_at) ",
                        );
                        insert.push_values(&keyed, |mut b, (id, key)| {
                            b.push_bind(project_id)
                                .push_bind(key.hash.clone())
                                .push_bind(key.kind.as_str())
                                .push_bind(*id)
                                .push_bind(now)
                                .push_bind(now);
                        });
                        insert.push(" on conflict do nothing");
                        insert.build().execute(&mut *tx).await?;
                    }
                }
                sqlx::query(
                    "update issues set affected_reporters = (select count(distinct coalesce(r.reporter_email, 'report:' || r.id)) \
                     from reports r where r.issue_id = issues.id) where project_id = $1 and number between $2 and $3",
                )
                .bind(project_id)
                .bind(low)
                .bind(high)
                .execute(&mut *tx)
                .await?;
                let payload = serde_json::json!({"project": project_key, "count": reports.len()});
                self.append_event(&mut tx, "reports.imported", Some(project_id), None, Actor::SYSTEM, payload).await?;
                tx.commit().await?;
                Ok(reports.len())
            }

            /// The issues that carry a match key, best first: open ones, then the most recently
            /// resolved. One probe of the fingerprints' primary key.
            async fn known_issues(
                tx: &mut Tx,
                project_id: i64,
                hash: &str,
            ) -> StoreResult<Vec<moth_core::fingerprint::KnownIssue<(i64, IssueRef)>>> {
                let found = sqlx::query(
                    "select i.id, p.key, i.number, i.status, i.resolution, i.fixed_in_version, i.duplicate_of_id \
                     from issue_fingerprints f join issues i on i.id = f.issue_id join projects p on p.id = i.project_id \
                     where f.project_id = $1 and f.hash = $2 \
                     order by case when i.status in ('resolved', 'closed') then 1 else 0 end, \
                     coalesce(i.resolved_at, i.updated_at) desc, i.id desc limit 20",
                )
                .bind(project_id)
                .bind(hash)
                .fetch_all(&mut **tx)
                .await?;
                // A duplicate's reports follow its original: a report matching a duplicate is
                // judged by, and joins, the end of its duplicate chain (rare, so looked up apart).
                let mut rows = Vec::with_capacity(found.len());
                for row in found {
                    match row.get::<Option<i64>, _>("duplicate_of_id") {
                        Some(_) => {
                            let root = sqlx::query(
                                "with recursive up(id, next) as (select id, duplicate_of_id from issues where id = $1 \
                                 union select i.id, i.duplicate_of_id from issues i join up on i.id = up.next) \
                                 select i.id, p.key, i.number, i.status, i.resolution, i.fixed_in_version \
                                 from up join issues i on i.id = up.id join projects p on p.id = i.project_id where up.next is null",
                            )
                            .bind(row.get::<i64, _>("id"))
                            .fetch_optional(&mut **tx)
                            .await?;
                            rows.push(root.unwrap_or(row));
                        }
                        None => rows.push(row),
                    }
                }
                rows.into_iter()
                    .map(|r| {
                        let corrupt = $crate::error::corrupt;
                        let key: String = r.get("key");
                        let issue_ref = IssueRef::parse(&format!("{key}-{}", r.get::<i64, _>("number")))?;
                        Ok(moth_core::fingerprint::KnownIssue {
                            key: (r.get("id"), issue_ref),
                            status: moth_core::Status::parse(r.get("status")).map_err(corrupt)?,
                            resolution: r
                                .get::<Option<String>, _>("resolution")
                                .map(|t| moth_core::Resolution::parse(&t))
                                .transpose()
                                .map_err(corrupt)?,
                            // A version that no longer parses cannot judge a regression.
                            fixed_in_version: r
                                .get::<Option<String>, _>("fixed_in_version")
                                .and_then(|t| moth_core::Version::parse("fixed_in_version", &t).ok()),
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use intake_queries;

/// Rows of a batch of reports written together at its end: each report's attachments and its
/// idempotency key.
#[derive(Default)]
pub(crate) struct BatchRows<'a> {
    pub attachments: Vec<(i64, &'a crate::models::NewAttachment, i64)>,
    pub keys: Vec<KeyedReport<'a>>,
}

/// A report filed under an idempotency key in the current batch.
pub(crate) struct KeyedReport<'a> {
    pub project_id: i64,
    pub key_hash: &'a str,
    pub report_id: i64,
    pub issue: moth_core::IssueRef,
    pub outcome: crate::models::ReportOutcome,
    pub now: i64,
}

impl BatchRows<'_> {
    /// What an earlier report of this batch sent under the key was filed as.
    pub fn keyed(
        &self,
        project_id: i64,
        key_hash: &str,
    ) -> Option<(moth_core::IssueRef, crate::models::ReportOutcome)> {
        self.keys
            .iter()
            .find(|k| k.project_id == project_id && k.key_hash == key_hash)
            .map(|k| (k.issue.clone(), k.outcome.clone()))
    }
}
