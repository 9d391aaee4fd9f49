//! Subtitle cues: splitting narration into timed lines, and writing them as SRT (for YouTube)
//! and ASS (burned into the clips by libass).

use std::path::Path;
use std::sync::OnceLock;
use ytmaker_core::config::{FRAME_HEIGHT, FRAME_WIDTH, SubtitleStyle};
use ytmaker_core::{ErrorCode, YtError, YtResult};

/// One subtitle line on screen from `start_s` to `end_s`.
#[derive(Clone, Debug, PartialEq)]
pub struct Cue {
    pub start_s: f64,
    pub end_s: f64,
    pub text: String,
}

/// Splits one narration line into cues covering `[start_s, end_s)` back to back, in order.
///
/// Lines break after punctuation (，。！？；、 and , . ! ? ; followed by a space) where they can,
/// and are wrapped to `max_line_chars` (CJK characters count 1, others ½) where a clause is
/// longer. Time is shared in proportion to each cue's width, a stand-in for how long it takes to
/// say. Whitespace runs become one space and cue ends are trimmed; no other character is dropped.
pub fn cues_for_line(text: &str, start_s: f64, end_s: f64, max_line_chars: u32) -> Vec<Cue> {
    let normalized = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let max = f64::from(max_line_chars.max(1));
    let lines = pack_clauses(&clauses(&normalized), max);
    let total: f64 = lines.iter().map(|l| width(l)).sum();
    let mut done = 0.0;
    let last = lines.len().saturating_sub(1);
    lines
        .into_iter()
        .enumerate()
        .map(|(i, line)| {
            let cue_start = start_s + (end_s - start_s) * done / total;
            done += width(&line);
            let cue_end = if i == last {
                end_s
            } else {
                start_s + (end_s - start_s) * done / total
            };
            Cue {
                start_s: cue_start,
                end_s: cue_end,
                text: line,
            }
        })
        .collect()
}

/// Writes the cues as SubRip, the format YouTube accepts as a caption track.
pub fn write_srt(cues: &[Cue], path: &Path) -> YtResult<()> {
    let mut srt = String::new();
    for (i, cue) in cues.iter().enumerate() {
        srt.push_str(&format!(
            "{}\n{} --> {}\n{}\n\n",
            i + 1,
            srt_time(cue.start_s),
            srt_time(cue.end_s),
            cue.text
        ));
    }
    std::fs::write(path, srt).map_err(|err| YtError::io("write subtitles", path, &err))
}

/// Writes an ASS script that draws each cue as one line whose bottom centre is at
/// `style.position`, in the style's font, colours and outline.
pub(crate) fn write_ass(cues: &[Cue], style: &SubtitleStyle, path: &Path) -> YtResult<()> {
    if style.font_family.contains(',') {
        // ASS style lines are comma-separated with no quoting.
        return Err(YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            "subtitles.font_family",
            "no commas (ASS cannot name such a family)",
            style.font_family.as_str(),
        ));
    }
    let primary = ass_color("subtitles.primary_color", &style.primary_color)?;
    let outline = ass_color("subtitles.outline_color", &style.outline_color)?;
    let mut ass = format!(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: {FRAME_WIDTH}\nPlayResY: {FRAME_HEIGHT}\n\
         WrapStyle: 2\nScaledBorderAndShadow: yes\nYCbCr Matrix: TV.709\n\n\
         [V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, \
         Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, \
         Alignment, MarginL, MarginR, MarginV, Encoding\n\
         Style: Default,{font},{size},{primary},{primary},{outline},{outline},0,0,0,0,100,100,0,0,1,{border},0,2,0,0,0,1\n\n\
         [Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n",
        font = style.font_family,
        size = style.font_size,
        border = style.outline_width,
    );
    for cue in cues {
        ass.push_str(&format!(
            "Dialogue: 0,{},{},Default,,0,0,0,,{{\\an2\\pos({},{})}}{}\n",
            ass_time(cue.start_s),
            ass_time(cue.end_s),
            style.position.x,
            style.position.y,
            ass_text(&cue.text)
        ));
    }
    std::fs::write(path, ass).map_err(|err| YtError::io("write subtitles", path, &err))
}

/// `#RRGGBB` or `#RRGGBBAA` (AA = opacity, FF opaque) → ASS `&HAABBGGRR` (AA = transparency).
fn ass_color(field: &str, hex: &str) -> YtResult<String> {
    let [r, g, b, a] = parse_hex_color(hex).ok_or_else(|| {
        YtError::invalid_field(
            ErrorCode::VALIDATION_ERROR,
            field,
            "hex colour #RRGGBB or #RRGGBBAA",
            hex,
        )
    })?;
    Ok(format!("&H{:02X}{b:02X}{g:02X}{r:02X}", 255 - a))
}

/// `#RRGGBB` or `#RRGGBBAA` as RGBA bytes.
pub(crate) fn parse_hex_color(hex: &str) -> Option<[u8; 4]> {
    let digits = hex
        .strip_prefix('#')
        .filter(|d| matches!(d.len(), 6 | 8) && d.is_ascii())?;
    let byte = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
    Some([
        byte(0)?,
        byte(2)?,
        byte(4)?,
        if digits.len() == 8 { byte(6)? } else { 255 },
    ])
}

/// Keeps narration text literal in ASS: braces open override blocks and `\N`, `\n`, `\h` are
/// line breaks and spaces, so braces are escaped and a word joiner (zero width) follows every
/// backslash.
fn ass_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\\' => out.push_str("\\\u{2060}"),
            _ => out.push(c),
        }
    }
    out
}

