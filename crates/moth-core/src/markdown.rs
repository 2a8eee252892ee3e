//! Comments and descriptions are Markdown, rendered to HTML that is safe to show anywhere.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown to HTML with scripts, handlers and unsafe URLs removed.
pub fn render_markdown(source: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(source, options));
    ammonia::Builder::default()
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = render_markdown("**bold** and `code`\n\n- one\n- two");
        assert!(html.contains("<strong>bold</strong>"));
        assert!(html.contains("<code>code</code>"));
        assert!(html.contains("<li>one</li>"));
    }

    #[test]
    fn scripts_and_handlers_are_removed() {
        let html = render_markdown("<script>alert(1)</script><img src=x onerror=alert(2)>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        let html = render_markdown("[x](javascript:alert(3))");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(">x</a>"), "the link text stays: {html}");
        let html = render_markdown("<iframe src=//evil></iframe> text");
        assert!(!html.contains("<iframe"), "{html}");
    }

    #[test]
    fn links_do_not_leak_the_opener() {
        let html = render_markdown("[docs](https://example.com)");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }
}
