//! The `moth` binary as an operator meets it: set-up commands, clear start-up errors, logs,
//! and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn moth(data_dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_moth"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("MOTH_DATA_DIR", data_dir);
    command
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `moth serve` and waits for its "listening" line.
fn serve(
    data_dir: &std::path::Path,
    extra: &[&str],
) -> (Child, String, std::sync::mpsc::Receiver<String>) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = moth(data_dir)
        .args(["serve", "--addr", &addr])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    let mut stdout = stdout;
    stdout.read_line(&mut line).unwrap();
    assert!(line.contains("listening on"), "{line}");
    let (tx, rx) = std::sync::mpsc::channel();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, format!("http://{addr}"), rx)
}

fn create_admin(data_dir: &std::path::Path, password: &str) -> std::process::Output {
    let mut child = moth(data_dir)
        .args([
            "user",
            "create",
            "--email",
            "root@example.com",
            "--name",
            "Root",
            "--role",
            "admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn user_and_token_commands_set_up_an_admin_the_api_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let weak = create_admin(dir.path(), "short");
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 10 characters"));
    let created = create_admin(dir.path(), "correct horse battery");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("created admin root@example.com"));
    let again = create_admin(dir.path(), "correct horse battery");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let token = moth(dir.path())
        .args(["token", "create", "--email", "root@example.com"])
        .output()
        .unwrap();
    assert!(token.status.success());
    let token = String::from_utf8(token.stdout).unwrap().trim().to_string();
    assert!(token.starts_with("moth_"));
    let nobody = moth(dir.path())
        .args(["token", "create", "--email", "nobody@example.com"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&nobody.stderr).contains("moth user create"));

    let (mut child, base, _logs) = serve(dir.path(), &[]);
    let response = ureq_get(&format!("{base}/api/v1/me"), Some(&token));
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("root@example.com"));
    stop(&mut child);
}

#[test]
fn start_up_problems_are_explained_not_panicked() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _logs) = serve(dir.path(), &[]);
    let addr = base.trim_start_matches("http://").to_string();
    let taken = moth(dir.path())
        .args(["serve", "--addr", &addr])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&taken.stderr);
    assert!(!taken.status.success());
    assert!(
        stderr.contains("already in use") && stderr.contains("--addr"),
        "{stderr}"
    );
    stop(&mut child);

    let unreachable = moth(dir.path())
        .args([
            "serve",
            "--database-url",
            "postgres://moth:secret@127.0.0.1:1/moth",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(
        stderr.contains("cannot open the database") && !stderr.contains("secret"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");

    let wrong = moth(dir.path())
        .args(["serve", "--database-url", "mysql://x"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("postgres://"));

    let file = dir.path().join("a-file");
    std::fs::write(&file, "not a directory").unwrap();
    let not_dir = moth(&file).args(["serve"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&not_dir.stderr);
    assert!(
        stderr.contains("data dir") && stderr.contains("--data-dir"),
        "{stderr}"
    );

    let bad_config = dir.path().join("moth.toml");
    std::fs::write(&bad_config, "port = 1\n").unwrap();
    let output = moth(dir.path())
        .args(["serve", "--config"])
        .arg(&bad_config)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("port"),
        "unknown keys are named"
    );
}

#[test]
fn json_logs_carry_the_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, logs) = serve(dir.path(), &["--log-format", "json"]);
    let response = raw_request(
        &base,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: trace-me-42\r\nConnection: close\r\n\r\n",
    );
    assert!(
        response
            .to_lowercase()
            .contains("x-request-id: trace-me-42"),
        "{response}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let line = loop {
        let line = logs
            .recv_timeout(deadline - Instant::now())
            .expect("a log line for the request");
        if line.contains("trace-me-42") {
            break line;
        }
    };
    let parsed: serde_json::Value =
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(parsed["span"]["request_id"], "trace-me-42", "{line}");
    stop(&mut child);
}

#[test]
fn sigterm_finishes_the_request_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base, _logs) = serve(dir.path(), &[]);
    let addr = base.trim_start_matches("http://").to_string();
    // A request whose body arrives slowly is in flight when the signal comes.
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    let body = "email=a%40example.com&password=whatever";
    write!(stream, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len()).unwrap();
    stream.write_all(&body.as_bytes()[..5]).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    signal_term(&child);
    std::thread::sleep(Duration::from_millis(300));
    stream.write_all(&body.as_bytes()[5..]).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 "),
        "the request in flight got its answer: {answer:?}"
    );
    let status =
        wait_with_timeout(&mut child, Duration::from_secs(10)).expect("moth stops after SIGTERM");
    assert!(status.success(), "{status:?}");
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "no longer listening"
    );
}

fn signal_term(child: &Child) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn stop(child: &mut Child) {
    signal_term(child);
    wait_with_timeout(child, Duration::from_secs(10)).expect("moth stops after SIGTERM");
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

fn raw_request(base: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(base.trim_start_matches("http://")).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    std::io::Read::read_to_string(&mut stream, &mut answer).unwrap();
    answer
}

fn ureq_get(url: &str, token: Option<&str>) -> String {
    let (base, path) = url.split_at(url[7..].find('/').map(|i| i + 7).unwrap_or(url.len()));
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    raw_request(
        base,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
    )
}