fn ass_time(seconds: f64) -> String {
    let cs = (seconds.max(0.0) * 100.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:02}",
        cs / 360_000,
        cs / 6000 % 60,
        cs / 100 % 60,
        cs % 100
    )
}

fn srt_time(seconds: f64) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02},{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// How wide a character is on screen, in CJK character widths.
fn char_width(c: char) -> f64 {
    if is_wide(c) { 1.0 } else { 0.5 }
}

fn width(text: &str) -> f64 {
    text.chars().map(char_width).sum()
}

/// East Asian wide and full-width characters: CJK ideographs, kana, hangul, CJK and full-width
/// punctuation.
fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Punctuation after which a subtitle line may end.
fn is_break(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '！' | '？' | '；' | '、' | '：' | ',' | '.' | '!' | '?' | ';'
    )
}

/// Closing quotes and brackets stay with the clause they close.
fn is_closing(c: char) -> bool {
    matches!(
        c,
        '」' | '』' | '）' | '”' | '’' | '"' | '\'' | ')' | '】' | '》' | '〉'
    )
}

fn ends_sentence(clause: &str) -> bool {
    clause
        .trim_end()
        .trim_end_matches(is_closing)
        .ends_with(['。', '！', '？', '!', '?', '.'])
}

/// Splits text after break punctuation. ASCII punctuation breaks only before a space or the end,
/// so `3.14` and `e.g.x` stay whole. Each clause keeps its leading space, so concatenating the
/// clauses gives the text back.
fn clauses(text: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut clauses = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i].1;
        let next = chars.get(i + 1).map(|&(_, n)| n);
        let breaks = is_break(c)
            && (!c.is_ascii() || next.is_none_or(|n| n == ' ' || is_break(n) || is_closing(n)));
        i += 1;
        if breaks {
            while i < chars.len() && (is_break(chars[i].1) || is_closing(chars[i].1)) {
                i += 1;
            }
            let end = chars.get(i).map_or(text.len(), |&(at, _)| at);
            clauses.push(&text[start..end]);
            start = end;
        }
    }
    if start < text.len() {
        clauses.push(&text[start..]);
    }
    clauses
}

/// Greedily fills lines with whole clauses; a clause wider than a line is wrapped on its own.
/// A sentence end closes a line that is at least half full, so a new sentence starts a new line
/// without leaving a fragment that would flash by.
fn pack_clauses(clauses: &[&str], max: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for clause in clauses {
        let joined = format!("{current}{clause}");
        if width(joined.trim()) <= max {
            current = joined;
            if ends_sentence(clause) && width(current.trim()) >= max / 2.0 {
                lines.push(current.trim().to_owned());
                current.clear();
            }
            continue;
        }
        if !current.trim().is_empty() {
            lines.push(current.trim().to_owned());
        }
        current = (*clause).to_owned();
        if width(current.trim()) > max {
            let mut pieces = wrap(&current, max);
            current = pieces.pop().unwrap_or_default();
            lines.extend(pieces);
        }
    }
    if !current.trim().is_empty() {
        lines.push(current.trim().to_owned());
    }
    lines
}

