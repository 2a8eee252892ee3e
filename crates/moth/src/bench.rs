//! `moth bench`: seeds issues over HTTP and prints throughput and latency figures.

use crate::cli::BenchArgs;

pub async fn run(_args: BenchArgs) -> anyhow::Result<()> {
    anyhow::bail!("the benchmark is being written")
}
