//! The rules an article must meet before a project is made from it (SPEC: 500–10,000 characters
//! of UTF-8 text). Bytes in, text or a typed error out; no I/O here.

use crate::error::{ErrorCode, YtError, YtResult};

pub const MIN_CHARS: usize = 500;
pub const MAX_CHARS: usize = 10_000;

/// Checks raw file bytes and returns the article text, or the code that names what is wrong.
pub fn decode_article(bytes: &[u8]) -> YtResult<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(YtError::new(ErrorCode::INPUT_EMPTY, "the article is empty")
            .detail("bytes", bytes.len()));
    }
    // UTF-16 text (Notepad's "Unicode") is full of NUL bytes but is text in the wrong encoding,
    // not a binary file: tell the user to convert it.
    if let Some(encoding) = utf16_encoding(bytes) {
        return Err(YtError::new(
            ErrorCode::INPUT_NOT_UTF8,
            format!("the article is {encoding} text, not UTF-8"),
        )
        .detail("detected_encoding", encoding)
        .detail("invalid_byte_offset", 0));
    }
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(YtError::new(
            ErrorCode::INPUT_BINARY,
            "the input contains NUL bytes; it is not a text file",
        )
        .detail("first_nul_offset", offset));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        YtError::new(
            ErrorCode::INPUT_NOT_UTF8,
            format!(
                "the article is not valid UTF-8 (first invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
        .detail("invalid_byte_offset", e.valid_up_to())
    })?;
    let controls = text
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    if controls > 0 {
        return Err(YtError::new(
            ErrorCode::INPUT_BINARY,
            format!("the input contains {controls} control characters; it is not a text article"),
        )
        .detail("control_characters", controls));
    }
    validate_article_text(text)?;
    Ok(text.to_owned())
}

/// A byte-order mark, or a NUL in most of the even (big-endian) or odd (little-endian) bytes,
/// which is what mostly-ASCII or CJK-with-ASCII UTF-16 looks like.
fn utf16_encoding(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xFE, ..] => return Some("UTF-16LE"),
        [0xFE, 0xFF, ..] => return Some("UTF-16BE"),
        _ => {}
    }
    let sample = &bytes[..bytes.len().min(4096) & !1];
    let pairs = sample.len() / 2;
    if pairs < 8 {
        return None;
    }
    let zero_at = |parity: usize| {
        sample
            .iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    if zero_at(1) * 10 >= pairs * 3 && zero_at(0) == 0 {
        Some("UTF-16LE")
    } else if zero_at(0) * 10 >= pairs * 3 && zero_at(1) == 0 {
        Some("UTF-16BE")
    } else {
        None
    }
}

/// Length rule on text that is already a string (e.g. from the API).
pub fn validate_article_text(text: &str) -> YtResult<()> {
    let chars = text.trim().chars().count();
    if chars == 0 {
        return Err(
            YtError::new(ErrorCode::INPUT_EMPTY, "the article is empty").detail("characters", 0)
        );
    }
    if chars < MIN_CHARS {
        return Err(YtError::new(
            ErrorCode::INPUT_TOO_SHORT,
            format!("the article has {chars} characters; at least {MIN_CHARS} are needed"),
        )
        .detail("characters", chars)
        .detail("min", MIN_CHARS));
    }
    if chars > MAX_CHARS {
        return Err(YtError::new(
            ErrorCode::INPUT_TOO_LONG,
            format!("the article has {chars} characters; at most {MAX_CHARS} are allowed"),
        )
        .detail("characters", chars)
        .detail("max", MAX_CHARS));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(bytes: &[u8]) -> ErrorCode {
        decode_article(bytes).unwrap_err().code
    }

    #[test]
    fn each_bad_input_gets_its_own_code() {
        assert_eq!(code(b""), ErrorCode::INPUT_EMPTY);
        assert_eq!(code(b"  \n\t "), ErrorCode::INPUT_EMPTY);
        assert_eq!(
            code("短".repeat(499).as_bytes()),
            ErrorCode::INPUT_TOO_SHORT
        );
        assert_eq!(
            code("長".repeat(10_001).as_bytes()),
            ErrorCode::INPUT_TOO_LONG
        );
        assert_eq!(
            code(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            ErrorCode::INPUT_BINARY
        );
        let big5 = [0xA5u8, 0x78, 0xC6, 0x57].repeat(300); // "台灣" in Big5
        assert_eq!(code(&big5), ErrorCode::INPUT_NOT_UTF8);
        assert_eq!(
            code(&"a\u{1b}b".repeat(300).into_bytes()),
            ErrorCode::INPUT_BINARY
        );
        let text = "台灣 2026\n".repeat(100);
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(code(&le), ErrorCode::INPUT_NOT_UTF8);
        assert_eq!(code(&be), ErrorCode::INPUT_NOT_UTF8);
        assert_eq!(
            code(&[[0xFF, 0xFE].as_slice(), &le].concat()),
            ErrorCode::INPUT_NOT_UTF8
        );
    }

    #[test]
    fn counts_characters_not_bytes_and_accepts_a_bom() {
        let text = "台".repeat(500);
        assert_eq!(
            decode_article(text.as_bytes()).unwrap().chars().count(),
            500
        );
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode_article(&with_bom).unwrap(), text);
        let err = decode_article("字".repeat(10).as_bytes()).unwrap_err();
        assert_eq!(err.details["characters"], 10);
    }
}