/// Wraps text to `max` width: between words for Latin text, between characters for CJK, and
/// inside a word only when the word alone is wider than a line.
fn wrap(text: &str, max: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for token in tokens(text) {
        if width(line.trim_start()) + width(token) > max && !line.trim().is_empty() {
            lines.push(line.trim().to_owned());
            line.clear();
        }
        if width(token) > max {
            for c in token.chars() {
                if width(&line) + char_width(c) > max && !line.trim().is_empty() {
                    lines.push(line.trim().to_owned());
                    line.clear();
                }
                line.push(c);
            }
        } else {
            line.push_str(token);
        }
    }
    if !line.trim().is_empty() {
        lines.push(line.trim().to_owned());
    }
    lines
}

/// Chinese word boundaries: jieba's dictionary (mostly Simplified) with its HMM for words it
/// does not list, which keeps Traditional words such as 昆蟲 or 小綠葉蟬 whole. Loaded once, on
/// first use (about 0.3 s).
fn segmenter() -> &'static jieba_rs::Jieba {
    static JIEBA: OnceLock<jieba_rs::Jieba> = OnceLock::new();
    JIEBA.get_or_init(jieba_rs::Jieba::new)
}

/// Wrapping units: a space, a Chinese word (or a single wide character or punctuation mark), or
/// a run of other characters (a Latin word). A line never breaks inside a unit unless the unit
/// alone is wider than a line.
pub(crate) fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Run {
        Wide,
        Other,
    }
    fn flush<'a>(text: &'a str, tokens: &mut Vec<&'a str>, run: Option<(usize, Run)>, end: usize) {
        match run {
            Some((start, Run::Wide)) => tokens.extend(
                segmenter()
                    .cut(&text[start..end], true)
                    .into_iter()
                    .map(|t| t.word),
            ),
            Some((start, Run::Other)) => tokens.push(&text[start..end]),
            None => {}
        }
    }
    let mut tokens = Vec::new();
    let mut run: Option<(usize, Run)> = None;
    for (at, c) in text.char_indices() {
        let kind = if c == ' ' {
            None
        } else if is_wide(c) {
            Some(Run::Wide)
        } else {
            Some(Run::Other)
        };
        match (&run, kind) {
            (Some((_, current)), Some(kind)) if *current == kind => {}
            (_, kind) => {
                flush(text, &mut tokens, run.take(), at);
                match kind {
                    Some(kind) => run = Some((at, kind)),
                    None => tokens.push(&text[at..at + 1]),
                }
            }
        }
    }
    flush(text, &mut tokens, run, text.len());
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squash(s: &str) -> String {
        s.chars().filter(|c| !c.is_whitespace()).collect()
    }

    fn check(text: &str, start: f64, end: f64, max: u32) -> Vec<Cue> {
        let cues = cues_for_line(text, start, end, max);
        assert!(!cues.is_empty());
        assert_eq!(cues.first().unwrap().start_s, start);
        assert_eq!(cues.last().unwrap().end_s, end);
        for pair in cues.windows(2) {
            assert_eq!(pair[0].end_s, pair[1].start_s, "cues are back to back");
        }
        for cue in &cues {
            assert!(cue.end_s > cue.start_s, "{cue:?}");
            assert!(
                width(&cue.text) <= f64::from(max),
                "{cue:?} wider than {max}"
            );
            assert_eq!(cue.text, cue.text.trim());
        }
        let joined: String = cues.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(squash(&joined), squash(text), "no text lost");
        cues
    }

    #[test]
    fn chinese_breaks_at_punctuation_and_fills_lines() {
        let text = "今天我們來談談人工智慧。它正在改變世界，也改變了我們工作的方式！你準備好了嗎？";
        let cues = check(text, 10.0, 20.0, 20);
        assert_eq!(
            cues.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
            [
                "今天我們來談談人工智慧。",
                "它正在改變世界，也改變了我們工作的方式！",
                "你準備好了嗎？"
            ]
        );
        // Time follows width: 12 + 20 + 7 characters over 10 s.
        assert!((cues[1].start_s - (10.0 + 10.0 * 12.0 / 39.0)).abs() < 1e-9);
    }

    #[test]
    fn long_clauses_wrap_and_english_wraps_between_words() {
        check(
            "這是一個非常非常非常非常非常非常非常非常非常長而且完全沒有任何標點符號的句子",
            0.0,
            8.0,
            10,
        );
        let cues = check(
            "The quick brown fox jumps over the lazy dog, and then it runs away. Pi is 3.14 today!",
            0.0,
            6.0,
            12,
        );
        assert!(cues.iter().any(|c| c.text.contains("3.14")), "{cues:?}");
        assert!(
            cues.iter()
                .all(|c| !c.text.starts_with(' ') && !c.text.contains("  "))
        );
        check(
            "Supercalifragilisticexpialidocious-and-then-some",
            0.0,
            2.0,
            8,
        );
    }

    #[test]
    fn a_long_chinese_clause_breaks_between_words_never_inside_one() {
        // The clause that used to end a cue with 昆 and start the next with 蟲.
        let text = "在台灣的稻田裡常見小綠葉蟬的昆蟲牠們會吸食水稻的汁液而且數量很多";
        for max in [5, 6, 7, 8, 9, 10] {
            let cues = check(text, 0.0, 10.0, max);
            let joined = cues
                .iter()
                .map(|c| c.text.as_str())
                .collect::<Vec<_>>()
                .join("|");
            for word in [
                "台灣",
                "稻田",
                "小綠葉蟬",
                "昆蟲",
                "吸食",
                "水稻",
                "汁液",
                "數量",
            ] {
                assert!(
                    joined.contains(word),
                    "{word} broken at width {max}: {joined}"
                );
            }
        }
        // Words and punctuation are the units; nothing is lost or reordered.
        assert_eq!(
            tokens("小綠葉蟬的昆蟲，AI 很強"),
            ["小綠葉蟬", "的", "昆蟲", "，", "AI", " ", "很強"]
        );
    }

    #[test]
    fn mixed_text_quotes_and_white_space_changes_only() {
        let cues = check("他說：「AI 很強。」\n然後 走了…… OK?  好！", 1.0, 4.0, 8);
        assert!(
            cues.iter().any(|c| c.text.ends_with("「AI 很強。」")),
            "{cues:?}"
        );
        assert!(cues_for_line("  \n ", 0.0, 1.0, 20).is_empty());
    }

    #[test]
    fn ass_colours_and_escapes() {
        assert_eq!(ass_color("f", "#FF8000").unwrap(), "&H000080FF");
        assert_eq!(ass_color("f", "#FF800080").unwrap(), "&H7F0080FF");
        assert_eq!(
            ass_color("f", "white").unwrap_err().code,
            ErrorCode::VALIDATION_ERROR
        );
        assert_eq!(ass_text("a{b}\\N"), "a\\{b\\}\\\u{2060}N");
        assert_eq!(ass_time(3725.456), "1:02:05.46");
        assert_eq!(srt_time(3725.4567), "01:02:05,457");
    }

    #[test]
    fn srt_and_ass_files() {
        let dir = tempfile::tempdir().unwrap();
        let cues = cues_for_line("第一句。第二句。", 0.0, 2.0, 4);
        write_srt(&cues, &dir.path().join("a.srt")).unwrap();
        let srt = std::fs::read_to_string(dir.path().join("a.srt")).unwrap();
        assert_eq!(
            srt,
            "1\n00:00:00,000 --> 00:00:01,000\n第一句。\n\n2\n00:00:01,000 --> 00:00:02,000\n第二句。\n\n"
        );
        write_ass(&cues, &SubtitleStyle::default(), &dir.path().join("a.ass")).unwrap();
        let ass = std::fs::read_to_string(dir.path().join("a.ass")).unwrap();
        assert!(ass.contains(
            "Style: Default,Noto Sans CJK TC,56,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,"
        ));
        assert!(ass.contains(
            "Dialogue: 0,0:00:01.00,0:00:02.00,Default,,0,0,0,,{\\an2\\pos(960,1010)}第二句。"
        ));
        let err = write_srt(&cues, &dir.path().join("missing/a.srt")).unwrap_err();
        assert_eq!(err.code, ErrorCode::FILE_NOT_FOUND);
    }
}
