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

            /// Writes a batch of reports in one transaction with one statement of each kind:
            /// their idempotency keys and match keys are read once, each report is decided in
            /// order in memory (a later one sees what an earlier one filed or reopened), then the
            /// new issues, the reports and the joined issues' tallies are written together, and
            /// the events appended last, after every row lock taken.
            async fn write_reports(
                &self,
                batch: &[$crate::models::ReportFiling],
            ) -> StoreResult<Vec<$crate::models::ReportReceipt>> {
                use moth_core::fingerprint::{MatchOutcome, report_version};
                use $crate::intake::{Plan, Target};
                use $crate::models::{ReportOutcome, ReportReceipt};
                let mut tx = self.begin_write().await?;
                let now = now_micros();
                let project_ids = Self::batch_project_ids(&mut tx, batch).await?;
                // A resend racing its first attempt, or two reports of one new problem in two
                // processes, wait here for each other (PostgreSQL); in one order, so two batches
                // cannot each hold what the other waits for.
                let mut locks: Vec<&str> = batch
                    .iter()
                    .flat_map(|f| {
                        let r = &f.report;
                        r.idempotency_key_hash.as_deref().into_iter().chain(r.match_key.as_ref().map(|k| k.hash.as_str()))
                    })
                    .collect();
                locks.sort_unstable();
                locks.dedup();
                for hash in locks {
                    Self::lock_fingerprint(&mut tx, hash).await?;
                }
                let keyed: Vec<(i64, &str)> = batch
                    .iter()
                    .zip(&project_ids)
                    .filter_map(|(f, p)| f.report.idempotency_key_hash.as_deref().map(|k| (*p, k)))
                    .collect();
                let earlier = Self::earlier_reports(&mut tx, &keyed).await?;
                let matched: Vec<(i64, &str)> = batch
                    .iter()
                    .zip(&project_ids)
                    .filter_map(|(f, p)| f.report.match_key.as_ref().map(|k| (*p, k.hash.as_str())))
                    .collect();
                let (mut matcher, stored_refs) = Self::known_matches(&mut tx, &matched).await?;

                // Each report decided in order, nothing written yet.
                let mut plans = Vec::with_capacity(batch.len());
                let mut first_with_key: std::collections::HashMap<(i64, &str), usize> = Default::default();
                for (i, (filing, &project_id)) in batch.iter().zip(&project_ids).enumerate() {
                    let report = &filing.report;
                    if let Some(key) = report.idempotency_key_hash.as_deref() {
                        if let Some(&first) = first_with_key.get(&(project_id, key)) {
                            plans.push(Plan::Again(first));
                            continue;
                        }
                        if let Some((issue, outcome)) = earlier.get(&(project_id, key.to_string())) {
                            plans.push(Plan::Replay(issue.clone(), outcome.clone()));
                            continue;
                        }
                        first_with_key.insert((project_id, key), i);
                    }
                    let version = report_version(report.app_version.as_deref(), report.build.as_deref());
                    let key = report.match_key.as_ref().map(|k| (project_id, k.hash.as_str()));
                    let outcome = match key {
                        Some((project_id, hash)) => matcher.decide(project_id, hash, version.as_ref()),
                        None => MatchOutcome::New,
                    };
                    let status = report.issue.fields.status;
                    plans.push(match outcome {
                        MatchOutcome::New => Plan::File { n: matcher.file(key, status, now), suspect: None },
                        MatchOutcome::PossibleRegression { of } => Plan::File { n: matcher.file(key, status, now), suspect: Some(of) },
                        MatchOutcome::Occurrence { of } => Plan::Join { target: of, outcome: ReportOutcome::Duplicate },
                        MatchOutcome::Regression { of } => {
                            matcher.reopen(of, now);
                            Plan::Join { target: of, outcome: ReportOutcome::Regression }
                        }
                        MatchOutcome::FixedLater { of } => Plan::Join { target: of, outcome: ReportOutcome::AlreadyFixed },
                    });
                }

                // The new issues, one statement of each kind.
                let filing_of: Vec<usize> = plans
                    .iter()
                    .enumerate()
                    .filter(|(_, p)| matches!(p, Plan::File { .. }))
                    .map(|(i, _)| i)
                    .collect();
                let guests: Vec<GuestReporter> = filing_of
                    .iter()
                    .map(|&i| GuestReporter { name: batch[i].report.reporter_name.clone(), email: batch[i].report.reporter_email.clone() })
                    .collect();
                let drafts: Vec<IssueDraft> = filing_of
                    .iter()
                    .zip(&guests)
                    .map(|(&i, guest)| IssueDraft { project_key: &batch[i].project_key, new: &batch[i].report.issue, guest, actor: Actor::SYSTEM })
                    .collect();
                let (filed, mut events) = if drafts.is_empty() {
                    (Vec::new(), Vec::new())
                } else {
                    self.insert_issue_rows(&mut tx, &drafts).await?
                };
                let resolve = |target: Target| -> StoreResult<(i64, IssueRef)> {
                    match target {
                        Target::Stored(id) => stored_refs
                            .get(&id)
                            .cloned()
                            .map(|r| (id, r))
                            .ok_or_else(|| StoreError::Corrupt(format!("issue {id} was matched but not read"))),
                        Target::Filed(n) => Ok((filed[n].issue_id, filed[n].issue_ref.clone())),
                    }
                };
                let fingerprints: Vec<(i64, &moth_core::fingerprint::MatchKey, i64)> = plans
                    .iter()
                    .zip(batch.iter().zip(&project_ids))
                    .filter_map(|(plan, (f, p))| match (plan, &f.report.match_key) {
                        (Plan::File { n, .. }, Some(key)) => Some((*p, key, filed[*n].issue_id)),
                        _ => None,
                    })
                    .collect();
                if !fingerprints.is_empty() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "insert into issue_fingerprints (project_id, hash, kind, issue_id, created_at, updated_at) ",
                    );
                    insert.push_values(&fingerprints, |mut row, (project_id, key, issue_id)| {
                        row.push_bind(*project_id).push_bind(&key.hash).push_bind(key.kind.as_str())
                            .push_bind(*issue_id).push_bind(now).push_bind(now);
                    });
                    insert.build().execute(&mut *tx).await?;
                }

                // Where each stored report goes, and what it adds to its issue's tallies: one
                // more occurrence for a report that joins, one more person unless a report on
                // the issue (stored or earlier in the batch) has its e-mail; a report without
                // one counts as a person of its own.
                // (issue, its reference, the outcome, the fixed issue a new one may be a
                // regression of), for each report stored.
                let mut destination: Vec<Option<(i64, IssueRef, ReportOutcome, Option<i64>)>> = Vec::with_capacity(plans.len());
                for plan in &plans {
                    destination.push(match plan {
                        Plan::File { n, suspect } => {
                            let (outcome, suspect) = match suspect {
                                Some(of) => {
                                    let (id, of) = resolve(*of)?;
                                    (ReportOutcome::PossibleRegression { of }, Some(id))
                                }
                                None => (ReportOutcome::Filed, None),
                            };
                            Some((filed[*n].issue_id, filed[*n].issue_ref.clone(), outcome, suspect))
                        }
                        Plan::Join { target, outcome } => {
                            let (id, issue_ref) = resolve(*target)?;
                            Some((id, issue_ref, outcome.clone(), None))
                        }
                        Plan::Replay(..) | Plan::Again(_) => None,
                    });
                }
                let joined_stored: Vec<(i64, &str)> = plans
                    .iter()
                    .zip(batch)
                    .filter_map(|(plan, f)| match plan {
                        Plan::Join { target: Target::Stored(id), .. } => f.report.reporter_email.as_deref().map(|e| (*id, e)),
                        _ => None,
                    })
                    .collect();
                let mut seen = Self::reporters_on(&mut tx, &joined_stored).await?;
                // Per issue: (occurrences added, people added, possible regression of).
                let mut tallies: Vec<(i64, i64, i64, Option<i64>)> = Vec::new();
                for ((plan, filing), dest) in plans.iter().zip(batch).zip(&destination) {
                    let Some((issue_id, _, _, suspect)) = dest else { continue };
                    let fresh = match &filing.report.reporter_email {
                        Some(e) => seen.insert((*issue_id, e.clone())),
                        None => true,
                    };
                    let occurrence = i64::from(matches!(plan, Plan::Join { .. }));
                    match tallies.iter_mut().find(|t| t.0 == *issue_id) {
                        Some(t) => {
                            t.1 += occurrence;
                            t.2 += i64::from(fresh);
                            t.3 = t.3.or(*suspect);
                        }
                        None => tallies.push((*issue_id, occurrence, i64::from(fresh), *suspect)),
                    }
                }
                if !tallies.is_empty() {
                    let mut update = sqlx::QueryBuilder::<$db>::new("with v (id, occurrences, people, suspect) as (");
                    update.push_values(&tallies, |mut row, (id, occurrences, people, suspect)| {
                        row.push_bind(*id).push_bind(*occurrences).push_bind(*people).push_bind(*suspect);
                    });
                    update.push(
                        ") update issues set duplicate_count = duplicate_count + v.occurrences, \
                         affected_reporters = affected_reporters + v.people, \
                         possible_regression_of_id = coalesce(v.suspect, issues.possible_regression_of_id), updated_at = ",
                    );
                    update.push_bind(now);
                    update.push(" from v where issues.id = v.id");
                    update.build().execute(&mut *tx).await?;
                }

                // The reports, one statement; their ids matched back by status token.
                let stored: Vec<(&$crate::models::ReportFiling, i64)> = batch
                    .iter()
                    .zip(&destination)
                    .filter_map(|(f, d)| d.as_ref().map(|(id, ..)| (f, *id)))
                    .collect();
                let mut report_ids: std::collections::HashMap<String, i64> = Default::default();
                if !stored.is_empty() {
                    let mut insert = sqlx::QueryBuilder::<$db>::new(
                        "insert into reports (issue_id, status_token_hash, reporter_name, reporter_email, page_url, app_version, \
                         build, context, screenshot_attachment_id, created_at, updated_at) ",
                    );
                    insert.push_values(&stored, |mut row, (filing, issue_id)| {
                        let report = &filing.report;
                        let screenshot = filing.attachments.iter().find(|a| a.is_screenshot).map(|a| a.id.as_str());
                        row.push_bind(*issue_id)
                            .push_bind(&report.status_token_hash)
                            .push_bind(&report.reporter_name)
                            .push_bind(&report.reporter_email)
                            .push_bind(&report.page_url)
                            .push_bind(&report.app_version)
                            .push_bind(&report.build)
                            .push_bind(report.context.as_str())
                            .push_bind(screenshot)
                            .push_bind(now)
                            .push_bind(now);
                    });
                    insert.push(" returning id, status_token_hash");
                    for row in insert.build().fetch_all(&mut *tx).await? {
                        report_ids.insert(row.get("status_token_hash"), row.get("id"));
                    }
                }

                // Receipts, events, regressions, attachments and keys, in the batch's order.
                let mut later = $crate::intake::BatchRows::default();
                let mut receipts: Vec<ReportReceipt> = Vec::with_capacity(plans.len());
                for (i, (plan, filing)) in plans.iter().zip(batch).enumerate() {
                    let project_id = project_ids[i];
                    let (issue_id, issue_ref, result) = match (plan, &destination[i]) {
                        (Plan::Replay(issue, outcome), _) => {
                            receipts.push(ReportReceipt { issue: issue.clone(), outcome: outcome.clone(), replayed: true });
                            continue;
                        }
                        (Plan::Again(first), _) => {
                            let first = &receipts[*first];
                            receipts.push(ReportReceipt { issue: first.issue.clone(), outcome: first.outcome.clone(), replayed: true });
                            continue;
                        }
                        (_, Some((issue_id, issue_ref, outcome, _))) => (*issue_id, issue_ref.clone(), outcome.clone()),
                        (_, None) => unreachable!("every filed or joined report has a destination"),
                    };
                    let report = &filing.report;
                    let report_id = *report_ids
                        .get(&report.status_token_hash)
                        .ok_or_else(|| StoreError::Corrupt("a report was not inserted".into()))?;
                    later.attachments.extend(filing.attachments.iter().map(|a| (issue_id, a, now)));
                    if let Some(key_hash) = &report.idempotency_key_hash {
                        later.keys.push($crate::intake::KeyedReport { project_id, key_hash, report_id, outcome: result.clone(), now });
                    }
                    let mut payload = serde_json::json!({
                        "issue": issue_ref.to_string(), "report_id": report_id, "attachments": filing.attachments.len(),
                        "app_version": report.app_version, "build": report.build,
                        "match": report.match_key.as_ref().map(|k| k.kind.as_str()),
                    });
                    if matches!(plan, Plan::Join { .. }) {
                        if result == ReportOutcome::Regression {
                            let version = report_version(report.app_version.as_deref(), report.build.as_deref());
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
                            self.change_issue(&mut tx, &issue_ref, change, Actor::SYSTEM, Some(note)).await?;
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
                    receipts.push(ReportReceipt { issue: issue_ref, outcome: result, replayed: false });
                }
                Self::insert_batch_rows(&mut tx, &later).await?;
                if !events.is_empty() {
                    self.append_events(&mut tx, &events).await?;
                }
                tx.commit().await?;
                Ok(receipts)
            }

            /// Each filing's project id, each project looked up once.
            async fn batch_project_ids(tx: &mut Tx, batch: &[$crate::models::ReportFiling]) -> StoreResult<Vec<i64>> {
                let mut projects: Vec<(&str, i64)> = Vec::new();
                let mut ids = Vec::with_capacity(batch.len());
                for filing in batch {
                    let key = filing.project_key.as_str();
                    let id = match projects.iter().find(|(known, _)| *known == key) {
                        Some((_, id)) => *id,
                        None => {
                            let id = Self::project_id(&mut **tx, key).await?;
                            projects.push((key, id));
                            id
                        }
                    };
                    ids.push(id);
                }
                Ok(ids)
            }

            /// ` where {first} in (..) and {second} in (..)`, for pairs read in one query (a
            /// first of one pair with the second of another may match too; callers look rows up
            /// by the exact pair).
            fn push_pairs(query: &mut sqlx::QueryBuilder<'_, $db>, first: &str, second: &str, pairs: &[(i64, &str)]) {
                let mut firsts: Vec<i64> = pairs.iter().map(|(f, _)| *f).collect();
                firsts.sort_unstable();
                firsts.dedup();
                let mut seconds: Vec<String> = pairs.iter().map(|(_, s)| s.to_string()).collect();
                seconds.sort_unstable();
                seconds.dedup();
                query.push(format!(" where {first} in ("));
                let mut list = query.separated(", ");
                for f in firsts {
                    list.push_bind(f);
                }
                query.push(format!(") and {second} in ("));
                let mut list = query.separated(", ");
                for s in seconds {
                    list.push_bind(s);
                }
                query.push(")");
            }

            /// The issue each report filed under these idempotency keys is on now (it follows
            /// a merge), and what intake answered then.
            async fn earlier_reports(
                tx: &mut Tx,
                keys: &[(i64, &str)],
            ) -> StoreResult<std::collections::HashMap<(i64, String), (IssueRef, $crate::models::ReportOutcome)>> {
                let mut found = std::collections::HashMap::new();
                if keys.is_empty() {
                    return Ok(found);
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "select k.project_id, k.key_hash, p.key, i.number, k.outcome from intake_requests k \
                     join reports r on r.id = k.report_id join issues i on i.id = r.issue_id join projects p on p.id = i.project_id",
                );
                Self::push_pairs(&mut query, "k.project_id", "k.key_hash", keys);
                for row in query.build().fetch_all(&mut **tx).await? {
                    let issue_ref = IssueRef::parse(&format!("{}-{}", row.get::<String, _>("key"), row.get::<i64, _>("number")))?;
                    let outcome = $crate::models::ReportOutcome::from_answer(row.get("outcome"));
                    found.insert((row.get("project_id"), row.get("key_hash")), (issue_ref, outcome));
                }
                Ok(found)
            }

            /// The stored issues carrying these match keys, with what decides a match (a
            /// duplicate's fingerprint leads to the end of its duplicate chain, looked up apart:
            /// rare), and the references of the issues reports may join.
            async fn known_matches(
                tx: &mut Tx,
                keys: &[(i64, &str)],
            ) -> StoreResult<($crate::intake::Matcher, std::collections::HashMap<i64, IssueRef>)> {
                let mut matcher = $crate::intake::Matcher::default();
                let mut refs = std::collections::HashMap::new();
                if keys.is_empty() {
                    return Ok((matcher, refs));
                }
                let mut query = sqlx::QueryBuilder::<$db>::new(
                    "select f.project_id, f.hash, i.id, p.key, i.number, i.status, i.resolution, i.fixed_in_version, \
                     i.duplicate_of_id, coalesce(i.resolved_at, i.updated_at) as at \
                     from issue_fingerprints f join issues i on i.id = f.issue_id join projects p on p.id = i.project_id",
                );
                Self::push_pairs(&mut query, "f.project_id", "f.hash", keys);
                for row in query.build().fetch_all(&mut **tx).await? {
                    let row_id: i64 = row.get("id");
                    let row_state = Self::issue_state(&row)?;
                    let joins = match row.get::<Option<i64>, _>("duplicate_of_id") {
                        Some(_) => sqlx::query(
                            "with recursive up(id, next) as (select id, duplicate_of_id from issues where id = $1 \
                             union select i.id, i.duplicate_of_id from issues i join up on i.id = up.next) \
                             select i.id, p.key, i.number, i.status, i.resolution, i.fixed_in_version \
                             from up join issues i on i.id = up.id join projects p on p.id = i.project_id where up.next is null",
                        )
                        .bind(row_id)
                        .fetch_optional(&mut **tx)
                        .await?,
                        None => None,
                    };
                    let joins = joins.as_ref().unwrap_or(&row);
                    let joins_id: i64 = joins.get("id");
                    let issue_ref = IssueRef::parse(&format!("{}-{}", joins.get::<String, _>("key"), joins.get::<i64, _>("number")))?;
                    refs.insert(joins_id, issue_ref);
                    let hash: String = row.get("hash");
                    matcher.add_stored(
                        (row.get("project_id"), &hash),
                        (row_id, &row_state),
                        row.get("at"),
                        (joins_id, Self::issue_state(joins)?),
                    );
                }
                Ok((matcher, refs))
            }

            fn issue_state(row: &<$db as sqlx::Database>::Row) -> StoreResult<$crate::intake::IssueState> {
                let corrupt = $crate::error::corrupt;
                Ok($crate::intake::IssueState {
                    status: moth_core::Status::parse(row.get("status")).map_err(corrupt)?,
                    resolution: row
                        .get::<Option<String>, _>("resolution")
                        .map(|t| moth_core::Resolution::parse(&t))
                        .transpose()
                        .map_err(corrupt)?,
                    // A version that no longer parses cannot judge a regression.
                    fixed_in_version: row
                        .get::<Option<String>, _>("fixed_in_version")
                        .and_then(|t| moth_core::Version::parse("fixed_in_version", &t).ok()),
                })
            }

            /// The (issue, e-mail) pairs among these that a stored report already has.
            async fn reporters_on(
                tx: &mut Tx,
                pairs: &[(i64, &str)],
            ) -> StoreResult<std::collections::HashSet<(i64, String)>> {
                let mut found = std::collections::HashSet::new();
                if pairs.is_empty() {
                    return Ok(found);
                }
                let mut query = sqlx::QueryBuilder::<$db>::new("select distinct issue_id, reporter_email from reports");
                Self::push_pairs(&mut query, "issue_id", "reporter_email", pairs);
                for row in query.build().fetch_all(&mut **tx).await? {
                    found.insert((row.get("issue_id"), row.get("reporter_email")));
                }
                Ok(found)
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

            /// The known issue a report with this match key would join, for the widget's question
            /// before sending ("This looks like WEB-12").
            pub async fn known_issue(&self, project_key: &str, hash: &str) -> StoreResult<Option<$crate::models::KnownReport>> {
                let mut tx = self.reader().begin().await?;
                let project_id = match Self::project_id(&mut *tx, project_key).await {
                    Err(StoreError::NotFound(_)) => return Ok(None),
                    found => found?,
                };
                let (matcher, refs) = Self::known_matches(&mut tx, &[(project_id, hash)]).await?;
                let best = match matcher.decide(project_id, hash, None) {
                    moth_core::fingerprint::MatchOutcome::New => return Ok(None),
                    moth_core::fingerprint::MatchOutcome::Occurrence { of }
                    | moth_core::fingerprint::MatchOutcome::Regression { of }
                    | moth_core::fingerprint::MatchOutcome::FixedLater { of }
                    | moth_core::fingerprint::MatchOutcome::PossibleRegression { of } => of,
                };
                let $crate::intake::Target::Stored(best) = best else {
                    return Err(StoreError::Corrupt("a match of nothing filed yet".into()));
                };
                let row = sqlx::query("select title, status, affected_reporters from issues where id = $1")
                    .bind(best)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                let issue_ref = refs.get(&best).ok_or_else(|| StoreError::Corrupt(format!("issue {best} was matched but not read")))?;
                Ok(Some($crate::models::KnownReport {
                    id: issue_ref.to_string(),
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
                let project_id = Self::project_id(&mut *tx, project_key).await?;
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
    pub outcome: crate::models::ReportOutcome,
    pub now: i64,
}

/// An issue a report of the batch may join: one already stored (by id), or the n-th one the
/// batch files (its id is known once the batch's issues are inserted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Target {
    Stored(i64),
    Filed(usize),
}

/// What the batch does with one report, decided before anything is written.
pub(crate) enum Plan {
    /// Sent before under its idempotency key: answered as then, nothing stored.
    Replay(moth_core::IssueRef, crate::models::ReportOutcome),
    /// Sent twice within the batch: answered as the earlier report (by index).
    Again(usize),
    /// Files the n-th new issue of the batch; a possible regression of the suspect.
    File { n: usize, suspect: Option<Target> },
    /// Joins a known issue (a duplicate, a regression or a report from before a fix).
    Join {
        target: Target,
        outcome: crate::models::ReportOutcome,
    },
}

/// One row of a match key's known issues: the fingerprint's issue orders it (open ones first,
/// then the most recently resolved, then the newest), the issue it resolves to (the end of a
/// duplicate chain) is what a report is judged by and joins.
struct Candidate {
    row: Target,
    closed: bool,
    at: i64,
    joins: Target,
}

/// What decides a match: the status, resolution and fix of an issue.
#[derive(Clone)]
pub(crate) struct IssueState {
    pub status: moth_core::Status,
    pub resolution: Option<moth_core::Resolution>,
    pub fixed_in_version: Option<moth_core::Version>,
}

/// The known issues of a batch's match keys, read once, kept in step in memory as the batch's
/// reports are decided in order: a later report sees what an earlier one filed or reopened,
/// exactly as if each had been written before the next was matched.
#[derive(Default)]
pub(crate) struct Matcher {
    by_key: std::collections::HashMap<(i64, String), Vec<Candidate>>,
    states: std::collections::HashMap<Target, IssueState>,
    filed: usize,
}

/// How many known issues a match key is judged by, as the single-report lookup reads.
const MOST_KNOWN: usize = 20;

impl Matcher {
    /// A stored fingerprint row: `row` carries the key, `joins` is where its reports go.
    pub fn add_stored(
        &mut self,
        (project_id, hash): (i64, &str),
        (row, row_state): (i64, &IssueState),
        at: i64,
        (joins, state): (i64, IssueState),
    ) {
        self.states.insert(Target::Stored(joins), state);
        self.by_key
            .entry((project_id, hash.to_string()))
            .or_default()
            .push(Candidate {
                row: Target::Stored(row),
                closed: row_state.status.is_done(),
                at,
                joins: Target::Stored(joins),
            });
    }

    /// What a report with this key and version becomes now.
    pub fn decide(
        &self,
        project_id: i64,
        hash: &str,
        version: Option<&moth_core::Version>,
    ) -> moth_core::fingerprint::MatchOutcome<Target> {
        let mut known: Vec<&Candidate> = self
            .by_key
            .get(&(project_id, hash.to_string()))
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        // Filed ones are the newest issues of all.
        let newness = |t: Target| match t {
            Target::Stored(id) => (0, id),
            Target::Filed(n) => (1, n as i64),
        };
        known.sort_by(|a, b| {
            (
                a.closed,
                std::cmp::Reverse(a.at),
                std::cmp::Reverse(newness(a.row)),
            )
                .cmp(&(
                    b.closed,
                    std::cmp::Reverse(b.at),
                    std::cmp::Reverse(newness(b.row)),
                ))
        });
        let known: Vec<moth_core::fingerprint::KnownIssue<Target>> = known
            .into_iter()
            .take(MOST_KNOWN)
            .map(|c| {
                let state = &self.states[&c.joins];
                moth_core::fingerprint::KnownIssue {
                    key: c.joins,
                    status: state.status,
                    resolution: state.resolution,
                    fixed_in_version: state.fixed_in_version.clone(),
                }
            })
            .collect();
        moth_core::fingerprint::decide(&known, version)
    }

    /// A new issue the batch files (under its key, if it has one): its place in the batch.
    pub fn file(&mut self, key: Option<(i64, &str)>, status: moth_core::Status, now: i64) -> usize {
        let n = self.filed;
        self.filed += 1;
        let target = Target::Filed(n);
        self.states.insert(
            target,
            IssueState {
                status,
                resolution: None,
                fixed_in_version: None,
            },
        );
        if let Some((project_id, hash)) = key {
            self.by_key
                .entry((project_id, hash.to_string()))
                .or_default()
                .push(Candidate {
                    row: target,
                    closed: status.is_done(),
                    at: now,
                    joins: target,
                });
        }
        n
    }

    /// A regression reopens its issue: open again (triaged), and changed now.
    pub fn reopen(&mut self, target: Target, now: i64) {
        if let Some(state) = self.states.get_mut(&target) {
            state.status = moth_core::Status::Triaged;
            state.resolution = None;
        }
        for candidate in self.by_key.values_mut().flatten() {
            if candidate.row == target {
                candidate.closed = false;
                candidate.at = now;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use moth_core::fingerprint::MatchOutcome;
    use moth_core::{Resolution, Status, Version};

    fn state(status: Status, fixed: Option<&str>) -> IssueState {
        IssueState {
            status,
            resolution: status.is_done().then_some(Resolution::Fixed),
            fixed_in_version: fixed.map(|v| Version::parse("fixed_in_version", v).unwrap()),
        }
    }

    fn stored(matcher: &mut Matcher, id: i64, status: Status, fixed: Option<&str>, at: i64) {
        let s = state(status, fixed);
        matcher.add_stored((1, "k"), (id, &s), at, (id, s.clone()));
    }

    #[test]
    fn a_later_report_joins_what_an_earlier_one_of_the_batch_filed() {
        let mut matcher = Matcher::default();
        assert_eq!(matcher.decide(1, "k", None), MatchOutcome::New);
        let n = matcher.file(Some((1, "k")), Status::New, 10);
        assert_eq!(
            matcher.decide(1, "k", None),
            MatchOutcome::Occurrence {
                of: Target::Filed(n)
            }
        );
        // Another project's key, and a report without a key, are not affected.
        assert_eq!(matcher.decide(2, "k", None), MatchOutcome::New);
        let other = matcher.file(None, Status::New, 10);
        assert_ne!(other, n);
        assert_eq!(
            matcher.decide(1, "k", None),
            MatchOutcome::Occurrence {
                of: Target::Filed(n)
            }
        );
    }

    #[test]
    fn an_open_issue_wins_and_among_fixed_ones_the_latest() {
        let mut matcher = Matcher::default();
        stored(&mut matcher, 1, Status::Resolved, Some("1.0.0"), 100);
        stored(&mut matcher, 2, Status::Resolved, Some("2.0.0"), 200);
        let v = |t: &str| Version::parse("app_version", t).unwrap();
        assert_eq!(
            matcher.decide(1, "k", Some(&v("2.1.0"))),
            MatchOutcome::Regression {
                of: Target::Stored(2)
            }
        );
        assert_eq!(
            matcher.decide(1, "k", Some(&v("1.5.0"))),
            MatchOutcome::FixedLater {
                of: Target::Stored(2)
            }
        );
        stored(&mut matcher, 3, Status::InProgress, None, 50);
        assert_eq!(
            matcher.decide(1, "k", Some(&v("2.1.0"))),
            MatchOutcome::Occurrence {
                of: Target::Stored(3)
            }
        );
    }

    #[test]
    fn a_regression_reopens_its_issue_for_the_reports_after_it() {
        let mut matcher = Matcher::default();
        stored(&mut matcher, 7, Status::Resolved, Some("1.0.0"), 100);
        let later = Version::parse("app_version", "1.2.0").unwrap();
        let MatchOutcome::Regression { of } = matcher.decide(1, "k", Some(&later)) else {
            panic!("a report from after the fix is a regression");
        };
        matcher.reopen(of, 300);
        // Reopened: the next report, even one naming no version, is another occurrence.
        assert_eq!(
            matcher.decide(1, "k", None),
            MatchOutcome::Occurrence {
                of: Target::Stored(7)
            }
        );
    }

    #[test]
    fn a_report_without_a_version_on_a_fixed_issue_files_a_new_one_that_the_next_joins() {
        let mut matcher = Matcher::default();
        stored(&mut matcher, 4, Status::Closed, Some("1.0.0"), 100);
        assert_eq!(
            matcher.decide(1, "k", None),
            MatchOutcome::PossibleRegression {
                of: Target::Stored(4)
            }
        );
        let n = matcher.file(Some((1, "k")), Status::New, 200);
        assert_eq!(
            matcher.decide(1, "k", None),
            MatchOutcome::Occurrence {
                of: Target::Filed(n)
            }
        );
    }
}
