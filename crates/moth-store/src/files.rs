//! Attachment bytes, kept in an object store: a directory under the data dir by default.

use crate::error::StoreResult;
use bytes::Bytes;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where attachment bytes live.
#[derive(Clone, Debug)]
pub struct AttachmentFiles {
    store: Arc<dyn ObjectStore>,
    /// Set for a local directory, whose files are flushed to disk before a write returns.
    local_root: Option<PathBuf>,
}

impl AttachmentFiles {
    /// Files under `dir`, created if missing.
    pub fn local(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let root = dir.canonicalize()?;
        let store = LocalFileSystem::new_with_prefix(&root).map_err(std::io::Error::other)?;
        Ok(Self {
            store: Arc::new(store),
            local_root: Some(root),
        })
    }

    /// Any other object store (S3-compatible, in memory for tests).
    pub fn with_store(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            local_root: None,
        }
    }

    /// Writes bytes under `key` and makes them durable before returning, so the row that
    /// records them can never point at a missing file.
    pub async fn put(&self, key: &str, bytes: Bytes) -> StoreResult<()> {
        self.store
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await?;
        if let Some(root) = &self.local_root {
            let path = root.join(key);
            // The file's bytes, and its name in the directory it was renamed into (without
            // that, a crash can keep the bytes but lose the name).
            tokio::task::spawn_blocking(move || {
                std::fs::File::open(&path).and_then(|f| f.sync_all())?;
                match path.parent() {
                    Some(dir) => std::fs::File::open(dir).and_then(|d| d.sync_all()),
                    None => Ok(()),
                }
            })
            .await
            .map_err(std::io::Error::other)
            .and_then(|r| r)
            .map_err(|e| object_store::Error::Generic {
                store: "local",
                source: Box::new(e),
            })?;
        }
        Ok(())
    }

    /// Reads the bytes under `key`.
    pub async fn get(&self, key: &str) -> StoreResult<Bytes> {
        Ok(self
            .store
            .get(&ObjectPath::from(key))
            .await?
            .bytes()
            .await?)
    }

    /// Removes the bytes under `key`; used to sweep files whose transaction never committed.
    pub async fn delete(&self, key: &str) -> StoreResult<()> {
        self.store.delete(&ObjectPath::from(key)).await?;
        Ok(())
    }

    /// Deletes attachment files that no row points at and that are older than `grace`
    /// (younger ones may belong to an upload whose transaction is still open). Returns how
    /// many were removed.
    pub async fn sweep_orphans(
        &self,
        store: &crate::Store,
        grace: std::time::Duration,
    ) -> StoreResult<usize> {
        use futures::TryStreamExt;
        let cutoff = unix_millis_ago(grace);
        let candidates: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&ObjectPath::from("attachments")))
            .try_collect()
            .await?;
        let candidates: Vec<_> = candidates
            .into_iter()
            .filter(|meta| meta.last_modified.timestamp_millis() <= cutoff)
            .collect();
        if candidates.is_empty() {
            return Ok(0);
        }
        let known: std::collections::HashSet<String> =
            store.attachment_object_keys().await?.into_iter().collect();
        let mut removed = 0;
        for meta in candidates {
            if !known.contains(meta.location.as_ref()) {
                self.store.delete(&meta.location).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Checks that the directory can be written, with a probe file.
    pub async fn check_writable(&self) -> StoreResult<()> {
        let probe = ".moth-write-probe";
        self.put(probe, Bytes::from_static(b"ok")).await?;
        self.delete(probe).await
    }
}

/// Unix milliseconds `age` ago.
fn unix_millis_ago(age: std::time::Duration) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    now.saturating_sub(age).as_millis() as i64
}
