//! Font families resolved through fontconfig, without substitution.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// One face of an installed font: the file and, for collections (`.ttc`), the face's index in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FontFace {
    pub family: String,
    pub path: PathBuf,
    pub index: u32,
}

/// Finds the regular or bold face of `family` with `fc-list` (synchronous: one short process).
///
/// `fc-list` lists only fonts that match the pattern; unlike `fc-match` it never substitutes a
/// "closest" family, so a missing family is `FONT_NOT_FOUND` (details: family, weight), which is
/// what SPEC §1 demands. When several files hold the face (e.g. an OTF and a TTC copy), the first
/// path in sort order wins so the choice is the same on every run.
pub fn resolve_font(family: &str, bold: bool) -> YtResult<FontFace> {
    let weight = if bold { "bold" } else { "regular" };
    let not_found = |reason: &str| {
        YtError::new(
            ErrorCode::FONT_NOT_FOUND,
            format!("font family \"{family}\" ({weight}) is not installed"),
        )
        .detail("family", family)
        .detail("weight", weight)
        .detail("reason", reason)
    };
    if family.trim().is_empty() {
        return Err(not_found("empty family name"));
    }
    // Weight, not style name: families name their regular face "Regular", "Book" or "Normal",
    // while fontconfig's weight scale is the same for all of them.
    let pattern = format!(":family={}:weight={weight}", escape_pattern_value(family));
    let output = Command::new("fc-list")
        .arg("--format=%{file}\t%{index}\t%{family}\n")
        .arg(&pattern)
        .output()
        .map_err(|err| {
            not_found("fontconfig's fc-list cannot be run").detail("os_error", err.to_string())
        })?;
    if !output.status.success() {
        return Err(not_found("fc-list failed")
            .detail("exit_status", output.status.to_string())
            .detail(
                "stderr",
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
    }
    let listing = String::from_utf8_lossy(&output.stdout);
    let mut faces: Vec<FontFace> = listing
        .lines()
        .filter_map(|line| parse_face(line, family))
        .collect();
    faces.sort_by(|a, b| (&a.path, a.index).cmp(&(&b.path, b.index)));
    faces.into_iter().next().ok_or_else(|| {
        not_found("fc-list lists no such face").detail("pattern", Value::from(pattern))
    })
}

/// One `file\tindex\tfamilies` line. The family reported is the name that matched the request
/// (fontconfig compares ignoring case and blanks), not a localised alias listed beside it.
fn parse_face(line: &str, wanted: &str) -> Option<FontFace> {
    let mut fields = line.split('\t');
    let (path, index, families) = (fields.next()?, fields.next()?, fields.next()?);
    let index = index.trim().parse().ok()?;
    let key = |s: &str| {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let family = families
        .split(',')
        .find(|f| key(f) == key(wanted))
        .unwrap_or(wanted);
    Some(FontFace {
        family: family.to_owned(),
        path: PathBuf::from(path),
        index,
    })
}

/// Fontconfig patterns give `\ - : ,` a meaning; inside a value they must be escaped.
fn escape_pattern_value(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | '-' | ':' | ',') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_values_are_escaped() {
        assert_eq!(
            escape_pattern_value("Foo-Bar: Baz,Qux\\"),
            "Foo\\-Bar\\: Baz\\,Qux\\\\"
        );
    }

    #[test]
    fn the_matching_family_name_is_reported() {
        let face = parse_face(
            "/f/a.ttc\t3\tSource Han Sans TW,Noto Sans CJK TC",
            "noto sans cjk tc",
        )
        .unwrap();
        assert_eq!(
            face,
            FontFace {
                family: "Noto Sans CJK TC".into(),
                path: "/f/a.ttc".into(),
                index: 3
            }
        );
    }
}
