//! `moth serve`: open everything, listen, and stop cleanly on SIGTERM or Ctrl-C.

use crate::open::{open_store, prepare_data_dir};
use crate::settings::ServeSettings;
use anyhow::anyhow;
use moth_server::{AppState, ServerConfig};

pub async fn run(settings: ServeSettings) -> anyhow::Result<()> {
    let files = prepare_data_dir(&settings.storage).await?;
    let store = open_store(&settings.storage).await?;
    let listener = tokio::net::TcpListener::bind(&settings.addr).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => anyhow!(
            "the address {} is already in use; stop the program using it or choose another with --addr or MOTH_ADDR",
            settings.addr
        ),
        _ => anyhow!("cannot listen on {}: {e}; choose another address with --addr or MOTH_ADDR", settings.addr),
    })?;
    let local = listener.local_addr()?;
    spawn_orphan_sweeper(store.clone(), files.clone());
    let state = AppState::new(
        store.clone(),
        files,
        ServerConfig::new(&settings.public_url),
    );
    tracing::info!(addr = %local, database = store.kind(), public_url = %settings.public_url, "moth is listening");
    println!(
        "Moth is listening on http://{local} ({} database); open {} in a browser",
        store.kind(),
        settings.public_url
    );
    moth_server::serve(listener, state, shutdown_signal()).await?;
    tracing::info!("stopped accepting requests; requests in flight finished");
    store.close().await;
    Ok(())
}

/// Removes, every hour, attachment files whose recording transaction never committed.
fn spawn_orphan_sweeper(store: moth_store::Store, files: moth_store::AttachmentFiles) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            match files
                .sweep_orphans(&store, std::time::Duration::from_secs(3600))
                .await
            {
                Ok(0) => {}
                Ok(removed) => tracing::info!(removed, "swept orphaned attachment files"),
                Err(error) => tracing::warn!(%error, "sweeping orphaned attachment files failed"),
            }
        }
    });
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
