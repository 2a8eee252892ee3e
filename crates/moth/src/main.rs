//! The `moth` command.

mod accounts;
mod bench;
mod cli;
mod logging;
mod open;
mod serve;
mod settings;

use clap::Parser;
use cli::{Cli, Command, TokenCommand, UserCommand};

/// glibc's malloc took a fifth of intake's CPU time (large JSON trees and 100 KB buffers made
/// and freed by many threads, its consolidation and free lists showing at the top of profiles);
/// mimalloc's thread-local free lists make the same work cheaper.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => start(cli.serve).await,
        Some(Command::Serve(args)) => start(args).await,
        Some(Command::User(UserCommand::Create(args))) => accounts::create_user(args).await,
        Some(Command::Token(TokenCommand::Create(args))) => accounts::create_token(args).await,
        Some(Command::Bench(args)) => {
            // The server under measurement says why it answered 500, and nothing else.
            logging::init(settings::LogFormat::Text, "error");
            bench::run(args).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn start(args: cli::ServeArgs) -> anyhow::Result<()> {
    let settings = settings::ServeSettings::resolve(&args)?;
    logging::init(settings.log_format, &settings.log_filter);
    serve::run(settings).await
}
