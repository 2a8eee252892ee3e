//! Checks that uploaded screenshot bytes are the complete image they claim to be, with sane
//! dimensions, reading only headers and chunk structure (never decoding pixels).

use crate::DomainError;

/// The image formats a screenshot may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Webp,
}

impl ImageFormat {
    /// The media type of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Webp => "image/webp",
        }
    }

    /// The format a declared media type names, if it is one we take.
    pub fn from_content_type(content_type: &str) -> Option<Self> {
        match content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "image/png" => Some(ImageFormat::Png),
            "image/jpeg" | "image/jpg" => Some(ImageFormat::Jpeg),
            "image/webp" => Some(ImageFormat::Webp),
            _ => None,
        }
    }

    fn sniff(bytes: &[u8]) -> Option<Self> {
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageFormat::Jpeg)
        } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            Some(ImageFormat::Webp)
        } else {
            None
        }
    }
}

/// A screenshot that passed the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreenshotInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
}

/// Largest side of a screenshot, in pixels.
pub const MAX_SIDE: u32 = 16_384;
/// Most pixels in a screenshot (an 8K display at 2x is well under this).
pub const MAX_PIXELS: u64 = 70_000_000;

fn refuse(message: impl Into<String>) -> DomainError {
    DomainError::field("screenshot", message)
}

/// Walks PNG chunks to the IEND chunk; a cut-off file never reaches it.
fn png_is_complete(bytes: &[u8]) -> bool {
    let mut at = 8;
    while at + 12 <= bytes.len() {
        let length =
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let kind = &bytes[at + 4..at + 8];
        let Some(next) = at.checked_add(12).and_then(|n| n.checked_add(length)) else {
            return false;
        };
        if next > bytes.len() {
            return false;
        }
        if kind == b"IEND" {
            return true;
        }
        at = next;
    }
    false
}

fn jpeg_is_complete(bytes: &[u8]) -> bool {
    // Some encoders pad after the end-of-image marker; allow a little.
    let tail = &bytes[bytes.len().saturating_sub(64)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

fn webp_is_complete(bytes: &[u8]) -> bool {
    let declared = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]) as usize;
    declared
        .checked_add(8)
        .is_some_and(|total| total <= bytes.len())
}

/// Checks bytes declared as `content_type`: the right format, complete, and of bounded size.
pub fn check_screenshot(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<ScreenshotInfo, DomainError> {
    let format = ImageFormat::sniff(bytes)
        .ok_or_else(|| refuse("the screenshot is not a PNG, JPEG or WebP image"))?;
    if let Some(declared) = content_type {
        match ImageFormat::from_content_type(declared) {
            Some(claimed) if claimed == format => {}
            Some(claimed) => {
                return Err(refuse(format!(
                    "the screenshot claims to be {} but is {}",
                    claimed.content_type(),
                    format.content_type()
                )));
            }
            None if declared.trim().is_empty()
                || declared.starts_with("application/octet-stream") => {}
            None => {
                return Err(refuse(format!(
                    "screenshots must be image/png, image/jpeg or image/webp, not {declared}"
                )));
            }
        }
    }
    let size = imagesize::blob_size(bytes)
        .map_err(|_| refuse("the screenshot's header cannot be read"))?;
    let (width, height) = (size.width as u64, size.height as u64);
    if width == 0 || height == 0 {
        return Err(refuse("the screenshot has no pixels"));
    }
    if width > MAX_SIDE as u64 || height > MAX_SIDE as u64 || width * height > MAX_PIXELS {
        return Err(refuse(format!(
            "the screenshot is {width} x {height} pixels; at most {MAX_SIDE} a side and {MAX_PIXELS} pixels are accepted"
        )));
    }
    let complete = match format {
        ImageFormat::Png => png_is_complete(bytes),
        ImageFormat::Jpeg => jpeg_is_complete(bytes),
        ImageFormat::Webp => webp_is_complete(bytes),
    };
    if !complete {
        return Err(refuse("the screenshot is cut off (the file is incomplete)"));
    }
    Ok(ScreenshotInfo {
        format,
        width: width as u32,
        height: height as u32,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut out = (data.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&[0, 0, 0, 0]); // CRC: not checked here
        out
    }

    /// A structurally complete PNG of the given size (pixel data not needed for these checks).
    pub fn png(width: u32, height: u32) -> Vec<u8> {
        let mut ihdr = width.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        out.extend(chunk(b"IHDR", &ihdr));
        out.extend(chunk(b"IDAT", &[0u8; 16]));
        out.extend(chunk(b"IEND", &[]));
        out
    }

    fn jpeg(width: u16, height: u16) -> Vec<u8> {
        let mut out = vec![
            0xFF, 0xD8, 0xFF, 0xE0, 0, 16, b'J', b'F', b'I', b'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
        ];
        out.extend_from_slice(&[0xFF, 0xC0, 0, 17, 8]);
        out.extend_from_slice(&height.to_be_bytes());
        out.extend_from_slice(&width.to_be_bytes());
        out.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }

    #[test]
    fn a_complete_png_passes_with_its_size() {
        let info = check_screenshot(&png(1440, 900), Some("image/png")).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Png, 1440, 900)
        );
        assert!(check_screenshot(&jpeg(800, 600), Some("image/jpeg")).is_ok());
    }

    #[test]
    fn wrong_truncated_or_huge_images_are_refused() {
        assert!(
            check_screenshot(b"GIF89a....", Some("image/png"))
                .unwrap_err()
                .message
                .contains("not a PNG")
        );
        assert!(
            check_screenshot(&jpeg(800, 600), Some("image/png"))
                .unwrap_err()
                .message
                .contains("claims")
        );
        let whole = png(1440, 900);
        assert!(
            check_screenshot(&whole[..whole.len() - 12], Some("image/png"))
                .unwrap_err()
                .message
                .contains("cut off")
        );
        assert!(
            check_screenshot(&png(50_000, 50_000), Some("image/png"))
                .unwrap_err()
                .message
                .contains("50000 x 50000")
        );
        assert!(check_screenshot(&png(1440, 900), Some("text/html")).is_err());
        assert!(check_screenshot(&[], None).is_err());
    }
}
