//! The store's queries, written once and instantiated for SQLite and PostgreSQL.
//!
//! Both dialects accept the same SQL text here (`$1` placeholders, `returning`, row values);
//! what differs (how a write transaction begins, row locks, serializing event appends) is
//! passed in by each store's `dialect` methods.

/// Implements every store operation for one database type.
macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        use $crate::error::StoreError;
        use $crate::models::*;
        use $crate::rows::*;
        use $crate::time::{now_micros, to_micros};
        use moth_core::{
            ActivityEntry, ApiToken, Attachment, ChangeContext, Comment, Email, Issue, IssueChange, IssueRef,
            NewIssue, Project, SortKey, User, UserSummary,
        };
        use sqlx::{QueryBuilder, Row};
        use time::OffsetDateTime;

        type Tx = sqlx::Transaction<'static, $db>;

        impl $store {
            // ----- users, sessions and tokens -----

            /// How many accounts exist (zero means first run).
            pub async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("select count(*) from users").fetch_one(self.reader()).await?)
            }

            /// Creates an account; the e-mail must be unused.
            pub async fn create_user(&self, user: NewUser) -> StoreResult<User> {
                let mut tx = self.begin_write().await?;
                let created = Self::insert_user(&mut tx, &user).await?;
                tx.commit().await?;
                Ok(created)
            }

            /// Creates the first admin, only while no account exists (first run).
            pub async fn create_first_admin(&self, user: NewUser) -> StoreResult<User> {
                let mut tx = self.begin_write().await?;
                Self::lock_users(&mut tx).await?;
                let count: i64 = sqlx::query_scalar("select count(*) from users").fetch_one(&mut *tx).await?;
                if count > 0 {
                    return Err(StoreError::Conflict {
                        field: "email",
                        message: "Moth is already set up; sign in instead".into(),
                    });
                }
                let created = Self::insert_user(&mut tx, &user).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn insert_user(tx: &mut Tx, user: &NewUser) -> StoreResult<User> {
                let now = now_micros();
                let row: UserRow = sqlx::query_as(
                    "insert into users (email, name, role, password_hash, active, created_at, updated_at) \
                     values ($1, $2, $3, $4, true, $5, $5) \
                     returning id, email, name, role, password_hash, active, created_at",
                )
                .bind(&user.email)
                .bind(&user.name)
                .bind(user.role.as_str())
                .bind(&user.password_hash)
                .bind(now)
                .fetch_one(&mut **tx)
                .await
                .map_err(StoreError::conflict_on("email", format!("a user with e-mail {} already exists", user.email)))?;
                row.into_user()
            }

            /// An account and its password hash, by e-mail.
            pub async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
                let row: Option<UserRow> = sqlx::query_as(&format!("{USER_SELECT} where email = $1"))
                    .bind(email)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|row| {
                    let password_hash = row.password_hash.clone();
                    row.into_user().map(|user| UserCredentials { user, password_hash })
                })
                .transpose()
            }

            /// An account by id.
            pub async fn user(&self, id: i64) -> StoreResult<User> {
                let row: Option<UserRow> = sqlx::query_as(&format!("{USER_SELECT} where id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("user {id}")))?.into_user()
            }

            /// Every account, oldest first.
            pub async fn users(&self) -> StoreResult<Vec<User>> {
                let rows: Vec<UserRow> =
                    sqlx::query_as(&format!("{USER_SELECT} order by id")).fetch_all(self.reader()).await?;
                rows.into_iter().map(UserRow::into_user).collect()
            }

            /// Remembers a signed-in session by the hash of its secret.
            pub async fn create_session(&self, user_id: i64, token_hash: &str, expires_at: OffsetDateTime) -> StoreResult<()> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                sqlx::query("delete from sessions where expires_at < $1").bind(now).execute(&mut *tx).await?;
                sqlx::query(
                    "insert into sessions (token_hash, user_id, expires_at, created_at, updated_at) values ($1, $2, $3, $4, $4)",
                )
                .bind(token_hash)
                .bind(user_id)
                .bind(to_micros(expires_at))
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            /// The server's secret named `name`: the one stored, or `made` when there was none
            /// (then stored, so every later call and every other server process gets the same).
            pub async fn server_secret(&self, name: &str, made: &str) -> StoreResult<String> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "insert into server_secrets (name, value, created_at, updated_at) values ($1, $2, $3, $3) \
                     on conflict (name) do nothing",
                )
                .bind(name)
                .bind(made)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let value: String = sqlx::query_scalar("select value from server_secrets where name = $1")
                    .bind(name)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(value)
            }

            /// The active user a live session belongs to.
            pub async fn session_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(
                    "select u.id, u.email, u.name, u.role, u.password_hash, u.active, u.created_at \
                     from sessions s join users u on u.id = s.user_id \
                     where s.token_hash = $1 and s.expires_at > $2 and u.active",
                )
                .bind(token_hash)
                .bind(now_micros())
                .fetch_optional(self.reader())
                .await?;
                row.map(UserRow::into_user).transpose()
            }

            /// Ends a session.
            pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("delete from sessions where token_hash = $1").bind(token_hash).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            /// Records an API token by the hash of its secret.
            pub async fn create_api_token(
                &self,
                user_id: i64,
                name: &str,
                token_hash: &str,
                expires_at: Option<OffsetDateTime>,
            ) -> StoreResult<ApiToken> {
                let mut tx = self.begin_write().await?;
                let row: ApiTokenRow = sqlx::query_as(
                    "insert into api_tokens (user_id, name, token_hash, expires_at, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $5) \
                     returning id, name, created_at, last_used_at, expires_at, revoked_at",
                )
                .bind(user_id)
                .bind(name)
                .bind(token_hash)
                .bind(expires_at.map(to_micros))
                .bind(now_micros())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                row.into_token()
            }

            /// The active user a live, unrevoked token belongs to.
            pub async fn token_user(&self, token_hash: &str) -> StoreResult<Option<User>> {
                let row: Option<UserRow> = sqlx::query_as(
                    "select u.id, u.email, u.name, u.role, u.password_hash, u.active, u.created_at \
                     from api_tokens t join users u on u.id = t.user_id \
                     where t.token_hash = $1 and t.revoked_at is null \
                     and (t.expires_at is null or t.expires_at > $2) and u.active",
                )
                .bind(token_hash)
                .bind(now_micros())
                .fetch_optional(self.reader())
                .await?;
                row.map(UserRow::into_user).transpose()
            }

            /// A user's tokens, newest first.
            pub async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>> {
                let rows: Vec<ApiTokenRow> = sqlx::query_as(
                    "select id, name, created_at, last_used_at, expires_at, revoked_at from api_tokens \
                     where user_id = $1 order by id desc",
                )
                .bind(user_id)
                .fetch_all(self.reader())
                .await?;
                rows.into_iter().map(ApiTokenRow::into_token).collect()
            }

            /// Revokes one of a user's tokens; it stops working at once.
            pub async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(
                    "update api_tokens set revoked_at = $1, updated_at = $1 \
                     where id = $2 and user_id = $3 and revoked_at is null",
                )
                .bind(now_micros())
                .bind(token_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound(format!("token {token_id}")));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn active_user_by_email(tx: &mut Tx, email: &Email) -> StoreResult<Option<UserSummary>> {
                let row = sqlx::query("select id, name, email from users where email = $1 and active")
                    .bind(email.as_str())
                    .fetch_optional(&mut **tx)
                    .await?;
                Ok(row.map(|r| UserSummary { id: r.get("id"), name: r.get("name"), email: r.get("email") }))
            }

            // ----- projects -----

            /// Creates a project; its key must be unused.
            pub async fn create_project(&self, project: NewProject, actor: Actor) -> StoreResult<Project> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                let row: ProjectRow = sqlx::query_as(
                    "insert into projects (key, name, intake_key, created_at, updated_at) values ($1, $2, $3, $4, $4) \
                     returning id, key, name, intake_key, allowed_origins, components, versions, next_issue_number, \
                     created_at, updated_at",
                )
                .bind(project.key.as_str())
                .bind(project.name.as_str())
                .bind(&project.intake_key)
                .bind(now)
                .fetch_one(&mut *tx)
                .await
                .map_err(StoreError::conflict_on("key", format!("a project with key {} already exists", project.key)))?;
                let payload = serde_json::json!({"key": row.key, "name": row.name});
                self.append_event(&mut tx, "project.created", Some(row.id), None, actor, payload).await?;
                tx.commit().await?;
                row.into_project()
            }

            /// Every project, by key.
            pub async fn projects(&self) -> StoreResult<Vec<Project>> {
                let rows: Vec<ProjectRow> =
                    sqlx::query_as(&format!("{PROJECT_SELECT} order by key")).fetch_all(self.reader()).await?;
                rows.into_iter().map(ProjectRow::into_project).collect()
            }

            /// One project by key.
            pub async fn project(&self, key: &str) -> StoreResult<Project> {
                let row: Option<ProjectRow> = sqlx::query_as(&format!("{PROJECT_SELECT} where key = $1"))
                    .bind(key)
                    .fetch_optional(self.reader())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("project {key}")))?.into_project()
            }

            /// The project an intake key belongs to.
            pub async fn project_by_intake_key(&self, intake_key: &str) -> StoreResult<Option<Project>> {
                let row: Option<ProjectRow> = sqlx::query_as(&format!("{PROJECT_SELECT} where intake_key = $1"))
                    .bind(intake_key)
                    .fetch_optional(self.reader())
                    .await?;
                row.map(ProjectRow::into_project).transpose()
            }

            async fn project_for_update(tx: &mut Tx, key: &str) -> StoreResult<ProjectRow> {
                let row: Option<ProjectRow> = sqlx::query_as(&format!("{PROJECT_SELECT} where key = $1"))
                    .bind(key)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("project {key}")))
            }

            /// Changes a project's settings.
            pub async fn update_project(&self, key: &str, change: ProjectChange, actor: Actor) -> StoreResult<Project> {
                let mut tx = self.begin_write().await?;
                let row = Self::project_for_update(&mut tx, key).await?;
                let name = change.name.map(|n| n.into_string()).unwrap_or(row.name.clone());
                let list = |value: Option<Vec<String>>, current: &str| -> String {
                    value.map(|v| serde_json::to_string(&v).unwrap_or_default()).unwrap_or_else(|| current.to_string())
                };
                let origins = list(change.allowed_origins, &row.allowed_origins);
                let components = list(change.components, &row.components);
                let versions = list(change.versions, &row.versions);
                sqlx::query(
                    "update projects set name = $1, allowed_origins = $2, components = $3, versions = $4, updated_at = $5 \
                     where id = $6",
                )
                .bind(&name)
                .bind(&origins)
                .bind(&components)
                .bind(&versions)
                .bind(now_micros())
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
                let payload = serde_json::json!({"key": key, "name": name});
                self.append_event(&mut tx, "project.updated", Some(row.id), None, actor, payload).await?;
                tx.commit().await?;
                self.project(key).await
            }

            /// Replaces a project's intake key; the old one stops working at once.
            pub async fn rotate_intake_key(&self, key: &str, new_key: &str, actor: Actor) -> StoreResult<Project> {
                let mut tx = self.begin_write().await?;
                let row = Self::project_for_update(&mut tx, key).await?;
                sqlx::query("update projects set intake_key = $1, updated_at = $2 where id = $3")
                    .bind(new_key)
                    .bind(now_micros())
                    .bind(row.id)
                    .execute(&mut *tx)
                    .await?;
                let payload = serde_json::json!({"key": key});
                self.append_event(&mut tx, "project.intake_key_rotated", Some(row.id), None, actor, payload).await?;
                tx.commit().await?;
                self.project(key).await
            }

            // ----- issues -----

            /// Files an issue with the next number of its project.
            ///
            /// Filing is the hottest write path: issues filed at the same moment share one
            /// transaction (see `group_commit`), and the answer is built from what was written
            /// rather than read back, since nothing else can have changed the issue yet.
            pub async fn create_issue(&self, project_key: &str, new: NewIssue, reporter: Option<&UserSummary>) -> StoreResult<Issue> {
                let filing = IssueFiling { project_key: project_key.to_owned(), new, reporter: reporter.cloned() };
                let store = self.clone();
                self.filings.submit(filing, move |batch| async move { store.file_issues(batch).await }).await
            }

            /// Files a batch of issues in one transaction. If any is refused, each is filed alone
            /// instead, so that only the refused one fails.
            async fn file_issues(&self, batch: Vec<IssueFiling>) -> Vec<StoreResult<Issue>> {
                if batch.len() > 1 {
                    if let Ok(issues) = self.file_together(&batch).await {
                        return issues.into_iter().map(Ok).collect();
                    }
                }
                let mut results = Vec::with_capacity(batch.len());
                for filing in &batch {
                    results.push(self.file_together(std::slice::from_ref(filing)).await.map(|mut one| one.remove(0)));
                }
                results
            }

            async fn file_together(&self, batch: &[IssueFiling]) -> StoreResult<Vec<Issue>> {
                let mut tx = self.begin_write().await?;
                let nobody = GuestReporter::default();
                let drafts: Vec<IssueDraft> = batch
                    .iter()
                    .map(|filing| IssueDraft {
                        project_key: &filing.project_key,
                        new: &filing.new,
                        guest: &nobody,
                        actor: Actor(filing.reporter.as_ref().map(|r| r.id)),
                    })
                    .collect();
                let filed = self.insert_issues(&mut tx, &drafts).await?;
                tx.commit().await?;
                batch.iter().zip(filed).map(|(filing, filed)| filing.issue(filed)).collect()
            }

            /// What the reporter's status page shows, found by the hash of the link's secret.
            pub async fn report_status(&self, token_hash: &str) -> StoreResult<Option<ReportStatus>> {
                // A report merged into an original still tells of the issue it was filed on,
                // and the original it now follows.
                let row = sqlx::query(
                    "select p.key, i.number, hp.key as holder_key, h.number as holder_number, r.merged_from_issue_id, \
                     r.screenshot_attachment_id, r.app_version, r.build, r.created_at from reports r \
                     join issues i on i.id = coalesce(r.merged_from_issue_id, r.issue_id) join projects p on p.id = i.project_id \
                     join issues h on h.id = r.issue_id join projects hp on hp.id = h.project_id \
                     where r.status_token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(self.reader())
                .await?;
                let Some(row) = row else { return Ok(None) };
                let key: String = row.get("key");
                let issue_ref = IssueRef::parse(&format!("{key}-{}", row.get::<i64, _>("number")))?;
                let issue = self.issue(&issue_ref).await?;
                let holder: String = row.get("holder_key");
                let holder = IssueRef::parse(&format!("{holder}-{}", row.get::<i64, _>("holder_number")))?;
                let original = match (&issue.fields.duplicate_of, row.get::<Option<i64>, _>("merged_from_issue_id")) {
                    (_, Some(_)) => Some(self.issue(&holder).await?),
                    (Some(original), None) => Some(self.issue(original).await?),
                    (None, None) => None,
                };
                Ok(Some(ReportStatus {
                    issue,
                    original,
                    screenshot_attachment_id: row.get("screenshot_attachment_id"),
                    app_version: row.get("app_version"),
                    build: row.get("build"),
                    reported_at: $crate::time::from_micros(row.get("created_at"))?,
                }))
            }

            /// Inserts issue rows with their labels, watchers and creation events, a statement of
            /// each kind for the whole batch.
            async fn insert_issues(&self, tx: &mut Tx, drafts: &[IssueDraft<'_>]) -> StoreResult<Vec<FiledIssue>> {
                let (filed, events) = self.insert_issue_rows(tx, drafts).await?;
                self.append_events(tx, &events).await?;
                Ok(filed)
            }

            /// `insert_issues` without appending the creation events, which it returns for the
            /// caller to append with its own (intake appends a batch's events last).
            async fn insert_issue_rows(&self, tx: &mut Tx, drafts: &[IssueDraft<'_>]) -> StoreResult<(Vec<FiledIssue>, Vec<NewEvent>)> {
                let now = now_micros();
                let numbers = Self::take_numbers(tx, drafts).await?;
                let mut assignees = Vec::with_capacity(drafts.len());
                for draft in drafts {
                    assignees.push(match &draft.new.assignee_email {
                        Some(email) => Some(Self::active_user_by_email(tx, email).await?.ok_or_else(|| {
                            moth_core::DomainError::field("assignee", format!("no active user has the e-mail {email}"))
                        })?),
                        None => None,
                    });
                }
                let mut insert = QueryBuilder::<$db>::new(
                    "insert into issues (project_id, number, type, title, description, status, severity, severity_rank, \
                     priority, priority_rank, component, affects_version, assignee_id, reporter_user_id, reporter_name, \
                     reporter_email, steps_to_reproduce, expected, actual, environment, created_at, updated_at) ",
                );
                insert.push_values(drafts.iter().zip(&numbers).zip(&assignees), |mut row, ((draft, (project_id, number)), assignee)| {
                    let f = &draft.new.fields;
                    row.push_bind(*project_id)
                        .push_bind(*number)
                        .push_bind(f.issue_type.as_str())
                        .push_bind(f.title.as_str())
                        .push_bind(&f.description)
                        .push_bind(f.status.as_str())
                        .push_bind(f.severity.map(|s| s.as_str()))
                        .push_bind(f.severity.map(|s| s.rank()).unwrap_or(NO_SEVERITY_RANK))
                        .push_bind(f.priority.as_str())
                        .push_bind(f.priority.rank())
                        .push_bind(f.component.as_ref().map(|c| c.as_str()))
                        .push_bind(f.affects_version.as_ref().map(|v| v.as_str()))
                        .push_bind(assignee.as_ref().map(|a| a.id))
                        .push_bind(draft.actor.0)
                        .push_bind(&draft.guest.name)
                        .push_bind(&draft.guest.email)
                        .push_bind(&f.steps_to_reproduce)
                        .push_bind(&f.expected)
                        .push_bind(&f.actual)
                        .push_bind(&f.environment)
                        .push_bind(now)
                        .push_bind(now);
                });
                // Rows come back in no promised order: match them by (project, number).
                insert.push(" returning id, project_id, number");
                let inserted: std::collections::HashMap<(i64, i64), i64> = insert
                    .build()
                    .fetch_all(&mut **tx)
                    .await?
                    .iter()
                    .map(|row| ((row.get("project_id"), row.get("number")), row.get("id")))
                    .collect();
                let mut filed = Vec::with_capacity(drafts.len());
                for ((draft, (project_id, number)), assignee) in drafts.iter().zip(numbers).zip(assignees) {
                    let issue_id = *inserted
                        .get(&(project_id, number))
                        .ok_or_else(|| StoreError::Corrupt(format!("issue {number} was not inserted")))?;
                    let issue_ref = IssueRef::parse(&format!("{}-{number}", draft.project_key))?;
                    filed.push(FiledIssue { issue_id, project_id, issue_ref, assignee, created_at: now });
                }
                let labels: Vec<(i64, &str)> = drafts
                    .iter()
                    .zip(&filed)
                    .flat_map(|(draft, filed)| draft.new.fields.labels.iter().map(|l| (filed.issue_id, l.as_str())))
                    .collect();
                Self::insert_labels(tx, &labels, now).await?;
                let watchers: Vec<(i64, i64)> = drafts
                    .iter()
                    .zip(&filed)
                    .flat_map(|(draft, filed)| {
                        let assignee = filed.assignee.as_ref().map(|a| a.id).filter(|id| Some(*id) != draft.actor.0);
                        [draft.actor.0, assignee].into_iter().flatten().map(|user| (filed.issue_id, user))
                    })
                    .collect();
                Self::add_watchers(tx, &watchers, now).await?;
                let events: Vec<NewEvent> = drafts
                    .iter()
                    .zip(&filed)
                    .map(|(draft, filed)| {
                        let f = &draft.new.fields;
                        NewEvent {
                            kind: "issue.created",
                            project_id: Some(filed.project_id),
                            issue_id: Some(filed.issue_id),
                            actor: draft.actor,
                            payload: serde_json::json!({
                                "issue": filed.issue_ref.to_string(), "type": f.issue_type, "title": f.title,
                                "severity": f.severity, "priority": f.priority,
                            }),
                        }
                    })
                    .collect();
                Ok((filed, events))
            }

            /// The next numbers of each draft's project, in the drafts' order: one counter update
            /// per project, whose row lock keeps numbers unique and gap-free.
            async fn take_numbers(tx: &mut Tx, drafts: &[IssueDraft<'_>]) -> StoreResult<Vec<(i64, i64)>> {
                let mut next: Vec<(&str, i64, i64)> = Vec::new();
                for draft in drafts {
                    if next.iter().any(|(key, _, _)| *key == draft.project_key) {
                        continue;
                    }
                    let count = drafts.iter().filter(|d| d.project_key == draft.project_key).count() as i64;
                    let numbered = sqlx::query(
                        "update projects set next_issue_number = next_issue_number + $2 where key = $1 \
                         returning id, next_issue_number - $2 as first",
                    )
                    .bind(draft.project_key)
                    .bind(count)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("project {}", draft.project_key)))?;
                    next.push((draft.project_key, numbered.get("id"), numbered.get("first")));
                }
                Ok(drafts
                    .iter()
                    .map(|draft| {
                        let slot = next.iter_mut().find(|(key, _, _)| *key == draft.project_key).expect("numbered above");
                        slot.2 += 1;
                        (slot.1, slot.2 - 1)
                    })
                    .collect())
            }

            /// Records attachments whose bytes are already stored, one statement for all: each is
            /// (issue id, attachment, time).
            async fn insert_attachments(tx: &mut Tx, rows: &[(i64, &NewAttachment, i64)]) -> StoreResult<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut insert = QueryBuilder::<$db>::new(
                    "insert into attachments (id, issue_id, filename, content_type, size, object_key, created_at, updated_at) ",
                );
                insert.push_values(rows, |mut row, (issue_id, a, now)| {
                    row.push_bind(&a.id).push_bind(*issue_id).push_bind(&a.filename).push_bind(&a.content_type)
                        .push_bind(a.size).push_bind(&a.object_key).push_bind(*now).push_bind(*now);
                });
                insert.build().execute(&mut **tx).await?;
                Ok(())
            }

            async fn insert_labels(tx: &mut Tx, labels: &[(i64, &str)], now: i64) -> StoreResult<()> {
                if labels.is_empty() {
                    return Ok(());
                }
                let mut insert = QueryBuilder::<$db>::new("insert into issue_labels (issue_id, label, created_at, updated_at) ");
                insert.push_values(labels, |mut row, (issue_id, label)| {
                    row.push_bind(*issue_id).push_bind(*label).push_bind(now).push_bind(now);
                });
                insert.build().execute(&mut **tx).await?;
                Ok(())
            }

            /// Adds (issue, user) watchers; one already watching stays as they were.
            async fn add_watchers(tx: &mut Tx, watchers: &[(i64, i64)], now: i64) -> StoreResult<()> {
                if watchers.is_empty() {
                    return Ok(());
                }
                let mut insert = QueryBuilder::<$db>::new("insert into watchers (issue_id, user_id, created_at, updated_at) ");
                insert.push_values(watchers, |mut row, (issue_id, user_id)| {
                    row.push_bind(*issue_id).push_bind(*user_id).push_bind(now).push_bind(now);
                });
                insert.push(" on conflict do nothing");
                insert.build().execute(&mut **tx).await?;
                Ok(())
            }

            /// Makes a user watch an issue (or stop watching), recorded in its history.
            pub async fn set_watching(&self, issue_ref: &IssueRef, email: &Email, watching: bool, actor: Actor) -> StoreResult<Issue> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                let (issue_id, project_id) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let user = Self::active_user_by_email(&mut tx, email).await?.ok_or_else(|| {
                    moth_core::DomainError::field("email", format!("no active user has the e-mail {email}"))
                })?;
                let changed = if watching {
                    sqlx::query(
                        "insert into watchers (issue_id, user_id, created_at, updated_at) values ($1, $2, $3, $3) \
                         on conflict do nothing",
                    )
                    .bind(issue_id)
                    .bind(user.id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                } else {
                    sqlx::query("delete from watchers where issue_id = $1 and user_id = $2")
                        .bind(issue_id)
                        .bind(user.id)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                };
                if changed > 0 {
                    let kind = if watching { "watcher.added" } else { "watcher.removed" };
                    let payload = serde_json::json!({"issue": issue_ref.to_string(), "user_id": user.id, "email": user.email});
                    self.append_event(&mut tx, kind, Some(project_id), Some(issue_id), actor, payload).await?;
                }
                tx.commit().await?;
                self.issue(issue_ref).await
            }

            /// One issue with its labels and watchers.
            pub async fn issue(&self, issue_ref: &IssueRef) -> StoreResult<Issue> {
                let row: IssueRow = sqlx::query_as(&format!("{ISSUE_SELECT} where p.key = $1 and i.number = $2"))
                    .bind(issue_ref.project.as_str())
                    .bind(issue_ref.number)
                    .fetch_optional(self.reader())
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let labels = sqlx::query_scalar("select label from issue_labels where issue_id = $1 order by label")
                    .bind(row.id)
                    .fetch_all(self.reader())
                    .await?;
                let watchers = sqlx::query(
                    "select u.id, u.name, u.email from watchers w join users u on u.id = w.user_id \
                     where w.issue_id = $1 order by u.name, u.id",
                )
                .bind(row.id)
                .fetch_all(self.reader())
                .await?
                .into_iter()
                .map(|r| UserSummary { id: r.get("id"), name: r.get("name"), email: r.get("email") })
                .collect();
                let context: Option<String> =
                    // A duplicate's reports moved to the original still show as its own context.
                    sqlx::query_scalar(
                        "select context from reports where (issue_id = $1 and merged_from_issue_id is null) \
                         or merged_from_issue_id = $1 order by id limit 1",
                    )
                        .bind(row.id)
                        .fetch_optional(self.reader())
                        .await?;
                row.into_issue(labels, watchers, context)
            }

            async fn issue_row_for_update(tx: &mut Tx, issue_ref: &IssueRef) -> StoreResult<IssueRow> {
                let sql = format!("{ISSUE_SELECT} where p.key = $1 and i.number = $2{}", Self::LOCK_ISSUE_ROW);
                sqlx::query_as(&sql)
                    .bind(issue_ref.project.as_str())
                    .bind(issue_ref.number)
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))
            }

            async fn issue_id(tx: &mut Tx, issue_ref: &IssueRef) -> StoreResult<Option<(i64, i64)>> {
                let row = sqlx::query(
                    "select i.id, i.project_id from issues i join projects p on p.id = i.project_id \
                     where p.key = $1 and i.number = $2",
                )
                .bind(issue_ref.project.as_str())
                .bind(issue_ref.number)
                .fetch_optional(&mut **tx)
                .await?;
                Ok(row.map(|r| (r.get("id"), r.get("project_id"))))
            }

            /// Changes an issue under the workflow rules, recording what changed in its history.
            pub async fn update_issue(&self, issue_ref: &IssueRef, change: IssueChange, actor: Actor) -> StoreResult<Issue> {
                let mut tx = self.begin_write().await?;
                self.change_issue(&mut tx, issue_ref, change, actor, None).await?;
                tx.commit().await?;
                self.issue(issue_ref).await
            }

            /// Applies a change in the caller's transaction; `note` goes into the history event
            /// (why a change was made when no person made it). Returns what changed.
            async fn change_issue(
                &self,
                tx: &mut Tx,
                issue_ref: &IssueRef,
                change: IssueChange,
                actor: Actor,
                note: Option<serde_json::Value>,
            ) -> StoreResult<Vec<moth_core::FieldChange>> {
                let row = Self::issue_row_for_update(tx, issue_ref).await?;
                if change.unchanged_since.is_some_and(|seen| to_micros(seen) != row.updated_at) {
                    return Err(StoreError::Conflict {
                        field: "expected_updated_at",
                        message: format!("{issue_ref} was changed by someone else since you loaded it; reload it to see what changed, then make your edit again"),
                    });
                }
                let labels: Vec<String> =
                    sqlx::query_scalar("select label from issue_labels where issue_id = $1 order by label")
                        .bind(row.id)
                        .fetch_all(&mut **tx)
                        .await?;
                let rules = Self::project_for_update(tx, &row.project_key).await?.rules()?;
                let assignee = match &change.assignee {
                    Some(Some(email)) => Self::active_user_by_email(tx, email).await?,
                    _ => None,
                };
                let mut fields = row.fields(labels)?;
                let before = fields.clone();
                let changes = fields.apply(change, ChangeContext { issue: issue_ref, rules: &rules, assignee })?;
                if changes.is_empty() {
                    return Ok(changes);
                }
                let duplicate_of_id = match &fields.duplicate_of {
                    Some(target) => Some(
                        Self::issue_id(tx, target)
                            .await?
                            .ok_or_else(|| {
                                moth_core::DomainError::field("duplicate_of", format!("{target} does not exist"))
                            })?
                            .0,
                    ),
                    None => None,
                };
                let now = now_micros();
                let resolved_at = match (before.status.is_done(), fields.status.is_done()) {
                    (false, true) => Some(now),
                    (true, true) => row.resolved_at,
                    _ => None,
                };
                let old_duplicate_of: Option<i64> =
                    sqlx::query_scalar("select duplicate_of_id from issues where id = $1")
                        .bind(row.id)
                        .fetch_one(&mut **tx)
                        .await?;
                sqlx::query(
                    "update issues set type = $1, title = $2, description = $3, status = $4, resolution = $5, \
                     severity = $6, severity_rank = $7, priority = $8, priority_rank = $9, component = $10, \
                     affects_version = $11, fixed_in_version = $12, assignee_id = $13, duplicate_of_id = $14, \
                     regression = $15, reopen_count = $16, steps_to_reproduce = $17, expected = $18, actual = $19, \
                     environment = $20, resolved_at = $21, updated_at = $22 where id = $23",
                )
                .bind(fields.issue_type.as_str())
                .bind(fields.title.as_str())
                .bind(&fields.description)
                .bind(fields.status.as_str())
                .bind(fields.resolution.map(|r| r.as_str()))
                .bind(fields.severity.map(|s| s.as_str()))
                .bind(fields.severity.map(|s| s.rank()).unwrap_or(NO_SEVERITY_RANK))
                .bind(fields.priority.as_str())
                .bind(fields.priority.rank())
                .bind(fields.component.as_ref().map(|c| c.as_str()))
                .bind(fields.affects_version.as_ref().map(|v| v.as_str()))
                .bind(fields.fixed_in_version.as_ref().map(|v| v.as_str()))
                .bind(fields.assignee.as_ref().map(|a| a.id))
                .bind(duplicate_of_id)
                .bind(fields.regression)
                .bind(fields.reopen_count)
                .bind(&fields.steps_to_reproduce)
                .bind(&fields.expected)
                .bind(&fields.actual)
                .bind(&fields.environment)
                .bind(resolved_at)
                .bind(now)
                .bind(row.id)
                .execute(&mut **tx)
                .await?;
                let merged = if old_duplicate_of != duplicate_of_id {
                    Self::follow_original(tx, row.id, duplicate_of_id, now).await?
                } else {
                    $crate::merge::Merged::default()
                };
                if old_duplicate_of != duplicate_of_id {
                    for (target, delta) in [(old_duplicate_of, -1i64), (duplicate_of_id, 1)] {
                        if let Some(target) = target {
                            sqlx::query("update issues set duplicate_count = duplicate_count + $1 where id = $2")
                                .bind(delta)
                                .bind(target)
                                .execute(&mut **tx)
                                .await?;
                        }
                    }
                }
                if fields.labels != before.labels {
                    sqlx::query("delete from issue_labels where issue_id = $1").bind(row.id).execute(&mut **tx).await?;
                    let labels: Vec<(i64, &str)> = fields.labels.iter().map(|l| (row.id, l.as_str())).collect();
                    Self::insert_labels(tx, &labels, now).await?;
                }
                if let Some(assignee) = &fields.assignee {
                    Self::add_watchers(tx, &[(row.id, assignee.id)], now).await?;
                }
                let mut payload = serde_json::json!({"issue": issue_ref.to_string(), "changes": changes});
                if let (Some(original), true) = (&fields.duplicate_of, old_duplicate_of != duplicate_of_id) {
                    payload["detail"] = serde_json::json!(format!(
                        "merged into {original}: {} report(s) and their reporters' status pages follow it, and its watchers watch it too",
                        merged.reports
                    ));
                }
                if let Some(serde_json::Value::Object(note)) = note {
                    payload.as_object_mut().expect("an object").extend(note);
                }
                let mut events = vec![NewEvent {
                    kind: "issue.updated",
                    project_id: Some(row.project_id),
                    issue_id: Some(row.id),
                    actor,
                    payload,
                }];
                if old_duplicate_of != duplicate_of_id {
                    events.extend(Self::merge_events(issue_ref, &before, &fields, (old_duplicate_of, duplicate_of_id), merged, row.project_id, actor));
                }
                self.append_events(tx, &events).await?;
                Ok(changes)
            }

            /// The history entries of the originals a duplicate joined or left.
            fn merge_events(
                issue_ref: &IssueRef,
                before: &moth_core::IssueFields,
                after: &moth_core::IssueFields,
                (was, now_of): (Option<i64>, Option<i64>),
                merged: $crate::merge::Merged,
                project_id: i64,
                actor: Actor,
            ) -> Vec<NewEvent> {
                let mut events = Vec::new();
                if let (Some(id), Some(original)) = (was, &before.duplicate_of) {
                    events.push(NewEvent {
                        kind: "issue.unmerged",
                        project_id: Some(project_id),
                        issue_id: Some(id),
                        actor,
                        payload: serde_json::json!({
                            "issue": original.to_string(), "duplicate": issue_ref.to_string(), "reports": merged.reports,
                            "detail": format!("{issue_ref} is no longer a duplicate of this issue; its {} report(s) left with it", merged.reports),
                        }),
                    });
                }
                if let (Some(id), Some(original)) = (now_of, &after.duplicate_of) {
                    events.push(NewEvent {
                        kind: "issue.merged",
                        project_id: Some(project_id),
                        issue_id: Some(id),
                        actor,
                        payload: serde_json::json!({
                            "issue": original.to_string(), "duplicate": issue_ref.to_string(),
                            "watchers": merged.watchers, "reports": merged.reports,
                            "detail": format!(
                                "{issue_ref} was merged into this issue as a duplicate: {} watcher(s) and {} report(s) moved here",
                                merged.watchers, merged.reports
                            ),
                        }),
                    });
                }
                events
            }

            /// A project's id by its key; not found when no project has it.
            async fn project_id<'e, E: sqlx::Executor<'e, Database = $db>>(executor: E, key: &str) -> StoreResult<i64> {
                sqlx::query_scalar("select id from projects where key = $1")
                    .bind(key)
                    .fetch_optional(executor)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("project {key}")))
            }

            /// A page of a project's issues, filtered and sorted, after the cursor.
            pub async fn list_issues(&self, project_key: &str, listing: &IssueListing) -> StoreResult<IssuePage> {
                let project_id = Self::project_id(self.reader(), project_key).await?;
                let mut query = QueryBuilder::<$db>::new("");
                self.push_listing(&mut query, ISSUE_SELECT, (project_id, project_key), listing, listing.limit + 1).await?;
                let sort = listing.sort;
                let sort_text = sort.as_text();
                let mut rows: Vec<IssueRow> = query.build_query_as().fetch_all(self.reader()).await?;
                let next_cursor = if rows.len() as i64 > listing.limit {
                    rows.truncate(listing.limit as usize);
                    rows.last().map(|last| {
                        let value = match sort.key {
                            SortKey::Created | SortKey::Number => last.id,
                            SortKey::Updated => last.updated_at,
                            SortKey::Priority => i64::from(moth_core::Priority::parse(&last.priority).map(|p| p.rank()).unwrap_or(0)),
                            SortKey::Severity => i64::from(
                                last.severity.as_deref().and_then(|s| moth_core::Severity::parse(s).ok()).map(|s| s.rank()).unwrap_or(NO_SEVERITY_RANK),
                            ),
                        };
                        $crate::cursor::encode(&PageCursor { sort: sort_text.clone(), value, id: last.id })
                    })
                } else {
                    None
                };
                let items = self.issues_of(rows).await?;
                Ok(IssuePage { items, next_cursor })
            }

            /// Appends the select of one list request (its filter, cursor, order and `limit`).
            async fn push_listing<'a>(&self, query: &mut QueryBuilder<'a, $db>, select: &str, (project_id, project_key): (i64, &str), listing: &'a IssueListing, limit: i64) -> StoreResult<()> {
                query.push(select);
                let words = listing.filter.query.as_ref().is_some_and(|q| q.has_positive_text());
                // With words, the newest matches (at most CANDIDATES, see push_issue_filter) are
                // the rows to read and sort; `+` keeps SQLite from walking the project's whole
                // index instead.
                query.push(if words && stringify!($dialect) == "Sqlite" { " where +i.project_id = " } else { " where i.project_id = " });
                query.push_bind(project_id);
                self.push_issue_filter(query, &listing.filter, project_key).await?;
                let sort = listing.sort;
                let column = match sort.key {
                    SortKey::Created | SortKey::Number => "i.id",
                    SortKey::Updated => "i.updated_at",
                    SortKey::Priority => "i.priority_rank",
                    SortKey::Severity => "i.severity_rank",
                };
                let sort_text = sort.as_text();
                if let Some(cursor) = &listing.cursor {
                    if cursor.sort != sort_text {
                        return Err(moth_core::DomainError::field(
                            "cursor",
                            "this cursor belongs to another sort order; start again without a cursor",
                        )
                        .into());
                    }
                    let op = if sort.descending { "<" } else { ">" };
                    query.push(format!(" and ({column}, i.id) {op} (")).push_bind(cursor.value);
                    query.push(", ").push_bind(cursor.id).push(")");
                }
                let direction = if sort.descending { "desc" } else { "asc" };
                query.push(format!(" order by {column} {direction}, i.id {direction} limit "));
                query.push_bind(limit);
                Ok(())
            }

            /// The first page of each of several list requests of a project, in one query
            /// (`union all` of each request's own ordered and limited select): a board's columns.
            pub async fn list_issue_columns(&self, project_key: &str, listings: &[IssueListing]) -> StoreResult<Vec<Vec<Issue>>> {
                if listings.is_empty() {
                    return Ok(Vec::new());
                }
                let project_id = Self::project_id(self.reader(), project_key).await?;
                // Ids first: a union of one-table selects is planned in microseconds, where one
                // of the full six-table selects took PostgreSQL 5 to 20 ms to plan.
                let mut query = QueryBuilder::<$db>::new("");
                for (n, listing) in listings.iter().enumerate() {
                    if n > 0 {
                        query.push(" union all ");
                    }
                    query.push(format!("select {n} as grp, c.id from ("));
                    self.push_listing(&mut query, COLUMN_SELECT, (project_id, project_key), listing, listing.limit).await?;
                    query.push(") c");
                }
                let found: Vec<(i32, i64)> = query.build_query_as().fetch_all(self.reader()).await?;
                let mut columns: Vec<Vec<Issue>> = (0..listings.len()).map(|_| Vec::new()).collect();
                if found.is_empty() {
                    return Ok(columns);
                }
                let mut rows_query = QueryBuilder::<$db>::new(ISSUE_SELECT);
                rows_query.push(" where i.id in (");
                let mut list = rows_query.separated(", ");
                for (_, id) in &found {
                    list.push_bind(*id);
                }
                rows_query.push(")");
                let rows: Vec<IssueRow> = rows_query.build_query_as().fetch_all(self.reader()).await?;
                let ids: Vec<i64> = rows.iter().map(|row| row.id).collect();
                let mut issues: std::collections::HashMap<i64, Issue> = ids.into_iter().zip(self.issues_of(rows).await?).collect();
                for (group, id) in found {
                    if let Some(issue) = issues.remove(&id) {
                        columns[group as usize].push(issue);
                    }
                }
                Ok(columns)
            }

            /// Appends ` and ...` for every condition of a list filter (`a` is the assignee join).
            async fn push_issue_filter<'a>(&self, query: &mut QueryBuilder<'a, $db>, filter: &'a moth_core::IssueFilter, project_key: &str) -> StoreResult<()> {
                fn any_of<T: AsRef<str>>(query: &mut QueryBuilder<'_, $db>, column: &str, values: &[T]) {
                    if values.is_empty() {
                        return;
                    }
                    query.push(" and ").push(column).push(" in (");
                    let mut list = query.separated(", ");
                    for value in values {
                        list.push_bind(value.as_ref().to_string());
                    }
                    query.push(")");
                }
                let types: Vec<&str> = filter.types.iter().map(|t| t.as_str()).collect();
                let statuses: Vec<&str> = filter.statuses.iter().map(|t| t.as_str()).collect();
                let severities: Vec<&str> = filter.severities.iter().map(|t| t.as_str()).collect();
                let priorities: Vec<&str> = filter.priorities.iter().map(|t| t.as_str()).collect();
                let components: Vec<&str> = filter.components.iter().map(|t| t.as_str()).collect();
                any_of(query, "i.type", &types);
                any_of(query, "i.status", &statuses);
                any_of(query, "i.severity", &severities);
                any_of(query, "i.priority", &priorities);
                any_of(query, "i.component", &components);
                if !filter.labels.is_empty() {
                    query.push(" and exists (select 1 from issue_labels l where l.issue_id = i.id and l.label in (");
                    let mut list = query.separated(", ");
                    for label in &filter.labels {
                        list.push_bind(label.as_str());
                    }
                    query.push("))");
                }
                if !filter.assignees.is_empty() {
                    let nobody = filter.assignees.contains(&moth_core::AssigneeFilter::Nobody);
                    let emails: Vec<&str> = filter
                        .assignees
                        .iter()
                        .filter_map(|a| match a {
                            moth_core::AssigneeFilter::User(email) => Some(email.as_str()),
                            moth_core::AssigneeFilter::Nobody => None,
                        })
                        .collect();
                    query.push(" and (");
                    query.push(if nobody { "i.assignee_id is null" } else { "1 = 0" });
                    if !emails.is_empty() {
                        query.push(" or a.email in (");
                        let mut list = query.separated(", ");
                        for email in emails {
                            list.push_bind(email);
                        }
                        query.push(")");
                    }
                    query.push(")");
                }
                match &filter.release {
                    Some(moth_core::ReleaseFilter::Version(version)) => {
                        query.push(" and i.fixed_in_version = ").push_bind(version.as_str());
                    }
                    Some(moth_core::ReleaseFilter::Unplanned) => {
                        query.push(" and i.fixed_in_version is null");
                    }
                    None => {}
                }
                if let Some(q) = &filter.query {
                    let prepared = self.prepare_query(q).await?;
                    Self::push_field_conditions(query, &prepared);
                    if prepared.query.has_positive_text() {
                        // Among the newest matches only, as search does: sorting every match of
                        // a common word by the list's order would cost in proportion to them.
                        query.push(" and i.id in (");
                        let scope = $crate::search::ProjectScope::Only(vec![project_key.to_string()]);
                        Self::push_candidates(query, &prepared, &scope, $crate::search::CANDIDATES);
                        query.push(")");
                    } else {
                        Self::push_text_filter(query, &prepared);
                    }
                }
                Ok(())
            }

            /// A project's issues matching a filter, counted per status or per planned release
            /// (`fixed_in_version`; `None` for issues planned for none).
            pub async fn count_issues(
                &self,
                project_key: &str,
                filter: &moth_core::IssueFilter,
                by: $crate::models::CountBy,
            ) -> StoreResult<Vec<(Option<String>, i64)>> {
                let column = match by {
                    $crate::models::CountBy::Status => "i.status",
                    $crate::models::CountBy::FixedInVersion => "i.fixed_in_version",
                };
                let mut query = QueryBuilder::<$db>::new(format!(
                    "select {column} as grp, count(*) as n from issues i left join users a on a.id = i.assignee_id \
                     where i.project_id = (select id from projects where key = "
                ));
                query.push_bind(project_key).push(")");
                self.push_issue_filter(&mut query, filter, project_key).await?;
                query.push(format!(" group by {column}"));
                let rows = query.build().fetch_all(self.reader()).await?;
                Ok(rows.into_iter().map(|r| (r.get("grp"), r.get("n"))).collect())
            }

            /// Issues from their rows, with their labels and watchers (two queries for all).
            async fn issues_of(&self, rows: Vec<IssueRow>) -> StoreResult<Vec<Issue>> {
                let labels = self.labels_of(&rows).await?;
                let watchers = self.watchers_of(&rows).await?;
                rows.into_iter()
                    .map(|row| {
                        let labels = labels.iter().filter(|(id, _)| *id == row.id).map(|(_, l)| l.clone()).collect();
                        let watchers = watchers.iter().filter(|(id, _)| *id == row.id).map(|(_, w)| w.clone()).collect();
                        row.into_issue(labels, watchers, None)
                    })
                    .collect()
            }

            async fn labels_of(&self, rows: &[IssueRow]) -> StoreResult<Vec<(i64, String)>> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = QueryBuilder::<$db>::new("select issue_id, label from issue_labels where issue_id in (");
                let mut list = query.separated(", ");
                for row in rows {
                    list.push_bind(row.id);
                }
                query.push(") order by label");
                let found = query.build().fetch_all(self.reader()).await?;
                Ok(found.into_iter().map(|r| (r.get("issue_id"), r.get("label"))).collect())
            }

            async fn watchers_of(&self, rows: &[IssueRow]) -> StoreResult<Vec<(i64, UserSummary)>> {
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                let mut query = QueryBuilder::<$db>::new(
                    "select w.issue_id, u.id, u.name, u.email from watchers w join users u on u.id = w.user_id where w.issue_id in (",
                );
                let mut list = query.separated(", ");
                for row in rows {
                    list.push_bind(row.id);
                }
                query.push(") order by u.name, u.id");
                let found = query.build().fetch_all(self.reader()).await?;
                Ok(found
                    .into_iter()
                    .map(|r| (r.get("issue_id"), UserSummary { id: r.get("id"), name: r.get("name"), email: r.get("email") }))
                    .collect())
            }

            // ----- comments, attachments, history -----

            /// Adds a comment (Markdown, rendered and sanitized here once) to an issue.
            pub async fn add_comment(&self, issue_ref: &IssueRef, author: i64, body: &moth_core::LongText) -> StoreResult<Comment> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                let (issue_id, project_id) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let html = moth_core::render_markdown(body.as_str());
                let comment_id: i64 = sqlx::query_scalar(
                    "insert into comments (issue_id, author_id, body, body_html, created_at, updated_at) \
                     values ($1, $2, $3, $4, $5, $5) returning id",
                )
                .bind(issue_id)
                .bind(author)
                .bind(body.as_str())
                .bind(&html)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("update issues set updated_at = $1 where id = $2").bind(now).bind(issue_id).execute(&mut *tx).await?;
                Self::add_watchers(&mut tx, &[(issue_id, author)], now).await?;
                let payload = serde_json::json!({"issue": issue_ref.to_string(), "comment_id": comment_id});
                self.append_event(&mut tx, "comment.added", Some(project_id), Some(issue_id), Actor::user(author), payload)
                    .await?;
                tx.commit().await?;
                let row: CommentRow = sqlx::query_as(&format!("{COMMENT_SELECT} where c.id = $1"))
                    .bind(comment_id)
                    .fetch_one(self.reader())
                    .await?;
                row.into_comment()
            }

            /// An issue's comments, oldest first.
            pub async fn comments(&self, issue_ref: &IssueRef) -> StoreResult<Vec<Comment>> {
                self.ensure_issue(issue_ref).await?;
                let rows: Vec<CommentRow> =
                    sqlx::query_as(&format!("{COMMENT_SELECT} where p.key = $1 and i.number = $2 order by c.id"))
                        .bind(issue_ref.project.as_str())
                        .bind(issue_ref.number)
                        .fetch_all(self.reader())
                        .await?;
                rows.into_iter().map(CommentRow::into_comment).collect()
            }

            async fn ensure_issue(&self, issue_ref: &IssueRef) -> StoreResult<()> {
                let found: Option<i64> = sqlx::query_scalar(
                    "select i.id from issues i join projects p on p.id = i.project_id where p.key = $1 and i.number = $2",
                )
                .bind(issue_ref.project.as_str())
                .bind(issue_ref.number)
                .fetch_optional(self.reader())
                .await?;
                found.map(|_| ()).ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))
            }

            /// An issue's history, oldest first.
            pub async fn activity(&self, issue_ref: &IssueRef) -> StoreResult<Vec<ActivityEntry>> {
                let mut tx = self.reader().begin().await?;
                let (issue_id, _) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                let rows: Vec<EventRow> = sqlx::query_as(&format!("{EVENT_SELECT} where e.issue_id = $1 order by e.id"))
                    .bind(issue_id)
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                rows.into_iter().map(EventRow::into_activity).collect()
            }

            /// Records an attachment whose bytes are already stored.
            pub async fn add_attachment(&self, issue_ref: &IssueRef, new: NewAttachment, actor: Actor) -> StoreResult<Attachment> {
                let now = now_micros();
                let mut tx = self.begin_write().await?;
                let (issue_id, project_id) = Self::issue_id(&mut tx, issue_ref)
                    .await?
                    .ok_or_else(|| StoreError::NotFound(format!("issue {issue_ref}")))?;
                Self::insert_attachments(&mut tx, &[(issue_id, &new, now)]).await?;
                sqlx::query("update issues set updated_at = $1 where id = $2").bind(now).bind(issue_id).execute(&mut *tx).await?;
                let payload = serde_json::json!({
                    "issue": issue_ref.to_string(), "attachment_id": new.id, "filename": new.filename,
                });
                self.append_event(&mut tx, "attachment.added", Some(project_id), Some(issue_id), actor, payload).await?;
                tx.commit().await?;
                self.attachment(&new.id).await
            }

            /// An issue's attachments, oldest first.
            pub async fn attachments(&self, issue_ref: &IssueRef) -> StoreResult<Vec<Attachment>> {
                let rows: Vec<AttachmentRow> =
                    sqlx::query_as(&format!("{ATTACHMENT_SELECT} where p.key = $1 and i.number = $2 order by t.created_at, t.id"))
                        .bind(issue_ref.project.as_str())
                        .bind(issue_ref.number)
                        .fetch_all(self.reader())
                        .await?;
                rows.into_iter().map(AttachmentRow::into_attachment).collect()
            }

            /// One attachment by id.
            pub async fn attachment(&self, id: &str) -> StoreResult<Attachment> {
                let row: Option<AttachmentRow> = sqlx::query_as(&format!("{ATTACHMENT_SELECT} where t.id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?;
                row.ok_or_else(|| StoreError::NotFound(format!("attachment {id}")))?.into_attachment()
            }

            /// Every object key the attachments table points at (for sweeping orphaned files).
            pub async fn attachment_object_keys(&self) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("select object_key from attachments").fetch_all(self.reader()).await?)
            }

            // ----- the event log -----

            /// Appends one event in the caller's transaction, after the dialect's ordering guard.
            async fn append_event(
                &self,
                tx: &mut Tx,
                kind: &'static str,
                project_id: Option<i64>,
                issue_id: Option<i64>,
                actor: Actor,
                payload: serde_json::Value,
            ) -> StoreResult<i64> {
                let event = NewEvent { kind, project_id, issue_id, actor, payload };
                Ok(self.append_events(tx, std::slice::from_ref(&event)).await?[0])
            }

            /// Appends events in the given order and returns their ids.
            async fn append_events(&self, tx: &mut Tx, events: &[NewEvent]) -> StoreResult<Vec<i64>> {
                Self::serialize_event_appends(tx).await?;
                let now = now_micros();
                let mut insert =
                    QueryBuilder::<$db>::new("insert into events (kind, project_id, issue_id, actor_id, payload, created_at, updated_at) ");
                insert.push_values(events, |mut row, event| {
                    row.push_bind(event.kind)
                        .push_bind(event.project_id)
                        .push_bind(event.issue_id)
                        .push_bind(event.actor.0)
                        .push_bind(event.payload.to_string())
                        .push_bind(now)
                        .push_bind(now);
                });
                insert.push(" returning id");
                let mut ids: Vec<i64> = insert.build_query_scalar().fetch_all(&mut **tx).await?;
                ids.sort_unstable();
                Ok(ids)
            }

            /// Events after `after`, in log order; a consumer keeps the last id it saw.
            pub async fn events_after(&self, after: i64, limit: i64) -> StoreResult<Vec<$crate::models::Event>> {
                let rows: Vec<EventRow> = sqlx::query_as(&format!("{EVENT_SELECT} where e.id > $1 order by e.id limit $2"))
                    .bind(after)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                rows.into_iter().map(EventRow::into_event).collect()
            }

            /// The newest event's id (0 when the log is empty): where a live feed starts.
            pub async fn last_event_id(&self) -> StoreResult<i64> {
                let id: Option<i64> = sqlx::query_scalar("select max(id) from events").fetch_one(self.reader()).await?;
                Ok(id.unwrap_or(0))
            }

            /// Issues counted by type and status across all projects.
            pub async fn issue_counts(&self) -> StoreResult<Vec<IssueCount>> {
                let rows = sqlx::query("select type, status, count(*) as n from issues group by type, status order by type, status")
                    .fetch_all(self.reader())
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| IssueCount { issue_type: r.get("type"), status: r.get("status"), count: r.get("n") })
                    .collect())
            }

            /// One project's issues counted by type and status (the index on project, type and
            /// status answers it without reading the issues).
            pub async fn project_issue_counts(&self, project_key: &str) -> StoreResult<Vec<IssueCount>> {
                let rows = sqlx::query(
                    "select i.type, i.status, count(*) as n from issues i \
                     where i.project_id = (select id from projects where key = $1) \
                     group by i.type, i.status order by i.type, i.status",
                )
                .bind(project_key)
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| IssueCount { issue_type: r.get("type"), status: r.get("status"), count: r.get("n") })
                    .collect())
            }

            /// Whether the database answers.
            pub async fn ping(&self) -> StoreResult<()> {
                sqlx::query("select 1").execute(self.reader()).await?;
                Ok(())
            }

        }
    };
}

pub(crate) use sql_store;
