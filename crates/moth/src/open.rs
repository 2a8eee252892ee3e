//! Opening the data dir and database, with errors that say what to fix.

use crate::settings::{StorageSettings, redact_url};
use anyhow::anyhow;
use moth_store::{AttachmentFiles, Store};

/// Creates the data dir if needed and proves it can be written.
pub async fn prepare_data_dir(storage: &StorageSettings) -> anyhow::Result<AttachmentFiles> {
    let dir = &storage.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow!(
            "cannot create the data dir {}: {e}; choose another with --data-dir or MOTH_DATA_DIR",
            dir.display()
        )
    })?;
    let files = AttachmentFiles::local(&dir.join("attachments")).map_err(|e| {
        anyhow!(
            "cannot use the data dir {}: {e}; choose another with --data-dir or MOTH_DATA_DIR",
            dir.display()
        )
    })?;
    files.check_writable().await.map_err(|e| {
        anyhow!("the data dir {} is not writable ({e}); fix its permissions or choose another with --data-dir", dir.display())
    })?;
    Ok(files)
}

/// Connects to the database and migrates it.
pub async fn open_store(storage: &StorageSettings) -> anyhow::Result<Store> {
    let url = &storage.database_url;
    if url.starts_with("sqlite:") {
        std::fs::create_dir_all(&storage.data_dir).map_err(|e| {
            anyhow!(
                "cannot create the data dir {}: {e}; choose another with --data-dir or MOTH_DATA_DIR",
                storage.data_dir.display()
            )
        })?;
    }
    let connect = tokio::time::timeout(std::time::Duration::from_secs(20), Store::connect(url));
    let store = connect
        .await
        .map_err(|_| anyhow!("the database at {} did not answer within 20 s", redact_url(url)))?
        .map_err(|e| {
            anyhow!(
                "cannot open the database at {} ({e}); check --database-url / MOTH_DATABASE_URL and that the database server is running",
                redact_url(url)
            )
        })?;
    Ok(store)
}
