//! `moth bench --intake`: throughput and latency of intake for full reports.
//!
//! Concurrent clients post what the widget sends when its buffers are full: a 150 KB PNG
//! screenshot, 200 console lines, 50 requests and 100 actions. Errors vary: about a third of
//! the reports carry an error never seen before (a new issue), the rest one of a few dozen
//! known errors (a duplicate of an issue filed earlier in the run). Every report is a
//! `POST /api/v1/intake/{key}` over HTTP, answered only once it is committed.

use super::SEED;
use super::client::PROJECT;
use super::latency::{Percentiles, percentiles};
use super::page_seed::widget_context;
use super::server::BenchServer;
use anyhow::{Context, bail};
use futures::{StreamExt, stream};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

/// Bytes of the screenshot: what a compressed page screenshot typically weighs.
const SCREENSHOT_BYTES: usize = 150 * 1024;
/// Console lines, requests and actions per report: the widget's buffers, full.
const CONSOLE_LINES: usize = 200;
const REQUESTS: usize = 50;
const ACTIONS: usize = 100;
/// Errors known to the app: reports drawn from them join the issue the first one filed.
const KNOWN_ERRORS: usize = 40;
/// Share of reports with an error never seen before (each files a new issue).
const NEW_ERROR_SHARE: f64 = 0.3;
/// Reports sent and not counted before the measurement.
const WARM_UP: usize = 50;

/// The figures of one run.
struct Figures {
    reports_per_second: f64,
    latency: Percentiles,
    filed: usize,
    duplicates: usize,
    /// CPU time of the whole process but the clients' thread, per report (ms).
    server_cpu_ms: f64,
    /// CPU time of the clients' thread, per report (ms).
    client_cpu_ms: f64,
}

/// What the clients measured over the counted reports.
struct Timed {
    elapsed: Duration,
    process_cpu: Duration,
    client_cpu: Duration,
    sent: Vec<(Duration, String)>,
}

/// Runs the clients on a thread and runtime of their own, so that the CPU time they take can be
/// told apart from the server's (which runs on the shared runtime's workers).
async fn on_client_thread<F, T>(clients: impl FnOnce() -> F + Send + 'static) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
    T: Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("bench-clients".into())
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the clients' runtime")
                .and_then(|runtime| runtime.block_on(clients()));
            let _ = done.send(outcome);
        })
        .context("cannot start the clients' thread")?;
    result.await.context("the clients' thread panicked")?
}

/// CPU time (user and system) of the whole process so far.
fn process_cpu_time() -> Duration {
    cpu_time(libc::RUSAGE_SELF)
}

/// CPU time (user and system) of the calling thread so far.
fn thread_cpu_time() -> Duration {
    cpu_time(libc::RUSAGE_THREAD)
}

fn cpu_time(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct it is given, which is plain data.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(who, &mut usage);
        usage
    };
    let time = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    time(usage.ru_utime) + time(usage.ru_stime)
}

/// Prints what is measured and the table's header.
pub fn print_intro(reports: usize, concurrency: usize) {
    println!(
        "moth bench --intake: {reports} reports by {concurrency} concurrent clients (after {WARM_UP} not counted); \
         each with a {} KB PNG, {CONSOLE_LINES} console lines, {REQUESTS} requests, {ACTIONS} actions; \
         {:.0}% new errors, the rest one of {KNOWN_ERRORS} known ones; latency in ms",
        SCREENSHOT_BYTES / 1024,
        NEW_ERROR_SHARE * 100.0
    );
    println!(
        "{:<9} {:>8} {:>8} {:>10} {:>9} {:>9} {:>9} {:>7} {:>10} {:>11} {:>11}",
        "database",
        "reports",
        "clients",
        "reports/s",
        "p50",
        "p95",
        "p99",
        "filed",
        "duplicate",
        "server cpu",
        "client cpu"
    );
}

