//! A small `multipart/form-data` reader (RFC 7578), enough for Flowable's binary-variable
//! uploads: the boundary from `Content-Type`, then each part's `Content-Disposition` name and
//! filename, its `Content-Type` and its bytes. It never panics on malformed input; it answers
//! a 400 instead.

use bpm_compat_model::CoreError;

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: Option<String>,
    /// Present for file parts.
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Part {
    pub fn is_file(&self) -> bool {
        self.filename.is_some()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// Splits `a; b="c; d"; e` at semicolons outside quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(value[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(value[start..].trim());
    out
}

fn unquote(v: &str) -> String {
    let v = v.trim();
    match v.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
        Some(inner) => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                } else {
                    out.push(c);
                }
            }
            out
        }
        None => v.to_string(),
    }
}

/// A parameter of a header value (`boundary`, `name`, `filename`), case-insensitively.
pub fn param(value: &str, key: &str) -> Option<String> {
    split_params(value).into_iter().skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| unquote(v))
    })
}

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<String> {
    let essence = split_params(content_type).first()?.to_ascii_lowercase();
    if essence != "multipart/form-data" {
        return None;
    }
    param(content_type, "boundary").filter(|b| !b.is_empty() && b.len() <= 200)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn malformed() -> CoreError {
    CoreError::invalid("Failed to parse multipart request: malformed body.")
}

/// Parses a body with the given boundary into its parts.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, CoreError> {
    let delimiter = format!("--{boundary}").into_bytes();
    let next_delimiter = format!("\r\n--{boundary}").into_bytes();
    // The first delimiter may open the body directly (no CRLF before it).
    let mut pos = if body.starts_with(&delimiter) {
        delimiter.len()
    } else {
        find(body, &next_delimiter, 0).ok_or_else(malformed)? + next_delimiter.len()
    };
    let mut parts = Vec::new();
    loop {
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then CRLF.
        let line_end = find(body, b"\r\n", pos).ok_or_else(malformed)?;
        if body[pos..line_end].iter().any(|b| !matches!(b, b' ' | b'\t')) {
            return Err(malformed());
        }
        let headers_start = line_end + 2;
        let (headers_end, data_start) = if body[headers_start..].starts_with(b"\r\n") {
            (headers_start, headers_start + 2)
        } else {
            let end = find(body, b"\r\n\r\n", headers_start).ok_or_else(malformed)?;
            (end, end + 4)
        };
        let headers = String::from_utf8_lossy(&body[headers_start..headers_end]);
        let mut part = Part {
            name: None,
            filename: None,
            content_type: None,
            data: Vec::new(),
        };
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim();
            if key.eq_ignore_ascii_case("content-disposition") {
                part.name = param(value, "name");
                part.filename = param(value, "filename");
            } else if key.eq_ignore_ascii_case("content-type") {
                part.content_type = Some(value.trim().to_string());
            }
        }
        let data_end = find(body, &next_delimiter, data_start).ok_or_else(malformed)?;
        part.data = body[data_start..data_end].to_vec();
        parts.push(part);
        pos = data_end + next_delimiter.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT: &str = "multipart/form-data; boundary=\"----XyZ\"";

    fn body() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(b"------XyZ\r\n");
        b.extend_from_slice(b"Content-Disposition: form-data; name=\"file\"; filename=\"a;b.bin\"\r\n");
        b.extend_from_slice(b"Content-Type: application/octet-stream\r\n\r\n");
        b.extend_from_slice(&[0, 1, 2, b'\r', b'\n', 255]);
        b.extend_from_slice(b"\r\n------XyZ\r\n");
        b.extend_from_slice(b"content-disposition: form-data; NAME=name\r\n\r\n");
        b.extend_from_slice(b"myVar");
        b.extend_from_slice(b"\r\n------XyZ\r\n");
        b.extend_from_slice(b"Content-Disposition: form-data; name=\"empty\"\r\n\r\n");
        b.extend_from_slice(b"\r\n------XyZ--\r\n");
        b
    }

    #[test]
    fn boundary_from_content_type() {
        assert_eq!(boundary(CT).as_deref(), Some("----XyZ"));
        assert_eq!(
            boundary("Multipart/Form-Data;boundary=abc").as_deref(),
            Some("abc")
        );
        assert_eq!(boundary("multipart/form-data").as_deref(), None);
        assert_eq!(boundary("application/json; boundary=x").as_deref(), None);
        assert_eq!(boundary("multipart/form-data; boundary=").as_deref(), None);
    }

    #[test]
    fn parses_parts() {
        let parts = parse(&body(), "----XyZ").expect("parses");
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0].name.as_deref(), Some("file"));
        assert_eq!(parts[0].filename.as_deref(), Some("a;b.bin"));
        assert_eq!(parts[0].content_type.as_deref(), Some("application/octet-stream"));
        assert_eq!(parts[0].data, vec![0, 1, 2, b'\r', b'\n', 255]);
        assert!(parts[0].is_file());
        assert_eq!(parts[1].name.as_deref(), Some("name"));
        assert_eq!(parts[1].text(), "myVar");
        assert!(!parts[1].is_file());
        assert_eq!(parts[2].data, Vec::<u8>::new());
    }

    #[test]
    fn preamble_is_skipped() {
        let mut b = b"preamble text\r\n".to_vec();
        b.extend_from_slice(&body());
        assert_eq!(parse(&b, "----XyZ").expect("parses").len(), 3);
    }

    #[test]
    fn malformed_bodies_are_bad_requests() {
        let full = body();
        for cut in 0..full.len() - 4 {
            // Every truncation either fails cleanly or yields parts; never a panic.
            let _ = parse(&full[..cut], "----XyZ");
        }
        assert!(parse(b"", "x").is_err());
        assert!(parse(b"--x\r\nno end", "x").is_err());
        assert_eq!(parse(b"--x--", "x"), Ok(vec![]));
        assert!(parse(b"--xjunk\r\n\r\n\r\n--x--", "x").is_err());
    }
}
