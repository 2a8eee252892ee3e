//! `moth user create` and `moth token create`: set up accounts from the shell.

use crate::cli::{TokenCreateArgs, UserCreateArgs};
use crate::open::open_store;
use crate::settings::StorageSettings;
use anyhow::{Context, anyhow};
use std::io::BufRead;

pub async fn create_user(args: UserCreateArgs) -> anyhow::Result<()> {
    let storage = StorageSettings::resolve(&args.storage)?;
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from standard input")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let new =
        moth_server::api::accounts::parse_new_user(&args.email, &args.name, &args.role, password)
            .await
            .map_err(describe)?;
    let store = open_store(&storage).await?;
    let user = store.create_user(new).await.map_err(|e| anyhow!("{e}"))?;
    println!("created {} {} (id {})", user.role, user.email, user.id);
    store.close().await;
    Ok(())
}

pub async fn create_token(args: TokenCreateArgs) -> anyhow::Result<()> {
    let storage = StorageSettings::resolve(&args.storage)?;
    let name = moth_core::Name::parse("name", &args.name).map_err(|e| anyhow!("{e}"))?;
    let email = moth_core::Email::parse(&args.email).map_err(|e| anyhow!("{e}"))?;
    let store = open_store(&storage).await?;
    let user = store
        .user_credentials(email.as_str())
        .await?
        .ok_or_else(|| {
            anyhow!("no user has the e-mail {email}; create one with `moth user create`")
        })?
        .user;
    let (token, hash) = moth_server::auth::new_secret("moth");
    store
        .create_api_token(user.id, name.as_str(), &hash, None)
        .await?;
    println!("{token}");
    eprintln!("This token is shown once. Send it as: Authorization: Bearer <token>");
    store.close().await;
    Ok(())
}

fn describe(error: moth_server::error::ApiError) -> anyhow::Error {
    match error {
        moth_server::error::ApiError::Invalid { message, .. } => anyhow!("{message}"),
        other => anyhow!("{other:?}"),
    }
}