/// Sends the reports to a fresh project and prints a row of figures.
pub async fn bench_database(
    server: &BenchServer,
    name: &str,
    reports: usize,
    concurrency: usize,
) -> anyhow::Result<()> {
    let api = super::client::Api::new(&server.base_url, &server.token)?;
    api.create_project(super::drafts::COMPONENTS).await?;
    let project = server.store().project(PROJECT).await?;
    let url = format!("{}/api/v1/intake/{}", server.base_url, project.intake_key);
    // Made once and shared by every request without copying.
    let screenshot: &'static [u8] = screenshot_png(SCREENSHOT_BYTES).leak();
    let mut rng = StdRng::seed_from_u64(SEED ^ 7);
    let mut bodies = (0..WARM_UP + reports).map(|n| full_report(n, &mut rng).to_string());
    let warm_up: Vec<String> = bodies.by_ref().take(WARM_UP).collect();
    // Made before the clock starts: the client's own work is not the server's throughput.
    let bodies: Vec<String> = bodies.collect();
    let name_for_clients = name.to_string();
    let timed = on_client_thread(move || async move {
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .context("cannot build the HTTP client")?;
        send_all(&http, &url, screenshot, warm_up, concurrency).await?;
        eprintln!("{name_for_clients}: warmed up; sending {reports} reports");
        let process_cpu = process_cpu_time();
        let client_cpu = thread_cpu_time();
        let started = Instant::now();
        let sent = send_all(&http, &url, screenshot, bodies, concurrency).await?;
        Ok(Timed {
            elapsed: started.elapsed(),
            process_cpu: process_cpu_time().saturating_sub(process_cpu),
            client_cpu: thread_cpu_time().saturating_sub(client_cpu),
            sent,
        })
    })
    .await?;
    let Timed {
        elapsed,
        process_cpu,
        client_cpu,
        sent,
    } = timed;
    let mut times: Vec<Duration> = sent.iter().map(|(time, _)| *time).collect();
    let per_report = |cpu: Duration| cpu.as_secs_f64() * 1000.0 / reports as f64;
    let figures = Figures {
        reports_per_second: reports as f64 / elapsed.as_secs_f64(),
        latency: percentiles(&mut times),
        filed: sent.iter().filter(|(_, o)| o == "filed").count(),
        duplicates: sent.iter().filter(|(_, o)| o == "duplicate").count(),
        server_cpu_ms: per_report(process_cpu.saturating_sub(client_cpu)),
        client_cpu_ms: per_report(client_cpu),
    };
    println!(
        "{:<9} {:>8} {:>8} {:>10.1} {:>9.2} {:>9.2} {:>9.2} {:>7} {:>10} {:>11.2} {:>11.2}",
        name,
        reports,
        concurrency,
        figures.reports_per_second,
        figures.latency.p50,
        figures.latency.p95,
        figures.latency.p99,
        figures.filed,
        figures.duplicates,
        figures.server_cpu_ms,
        figures.client_cpu_ms
    );
    Ok(())
}

/// Posts every body with `concurrency` requests in flight; each one's time and outcome.
async fn send_all(
    http: &reqwest::Client,
    url: &str,
    screenshot: &'static [u8],
    bodies: Vec<String>,
    concurrency: usize,
) -> anyhow::Result<Vec<(Duration, String)>> {
    let mut answers = stream::iter(bodies)
        .map(|body| send_one(http, url, screenshot, body))
        .buffer_unordered(concurrency);
    let mut sent = Vec::new();
    while let Some(answer) = answers.next().await {
        sent.push(answer?);
    }
    Ok(sent)
}

async fn send_one(
    http: &reqwest::Client,
    url: &str,
    screenshot: &'static [u8],
    body: String,
) -> anyhow::Result<(Duration, String)> {
    let form = reqwest::multipart::Form::new()
        .part(
            "report",
            reqwest::multipart::Part::text(body).mime_str("application/json")?,
        )
        .part(
            "screenshot",
            reqwest::multipart::Part::bytes(screenshot)
                .file_name("screenshot.png")
                .mime_str("image/png")?,
        );
    let started = Instant::now();
    let response = http.post(url).multipart(form).send().await?;
    let status = response.status();
    let answer = response.bytes().await?;
    let time = started.elapsed();
    if status != reqwest::StatusCode::CREATED {
        bail!(
            "intake answered {status}: {}",
            String::from_utf8_lossy(&answer)
        );
    }
    let answer: Value = serde_json::from_slice(&answer).context("intake answered no JSON")?;
    let outcome = answer["outcome"].as_str().unwrap_or("").to_string();
    Ok((time, outcome))
}

