//! The command line: commands, flags and the environment variables that stand for them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Moth: a self-hosted bug and issue tracker.
#[derive(Debug, Parser)]
#[command(name = "moth", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings for `serve` when no command is given.
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start Moth: the web app, the API and the widget endpoints (the default).
    Serve(ServeArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Measure throughput and latency over HTTP on loopback, and print the figures.
    Bench(BenchArgs),
}

/// Where Moth keeps its data; every command takes these.
#[derive(Debug, Clone, Args, Default)]
pub struct StorageArgs {
    /// Directory for the SQLite database and attachments [default: ./moth-data]
    #[arg(long, env = "MOTH_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://… selects PostgreSQL [default: SQLite in the data dir]
    #[arg(long, env = "MOTH_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// A TOML file with any of: addr, data_dir, database_url, public_url, log_format, log
    #[arg(long, env = "MOTH_CONFIG", global = true)]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:7878]
    #[arg(long, env = "MOTH_ADDR")]
    pub addr: Option<String>,
    /// Base of the links Moth writes, e.g. https://moth.example.com [default: http://ADDR]
    #[arg(long, env = "MOTH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Log format: text or json [default: text]
    #[arg(long, env = "MOTH_LOG_FORMAT")]
    pub log_format: Option<String>,
    /// Log filter, e.g. info or moth_server=debug [default: info]
    #[arg(long, env = "MOTH_LOG")]
    pub log: Option<String>,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account; the password is read from standard input.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    pub email: String,
    #[arg(long)]
    pub name: String,
    /// admin, member or viewer
    #[arg(long)]
    pub role: String,
    /// Read the password from the first line of standard input.
    #[arg(long, required = true)]
    pub password_stdin: bool,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token for a user and print it (it is shown once).
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    #[arg(long)]
    pub email: String,
    /// A label to recognise the token by.
    #[arg(long, default_value = "cli")]
    pub name: String,
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Issue counts to measure at, comma-separated.
    #[arg(long, default_value = "10000,100000", value_delimiter = ',')]
    pub issues: Vec<usize>,
    /// Databases to measure: sqlite, postgres (needs --postgres-url or MOTH_BENCH_POSTGRES_URL).
    #[arg(long, default_value = "sqlite", value_delimiter = ',')]
    pub databases: Vec<String>,
    /// A PostgreSQL server URL the benchmark may create databases on.
    #[arg(long, env = "MOTH_BENCH_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
    /// Requests per latency measurement.
    #[arg(long, default_value_t = 2000)]
    pub samples: usize,
    /// Measure search and the query language instead: issues are filed in bulk, then search
    /// latency is timed in the store and over HTTP (use fewer --samples, e.g. 200).
    #[arg(long)]
    pub search: bool,
    /// Measure "similar issues" instead: imports the Hadoop reports (--corpus) and prints
    /// Recall@1/5/10 of the known duplicates (hadoop_duplicates.csv beside them) for Moth's
    /// ranking and plain BM25, with the query's latency; then times the query at each
    /// --issues size above the corpus, filled with copies of the reports.
    #[arg(long, conflicts_with = "search")]
    pub similar: bool,
    /// Measure duplicate detection at intake instead: --issues counts stored reports (ten per
    /// issue, stored in bulk); the match lookup is timed in the store and intake over HTTP
    /// with and without a signature (use fewer --samples, e.g. 300).
    #[arg(long, conflicts_with_all = ["search", "similar"])]
    pub fingerprints: bool,
    /// Measure the web pages instead, signed in through a session cookie: issues are filed in
    /// bulk, reports through intake, then each page's time and HTML size (plain and gzip) are
    /// measured (use fewer --samples, e.g. 300).
    #[arg(long, conflicts_with_all = ["search", "fingerprints"])]
    pub pages: bool,
    /// Measure intake instead: --concurrency clients post --samples full reports (150 KB PNG,
    /// 200 console lines, 50 requests, 100 actions; new and known errors) over HTTP, and
    /// reports/s and p50/p95/p99 are printed (--issues is not used).
    #[arg(long, conflicts_with_all = ["search", "similar", "fingerprints", "pages"])]
    pub intake: bool,
    /// CSV of bug reports (Summary, Description columns) to take issue text from
    /// [default: ../shared/data/gitbugs/hadoop_bugs.csv if it exists, else generated text]
    #[arg(long)]
    pub corpus: Option<PathBuf>,
}
