//! A browser's view of the pages: signed in through the sign-in form with a session cookie,
//! asking for gzip like every browser does, and counting the bytes of each answer.

use super::search::serde_urlencoded_pair;
use anyhow::{Context, bail};
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use reqwest::{StatusCode, header};
use std::io::{Read, Write};

/// The session cookie's name (see `moth_server::auth::SESSION_COOKIE`).
const SESSION_COOKIE: &str = "moth_session";

/// A signed-in browser talking to one server.
pub struct Browser {
    http: reqwest::Client,
    base_url: String,
    cookie: String,
}

/// One page as it came over the wire.
pub struct Page {
    /// The HTML (or JSON), decompressed.
    pub body: Vec<u8>,
    /// Bytes sent on the wire: compressed if the server compressed.
    pub wire_bytes: usize,
    /// Whether the server answered with `Content-Encoding: gzip`.
    pub compressed: bool,
}

impl Browser {
    /// Posts the sign-in form like a browser and keeps the session cookie it sets.
    pub async fn sign_in(base_url: &str, email: &str, password: &str) -> anyhow::Result<Self> {
        // Redirects are not followed: the cookie is on the sign-in answer itself.
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("cannot build the HTTP client")?;
        let base_url = base_url.trim_end_matches('/').to_string();
        let form = format!(
            "{}&{}&next=%2F",
            serde_urlencoded_pair("email", email),
            serde_urlencoded_pair("password", password)
        );
        let response = http
            .post(format!("{base_url}/login"))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .context("POST /login failed")?;
        if response.status() != StatusCode::SEE_OTHER {
            bail!("signing in answered {}", response.status());
        }
        let cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|pair| pair.starts_with(&format!("{SESSION_COOKIE}=")))
            .context("signing in set no session cookie")?
            .to_string();
        Ok(Self {
            http,
            base_url,
            cookie,
        })
    }

    /// GETs a page with the session cookie; anything but 200 (a redirect to sign-in, too) is
    /// an error.
    pub async fn get(&self, path: &str) -> anyhow::Result<Page> {
        let response = self
            .http
            .get(format!("{}{path}", self.base_url))
            .header(header::COOKIE, &self.cookie)
            .header(header::ACCEPT, "text/html")
            .header(header::ACCEPT_ENCODING, "gzip")
            .send()
            .await
            .with_context(|| format!("GET {path} failed"))?;
        let status = response.status();
        let compressed = response
            .headers()
            .get(header::CONTENT_ENCODING)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        let wire = response
            .bytes()
            .await
            .with_context(|| format!("GET {path}: cannot read the answer"))?;
        let body = if compressed {
            gunzip(&wire)?
        } else {
            wire.to_vec()
        };
        if status != StatusCode::OK {
            let text: String = String::from_utf8_lossy(&body).chars().take(2000).collect();
            bail!("GET {path} answered {status}: {text}");
        }
        Ok(Page {
            body,
            wire_bytes: wire.len(),
            compressed,
        })
    }
}

impl Page {
    /// The gzip size: what came over the wire if compressed, else what gzip would make of it.
    pub fn gzip_bytes(&self) -> usize {
        if self.compressed {
            return self.wire_bytes;
        }
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        // Writing to a Vec cannot fail.
        let _ = encoder.write_all(&self.body);
        encoder.finish().map(|v| v.len()).unwrap_or(0)
    }

    /// The body as text, for checks.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

fn gunzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .context("the gzip answer does not decompress")?;
    Ok(out)
}
