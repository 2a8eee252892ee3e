//! Settings resolved from flags, then environment, then the config file, then defaults.

use crate::cli::{ServeArgs, StorageArgs};
use anyhow::{Context, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The contents of a config file; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    addr: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    public_url: Option<String>,
    log_format: Option<String>,
    log: Option<String>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where the data lives.
#[derive(Debug, Clone)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    pub database_url: String,
}

/// Everything `serve` needs.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub addr: String,
    pub public_url: String,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub storage: StorageSettings,
}

fn read_config(path: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let Some(path) = path else {
        return Ok(ConfigFile::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the config file {}", path.display()))?;
    toml::from_str(&text)
        .with_context(|| format!("the config file {} is not valid", path.display()))
}

fn storage(args: &StorageArgs, file: &ConfigFile) -> StorageSettings {
    let data_dir = args
        .data_dir
        .clone()
        .or_else(|| file.data_dir.clone())
        .unwrap_or_else(|| PathBuf::from("moth-data"));
    let database_url = args
        .database_url
        .clone()
        .or_else(|| file.database_url.clone())
        .unwrap_or_else(|| format!("sqlite:{}", data_dir.join("moth.db").display()));
    StorageSettings {
        data_dir,
        database_url,
    }
}

impl StorageSettings {
    pub fn resolve(args: &StorageArgs) -> anyhow::Result<Self> {
        Ok(storage(args, &read_config(args.config.as_deref())?))
    }
}

impl ServeSettings {
    pub fn resolve(args: &ServeArgs) -> anyhow::Result<Self> {
        let file = read_config(args.storage.config.as_deref())?;
        let addr = args
            .addr
            .clone()
            .or_else(|| file.addr.clone())
            .unwrap_or_else(|| "127.0.0.1:7878".into());
        let public_url = args
            .public_url
            .clone()
            .or_else(|| file.public_url.clone())
            .unwrap_or_else(|| format!("http://{addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("the public URL {public_url:?} must start with http:// or https://");
        }
        let log_format = match args
            .log_format
            .clone()
            .or_else(|| file.log_format.clone())
            .as_deref()
        {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("unknown log format {other:?}; use text or json"),
        };
        let log_filter = args
            .log
            .clone()
            .or_else(|| file.log.clone())
            .unwrap_or_else(|| "info".into());
        Ok(Self {
            addr,
            public_url,
            log_format,
            log_filter,
            storage: storage(&args.storage, &file),
        })
    }
}

/// A database URL safe to print: the password is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_the_config_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("moth.toml");
        std::fs::write(
            &config,
            "addr = \"0.0.0.0:9000\"\ndata_dir = \"/srv/moth\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            addr: Some("127.0.0.1:1234".into()),
            storage: StorageArgs {
                config: Some(config),
                ..Default::default()
            },
            ..Default::default()
        };
        let settings = ServeSettings::resolve(&args).unwrap();
        assert_eq!(settings.addr, "127.0.0.1:1234");
        assert_eq!(settings.storage.data_dir, PathBuf::from("/srv/moth"));
        assert_eq!(settings.storage.database_url, "sqlite:/srv/moth/moth.db");
        assert_eq!(settings.log_format, LogFormat::Json);
        assert_eq!(settings.public_url, "http://127.0.0.1:1234");
    }

    #[test]
    fn defaults_need_nothing() {
        let settings = ServeSettings::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(settings.addr, "127.0.0.1:7878");
        assert_eq!(settings.storage.database_url, "sqlite:moth-data/moth.db");
    }

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("moth.toml");
        std::fs::write(&config, "colour = \"red\"\n").unwrap();
        let args = ServeArgs {
            storage: StorageArgs {
                config: Some(config),
                ..Default::default()
            },
            ..Default::default()
        };
        let error = format!("{:#}", ServeSettings::resolve(&args).unwrap_err());
        assert!(error.contains("colour"), "{error}");
        let args = ServeArgs {
            log_format: Some("xml".into()),
            ..Default::default()
        };
        assert!(
            ServeSettings::resolve(&args)
                .unwrap_err()
                .to_string()
                .contains("xml")
        );
    }

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(
            redact_url("postgres://moth:secret@db:5432/moth"),
            "postgres://moth:***@db:5432/moth"
        );
        assert_eq!(
            redact_url("sqlite:moth-data/moth.db"),
            "sqlite:moth-data/moth.db"
        );
    }
}