/// Report `n`: a full capture whose error is new or one of the known ones.
fn full_report(n: usize, rng: &mut StdRng) -> Value {
    let error = if rng.gen_bool(NEW_ERROR_SHARE) {
        1_000 + n
    } else {
        rng.gen_range(0..KNOWN_ERRORS)
    };
    let stamp = |i: usize| {
        format!(
            "2026-12-07T10:{:02}:{:02}.{:03}Z",
            i / 60 % 60,
            i % 60,
            n % 1000
        )
    };
    let console: Vec<Value> = (0..CONSOLE_LINES)
        .map(|i| {
            let (level, message) = match i % 10 {
                0 => ("warn", format!("Slow response from /api/cart after {} ms", rng.gen_range(300..3000))),
                1 => ("error", format!("Failed to load resource: the server responded with a status of 500 (step {i})")),
                2 => ("info", format!("analytics: page_view sent for session s-{}", rng.r#gen::<u32>())),
                _ => ("log", format!("render cart item {i} of order {} with {} lines", n, rng.gen_range(1..20))),
            };
            json!({"level": level, "message": message, "timestamp": stamp(i)})
        })
        .collect();
    let network: Vec<Value> = (0..REQUESTS)
        .map(|i| {
            let status = if i == REQUESTS - 1 { 500 } else { 200 };
            json!({"method": if i % 5 == 0 { "POST" } else { "GET" },
                   "url": format!("https://shop.example.com/api/items/{}?page={}", rng.gen_range(1..100_000), i % 7),
                   "status": status, "duration_ms": rng.gen_range(5..900)})
        })
        .collect();
    let actions: Vec<Value> = (0..ACTIONS)
        .map(|i| match i % 3 {
            0 => json!({"kind": "click", "target": format!("button#add-{} \"Add to cart\"", i), "timestamp": stamp(i)}),
            1 => json!({"kind": "input", "target": "input#quantity", "timestamp": stamp(i)}),
            _ => json!({"kind": "navigation", "target": format!("/products/{}", rng.gen_range(1..5000)), "timestamp": stamp(i)}),
        })
        .collect();
    json!({
        "title": format!("Checkout fails at step {}", error % 97),
        "description": "Clicked Pay, the spinner never stopped and the cart emptied itself.",
        "reporter": {"name": "Ana", "email": format!("reporter{}@example.com", n % 500)},
        "page_url": format!("https://shop.example.com/checkout/{}", rng.gen_range(1..100_000)),
        "context": widget_context(n),
        "console": console,
        "errors": [{
            "message": format!("TypeError: cannot read properties of undefined (reading 'total{error}')"),
            "stack": format!("TypeError: x\n    at pay{error} (https://shop.example.com/app.3f2a1b9c.js:10:4)\n    at onClick (https://shop.example.com/app.3f2a1b9c.js:88:12)"),
            "source": "https://shop.example.com/app.3f2a1b9c.js", "line": 10, "column": 4
        }],
        "network": network,
        "actions": actions,
        // As the widget sends it: a random id, the same on every resend.
        "idempotency_key": format!("{:032x}", rng.r#gen::<u128>()),
    })
}

/// A real PNG of about `bytes` bytes: noisy RGB pixels, which deflate cannot shrink, so the
/// file weighs what a detailed screenshot does.
fn screenshot_png(bytes: usize) -> Vec<u8> {
    let width: usize = 320;
    let height = (bytes / (width * 3)).max(1);
    let mut rng = StdRng::seed_from_u64(SEED ^ 8);
    let mut raw = Vec::with_capacity(height * (width * 3 + 1));
    for _ in 0..height {
        raw.push(0); // filter: none
        raw.extend((0..width * 3).map(|_| rng.r#gen::<u8>()));
    }
    let mut deflate = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    deflate.write_all(&raw).expect("writing to memory");
    let data = deflate.finish().expect("writing to memory");
    let mut header = Vec::with_capacity(13);
    header.extend((width as u32).to_be_bytes());
    header.extend((height as u32).to_be_bytes());
    header.extend([8, 2, 0, 0, 0]); // 8 bits, RGB, deflate, adaptive filters, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for (kind, body) in [
        (b"IHDR", &header[..]),
        (b"IDAT", &data[..]),
        (b"IEND", &[][..]),
    ] {
        png.extend((body.len() as u32).to_be_bytes());
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(body);
        png.extend(kind);
        png.extend(body);
        png.extend(crc.sum().to_be_bytes());
    }
    png
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_screenshot_is_a_complete_png_of_about_150_kb() {
        let png = screenshot_png(SCREENSHOT_BYTES);
        let info = moth_core::screenshot::check_screenshot(&png, Some("image/png")).unwrap();
        assert_eq!((info.width, info.height), (320, 160));
        assert!(
            (140_000..170_000).contains(&png.len()),
            "{} bytes",
            png.len()
        );
    }

    #[test]
    fn a_report_is_full_and_passes_intake_checks() {
        let mut rng = StdRng::seed_from_u64(1);
        let report = full_report(3, &mut rng);
        assert_eq!(report["console"].as_array().unwrap().len(), CONSOLE_LINES);
        assert_eq!(report["network"].as_array().unwrap().len(), REQUESTS);
        assert_eq!(report["actions"].as_array().unwrap().len(), ACTIONS);
        let text = report.to_string();
        let input = serde_json::from_str(&text).unwrap();
        let parsed = moth_core::intake::IntakeReport::parse(input, &Default::default()).unwrap();
        assert!(parsed.fingerprints.match_key().is_some());
    }

    #[test]
    fn some_errors_are_new_and_the_others_repeat() {
        let mut rng = StdRng::seed_from_u64(2);
        let messages: Vec<String> = (0..400)
            .map(|n| full_report(n, &mut rng)["errors"][0]["message"].to_string())
            .collect();
        let distinct: std::collections::HashSet<_> = messages.iter().collect();
        assert!(
            distinct.len() > 80 && distinct.len() < 200,
            "{}",
            distinct.len()
        );
    }
}
