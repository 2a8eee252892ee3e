//! `moth bench`: seeds issues over HTTP and prints throughput and latency figures.
//!
//! For each database it starts a fresh store and a Moth server on 127.0.0.1, grows one project
//! to each issue count through the API, and measures request latency at every size.

mod browser;
mod client;
mod corpus;
mod drafts;
mod fingerprints;
mod intake;
mod latency;
mod load;
mod page_seed;
mod pages;
mod report;
mod search;
mod server;
mod similar;

use crate::cli::BenchArgs;
use anyhow::{Context, bail};
use client::Api;
use corpus::Corpus;
use drafts::Drafts;
use rand::SeedableRng;
use rand::rngs::StdRng;
use server::{BenchServer, Database};
use std::path::{Path, PathBuf};

/// Where the bug reports used for issue text are looked for when `--corpus` is not given.
const DEFAULT_CORPUS: &str = "../shared/data/gitbugs/hadoop_bugs.csv";

/// The seed of every random choice, so two runs send the same requests.
const SEED: u64 = 0x6d6f_7468_6265_6e63;

/// What one run measures, checked up front.
struct Plan {
    sizes: Vec<usize>,
    databases: Vec<Database>,
    concurrency: usize,
    samples: usize,
}

/// Runs the benchmark described by the command line.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let plan = Plan::from_args(&args)?;
    if args.similar {
        let bugs = similar::bugs_path(args.corpus.as_deref())?;
        similar::print_intro(&bugs);
        for database in &plan.databases {
            let server = BenchServer::start(database).await?;
            let outcome =
                similar::bench_database(&server, database.name(), &bugs, &plan.sizes).await;
            server.stop().await;
            outcome?;
        }
        return Ok(());
    }
    if args.fingerprints {
        fingerprints::print_intro(plan.samples);
        for database in &plan.databases {
            let server = BenchServer::start(database).await?;
            let outcome = fingerprints::bench_database(&server, database.name(), &plan).await;
            server.stop().await;
            outcome?;
        }
        return Ok(());
    }
    if args.intake {
        intake::print_intro(plan.samples, plan.concurrency);
        for database in &plan.databases {
            let server = BenchServer::start(database).await?;
            let outcome =
                intake::bench_database(&server, database.name(), plan.samples, plan.concurrency)
                    .await;
            server.stop().await;
            outcome?;
        }
        return Ok(());
    }
    let corpus = load_corpus(args.corpus.as_deref())?;
    if args.search {
        search::print_intro(plan.samples, &corpus);
        for database in &plan.databases {
            let server = BenchServer::start(database).await?;
            let outcome = search::bench_database(&server, database.name(), &plan, &corpus).await;
            server.stop().await;
            outcome?;
        }
        return Ok(());
    }
    if args.pages {
        pages::print_intro(plan.samples, &corpus);
        for database in &plan.databases {
            let server = BenchServer::start(database).await?;
            let outcome = pages::bench_database(&server, database.name(), &plan, &corpus).await;
            server.stop().await;
            outcome?;
        }
        return Ok(());
    }
    report::print_intro(plan.concurrency, plan.samples, &corpus);
    report::print_header();
    for database in &plan.databases {
        bench_database(database, &plan, &corpus).await?;
    }
    Ok(())
}

impl Plan {
    fn from_args(args: &BenchArgs) -> anyhow::Result<Self> {
        let mut sizes = args.issues.clone();
        sizes.sort_unstable();
        sizes.dedup();
        if sizes.first().is_none_or(|&n| n == 0) {
            bail!("--issues needs counts above zero, e.g. --issues 10000,100000");
        }
        if args.concurrency == 0 || args.samples == 0 {
            bail!("--concurrency and --samples must be at least 1");
        }
        let databases = args
            .databases
            .iter()
            .map(|name| Database::parse(name, args.postgres_url.as_deref()))
            .collect::<anyhow::Result<_>>()?;
        Ok(Self {
            sizes,
            databases,
            concurrency: args.concurrency,
            samples: args.samples,
        })
    }
}

/// Reads the given corpus, or the default one if it is there, or falls back to generated text.
fn load_corpus(path: Option<&Path>) -> anyhow::Result<Corpus> {
    let path = match path {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from(DEFAULT_CORPUS);
            if !default.exists() {
                return Ok(Corpus::generated(SEED));
            }
            default
        }
    };
    Corpus::from_csv(&path).with_context(|| format!("cannot use the corpus {}", path.display()))
}

/// Measures one database at every size, and always stops its server and store afterwards.
async fn bench_database(database: &Database, plan: &Plan, corpus: &Corpus) -> anyhow::Result<()> {
    let server = BenchServer::start(database).await?;
    let outcome = grow_and_measure(&server, database.name(), plan, corpus).await;
    server.stop().await;
    outcome
}

/// Grows project BENCH to each size in turn and prints a row of figures at each.
async fn grow_and_measure(
    server: &BenchServer,
    name: &str,
    plan: &Plan,
    corpus: &Corpus,
) -> anyhow::Result<()> {
    let api = Api::new(&server.base_url, &server.token)?;
    api.create_project(drafts::COMPONENTS).await?;
    let mut drafts = Drafts::new(corpus, SEED);
    let mut closing_rng = StdRng::seed_from_u64(SEED ^ 1);
    let mut latency_rng = StdRng::seed_from_u64(SEED ^ 2);
    let mut created = 0;
    for &size in &plan.sizes {
        let growth = load::Growth {
            label: name,
            from: created,
            to: size,
            concurrency: plan.concurrency,
        };
        let rate = load::create_issues(&api, &mut drafts, &growth).await?;
        load::close_some(&api, &growth, &mut closing_rng).await?;
        created = size;
        let figures = latency::measure(&api, name, size, plan.samples, &mut latency_rng).await?;
        report::print_row(name, size, rate, &figures);
    }
    Ok(())
}
