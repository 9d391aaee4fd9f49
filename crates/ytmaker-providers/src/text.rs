//! Article text: clean-up, language detection, paragraphs, sentences and clauses.
//!
//! Everything here is pure and deterministic. The script writer builds on it, and it is public so
//! that callers (and tests) can see exactly which text a script was made from: every narration
//! line is a run of the sentences [`split_sentences`] finds in [`normalise`]'s paragraphs.

use std::borrow::Cow;

use ytmaker_core::script::Language;

use crate::html_entities;

/// One paragraph of the cleaned article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paragraph {
    pub text: String,
    /// A title or section heading (a short line without closing punctuation, or a Markdown `#`
    /// line). Headings name what follows; they are not narrated.
    pub heading: bool,
}

/// The article after [`normalise`].
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NormalisedText {
    pub paragraphs: Vec<Paragraph>,
}

impl NormalisedText {
    /// The paragraphs that are narrated (everything but headings).
    pub fn body(&self) -> impl Iterator<Item = &Paragraph> {
        self.paragraphs.iter().filter(|p| !p.heading)
    }

    pub fn has_body(&self) -> bool {
        self.body().next().is_some()
    }

    /// All paragraph text, one paragraph per line.
    pub fn joined(&self) -> String {
        self.paragraphs
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// CJK ideographs (the unified blocks, extension A, compatibility ideographs and the supplementary
/// planes).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF | 0x3007)
}

/// Full-width punctuation and symbols of CJK text (spaces next to them are not word separators).
pub fn is_cjk_punct(c: char) -> bool {
    matches!(c as u32, 0x3000..=0x303F | 0xFF00..=0xFF65 | 0xFE30..=0xFE4F | 0x2018..=0x201F | 0x2026 | 0x2014 | 0x00B7)
}

fn is_cjkish(c: char) -> bool {
    is_cjk(c) || is_cjk_punct(c)
}

/// zh-TW when CJK ideographs outnumber Latin words (one ideograph is about one spoken syllable,
/// one Latin word about one and a half), English otherwise.
pub fn detect_language(text: &str) -> Language {
    let mut cjk = 0usize;
    let mut latin_words = 0usize;
    let mut in_word = false;
    for c in text.chars() {
        if is_cjk(c) {
            cjk += 1;
        }
        let latin = c.is_ascii_alphabetic();
        if latin && !in_word {
            latin_words += 1;
        }
        in_word = latin;
    }
    if cjk > latin_words {
        Language::ZhTw
    } else {
        Language::En
    }
}

/// Cleans an article: removes HTML tags and entities, Markdown markup, URLs, citation markers,
/// emoji and invisible characters; rebuilds paragraphs from lines; collapses white space (and
/// drops it between CJK characters, where it is only layout).
pub fn normalise(raw: &str) -> NormalisedText {
    let text = strip_html(&raw.replace("\r\n", "\n").replace('\r', "\n"));
    let language = detect_language(&text);
    let lines = markdown_lines(&text);
    NormalisedText {
        paragraphs: assemble_paragraphs(&lines, language),
    }
}

/// One source line after inline clean-up.
#[derive(Debug)]
struct Line {
    text: String,
    /// Marked as a heading by the markup itself (`#`, `<h1>`).
    marked_heading: bool,
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "li",
    "ul",
    "ol",
    "tr",
    "table",
    "blockquote",
    "header",
    "footer",
];
const HEADING_TAGS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6"];
/// Private-use marker that survives until [`markdown_lines`]: "this line came from an <hN>".
const HEADING_MARK: char = '\u{E000}';

/// Removes tags (block-level ones become paragraph breaks, headings become marked lines) and
/// decodes character references (every HTML5 name, decimal and hexadecimal numbers).
fn strip_html(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '<'
            && let Some(end) = tag_end(&chars, i)
        {
            let inner: String = chars[i + 1..end].iter().collect();
            let name: String = inner
                .trim_start_matches('/')
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
                .to_ascii_lowercase();
            let closing = inner.starts_with('/');
            if name == "br" {
                out.push('\n');
            } else if HEADING_TAGS.contains(&name.as_str()) {
                out.push_str("\n\n");
                if !closing {
                    out.push(HEADING_MARK);
                }
            } else if BLOCK_TAGS.contains(&name.as_str()) {
                out.push_str("\n\n");
            } else if name == "script" || name == "style" {
                // Their content is code, never article text: skip to the closing tag.
                if !closing {
                    i = skip_past_closing(&chars, end, &name);
                    continue;
                }
            }
            i = end + 1;
            continue;
        }
        if c == '&'
            && let Some((decoded, len)) = decode_entity(&chars[i..])
        {
            // A no-break space is a space to a narrator.
            out.extend(decoded.chars().map(|c| if c == '\u{A0}' { ' ' } else { c }));
            i += len;
            continue;
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The index of the `>` closing a tag that opens at `start`, if this `<` starts a tag at all.
fn tag_end(chars: &[char], start: usize) -> Option<usize> {
    let next = *chars.get(start + 1)?;
    if !(next.is_ascii_alphabetic() || next == '/' || next == '!') {
        return None;
    }
    chars
        .iter()
        .enumerate()
        .skip(start + 1)
        .take(400)
        .find_map(|(j, &c)| match c {
            '>' => Some(Some(j)),
            '<' | '\n' if next != '!' => Some(None),
            _ => None,
        })?
}

fn skip_past_closing(chars: &[char], from: usize, name: &str) -> usize {
    let closing: Vec<char> = format!("</{name}").chars().collect();
    let mut j = from;
    while j + closing.len() <= chars.len() {
        if chars[j..j + closing.len()]
            .iter()
            .zip(&closing)
            .all(|(a, b)| a.to_ascii_lowercase() == *b)
        {
            return tag_end(chars, j).map_or(chars.len(), |e| e + 1);
        }
        j += 1;
    }
    chars.len()
}

/// The longest reference looked for, `&` to `;` (the longest name,
/// `&CounterClockwiseContourIntegral;`, has 33 characters).
const MAX_REFERENCE_CHARS: usize = 40;

/// The text of the character reference at the start of `chars` and how many characters it spans:
/// `&name;` for every name of HTML5 ([`crate::html_entities`]), `&#NNN;` and `&#xHHH;`. A name
/// without its `;` is left as written: HTML reads 106 legacy names that way, but articles pasted as
/// plain text use `&` freely ("AT&T", "R&D", "Q&A"), and the terminated form is what HTML writes.
fn decode_entity(chars: &[char]) -> Option<(Cow<'static, str>, usize)> {
    let end = chars
        .iter()
        .take(MAX_REFERENCE_CHARS)
        .position(|&c| c == ';')?;
    let name: String = chars[1..end].iter().collect();
    let decoded = match name.strip_prefix('#') {
        Some(number) => {
            let (digits, radix) = match number.strip_prefix(['x', 'X']) {
                Some(hex) => (hex, 16),
                None => (number, 10),
            };
            if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
                return None;
            }
            // Saturating: any number past U+10FFFF stands for U+FFFD all the same.
            let code = digits.chars().fold(0u32, |n, c| {
                n.saturating_mul(radix)
                    .saturating_add(c.to_digit(radix).unwrap_or(0))
            });
            Cow::Owned(numeric_reference(code))
        }
        None => Cow::Borrowed(html_entities::lookup(&name)?),
    };
    Some((decoded, end + 1))
}

/// What `&#code;` stands for, as HTML decodes it: NUL, surrogates and numbers past Unicode are
/// U+FFFD, C1 controls are read as Windows-1252 (`&#146;` is ’), and other controls and
/// noncharacters are dropped (nothing a narrator could say).
fn numeric_reference(code: u32) -> String {
    if let Some(c) = html_entities::windows_1252(code) {
        return c.to_string();
    }
    match char::from_u32(code) {
        None | Some('\0') => '\u{FFFD}'.to_string(),
        Some(c) if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => String::new(),
        Some(_) if is_noncharacter(code) => String::new(),
        Some(c) => c.to_string(),
    }
}

/// Unicode's noncharacters: U+FDD0..U+FDEF and the last two code points of every plane.
fn is_noncharacter(code: u32) -> bool {
    (0xFDD0..=0xFDEF).contains(&code) || code & 0xFFFE == 0xFFFE
}

/// Splits into lines and removes Markdown block and inline markup.
fn markdown_lines(text: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut in_fence = false;
    for raw in text.split('\n') {
        let trimmed = raw.trim();
        // Fenced code is code, not prose; it is never narrated.
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            in_fence = !in_fence;
            lines.push(Line {
                text: String::new(),
                marked_heading: false,
            });
            continue;
        }
        if in_fence || is_rule(trimmed) {
            lines.push(Line {
                text: String::new(),
                marked_heading: false,
            });
            continue;
        }
        let mut marked_heading = false;
        let mut rest = trimmed;
        if let Some(r) = rest.strip_prefix(HEADING_MARK) {
            marked_heading = true;
            rest = r.trim_start();
        }
        let hashes = rest.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && rest[hashes..].starts_with([' ', '\t']) {
            marked_heading = true;
            rest = rest[hashes..].trim_start();
        }
        while let Some(r) = rest.strip_prefix('>') {
            rest = r.trim_start();
        }
        rest = strip_list_marker(rest);
        let cleaned = clean_inline(rest);
        lines.push(Line {
            text: cleaned,
            marked_heading,
        });
    }
    lines
}

fn is_rule(line: &str) -> bool {
    line.chars().count() >= 3
        && line
            .chars()
            .all(|c| matches!(c, '-' | '*' | '_' | '=' | ' '))
        && line.chars().filter(|c| *c != ' ').count() >= 3
}

fn strip_list_marker(line: &str) -> &str {
    let mut chars = line.char_indices();
    match chars.next() {
        Some((_, '-' | '*' | '+' | '•' | '●' | '▪' | '◦' | '‧')) => {
            if let Some((i, c)) = chars.next()
                && c.is_whitespace()
            {
                return line[i..].trim_start();
            }
            line
        }
        Some((_, c)) if c.is_ascii_digit() => {
            let digits = line.chars().take_while(|c| c.is_ascii_digit()).count();
            let after = &line[digits..];
            // "1. " / "2) " / "3、": an enumeration marker, not a number that belongs to the text.
            if digits <= 3 {
                for marker in [". ", ") ", "、", "）"] {
                    if let Some(r) = after.strip_prefix(marker) {
                        return r.trim_start();
                    }
                }
            }
            line
        }
        _ => line,
    }
}

/// Inline markup: links keep their text, images, URLs, citation markers, emphasis markers,
/// emoji and invisible characters go.
fn clean_inline(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '!' if chars.get(i + 1) == Some(&'[') => {
                if let Some((_, end)) = md_link(&chars, i + 1) {
                    i = end;
                    continue;
                }
            }
            '[' => {
                if let Some((label, end)) = md_link(&chars, i) {
                    out.push_str(&clean_inline(&label));
                    i = end;
                    continue;
                }
                if let Some(end) = citation_end(&chars, i) {
                    i = end;
                    continue;
                }
            }
            'h' | 'w'
                if starts_url(&chars[i..]) && (i == 0 || !chars[i - 1].is_ascii_alphanumeric()) =>
            {
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !is_cjkish(chars[i])
                    && !matches!(chars[i], ')' | ']' | '>' | '"')
                {
                    i += 1;
                }
                // A sentence-closing period right after a URL belongs to the sentence.
                if i > 0 && matches!(chars[i - 1], '.' | ',' | ';' | ':' | '!' | '?') {
                    out.push(chars[i - 1]);
                }
                continue;
            }
            '*' | '`' | '|' => {
                out.push(if c == '|' { ' ' } else { '\0' });
                i += 1;
                continue;
            }
            '_' | '~' if chars.get(i + 1) == Some(&c) => {
                i += 2;
                continue;
            }
            _ => {}
        }
        if is_invisible_or_emoji(c) {
            i += 1;
            continue;
        }
        out.push(if c.is_whitespace() { ' ' } else { c });
        i += 1;
    }
    out.retain(|c| c != '\0');
    out
}

/// `[label](target)` or `[label][ref]` starting at `start`: the label and the index after it.
fn md_link(chars: &[char], start: usize) -> Option<(String, usize)> {
    let close = chars
        .iter()
        .skip(start + 1)
        .take(500)
        .position(|&c| c == ']')?
        + start
        + 1;
    let label: String = chars[start + 1..close].iter().collect();
    let shut = match chars.get(close + 1) {
        Some('(') => ')',
        Some('[') => ']',
        _ => return None,
    };
    let end = chars
        .iter()
        .skip(close + 2)
        .take(2000)
        .position(|&c| c == shut)?
        + close
        + 2;
    Some((label, end + 1))
}

/// `[1]`, `[12]`, `[^3]`, `[註1]`: a citation marker, never read aloud.
fn citation_end(chars: &[char], start: usize) -> Option<usize> {
    let close = chars
        .iter()
        .skip(start + 1)
        .take(8)
        .position(|&c| c == ']')?
        + start
        + 1;
    let inner: String = chars[start + 1..close].iter().collect();
    let inner = inner
        .trim_start_matches('^')
        .trim_start_matches('註')
        .trim_start_matches("note");
    (!inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit())).then_some(close + 1)
}

fn starts_url(chars: &[char]) -> bool {
    let head: String = chars
        .iter()
        .take(8)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("http://") || head.starts_with("https://") || head.starts_with("www.")
}

fn is_invisible_or_emoji(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x200B..=0x200F | 0x2060..=0x2064 | 0xFEFF | 0xFE00..=0xFE0F | 0xE000
        | 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xE0000..=0xE007F)
        || (c.is_control() && c != '\n' && c != '\t')
}

/// Punctuation that closes a sentence.
fn is_terminal(c: char) -> bool {
    matches!(
        c,
        '。' | '！' | '？' | '!' | '?' | '.' | '…' | '；' | ';' | '：' | ':' | '．'
    )
}

/// Closing quotes and brackets that may follow a sentence's final punctuation.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '」' | '』' | '）' | ')' | '”' | '’' | '"' | '\'' | '】' | '》' | '〉' | ']'
    )
}

fn ends_with_terminal(line: &str) -> bool {
    line.trim_end()
        .trim_end_matches(is_closer)
        .chars()
        .next_back()
        .is_some_and(is_terminal)
}

/// A line that names what follows rather than saying something: short, no closing punctuation.
fn heading_like(line: &str, language: Language) -> bool {
    let text = line.trim();
    if text.is_empty() || ends_with_terminal(text) || text.ends_with([',', '，', '、']) {
        return false;
    }
    match language {
        Language::ZhTw => text.chars().count() <= 30,
        Language::En => text.chars().count() <= 80 && text.split_whitespace().count() <= 12,
    }
}

/// Rebuilds paragraphs: blank lines separate blocks; inside a block, lines are joined unless a
/// line is a heading or clearly ends a paragraph (closing punctuation in CJK text, where one
/// paragraph per line is the norm; in Latin text only after a line too long to be hard-wrapped).
fn assemble_paragraphs(lines: &[Line], language: Language) -> Vec<Paragraph> {
    let mut blocks: Vec<Vec<&Line>> = vec![Vec::new()];
    for line in lines {
        if line.text.trim().is_empty() {
            if blocks.last().is_some_and(|b| !b.is_empty()) {
                blocks.push(Vec::new());
            }
        } else if let Some(block) = blocks.last_mut() {
            block.push(line);
        }
    }
    blocks.retain(|b| !b.is_empty());

    let mut paragraphs = Vec::new();
    let block_count = blocks.len();
    for (bi, block) in blocks.iter().enumerate() {
        let last_block = bi + 1 == block_count;
        let mut current = String::new();
        for (li, line) in block.iter().enumerate() {
            let text = line.text.trim();
            let next = block.get(li + 1);
            let is_heading = line.marked_heading
                || ((li == 0
                    || (language == Language::ZhTw && ends_with_terminal(&block[li - 1].text)))
                    && !(last_block && next.is_none())
                    && heading_like(text, language)
                    && next.is_none_or(|n| {
                        !n.text.trim_start().starts_with(|c: char| c.is_lowercase())
                    }));
            if is_heading {
                flush(&mut paragraphs, &mut current, false);
                flush_text(&mut paragraphs, text, true);
                continue;
            }
            join_line(&mut current, text);
            let breaks = ends_with_terminal(text)
                && (language == Language::ZhTw || text.chars().count() > 100);
            if breaks {
                flush(&mut paragraphs, &mut current, false);
            }
        }
        flush(&mut paragraphs, &mut current, false);
    }
    // A text that is nothing but a short line is the article itself, not its title.
    if !paragraphs.is_empty() && paragraphs.iter().all(|p| p.heading) {
        for p in &mut paragraphs {
            p.heading = false;
        }
    }
    paragraphs
}

fn join_line(current: &mut String, next: &str) {
    if current.is_empty() {
        current.push_str(next);
        return;
    }
    let glue = current.chars().next_back().is_some_and(is_cjkish)
        && next.chars().next().is_some_and(is_cjkish);
    if !glue {
        current.push(' ');
    }
    current.push_str(next);
}

fn flush(paragraphs: &mut Vec<Paragraph>, current: &mut String, heading: bool) {
    flush_text(paragraphs, current, heading);
    current.clear();
}

fn flush_text(paragraphs: &mut Vec<Paragraph>, text: &str, heading: bool) {
    let text = collapse_whitespace(text);
    if text.chars().any(|c| c.is_alphanumeric()) {
        paragraphs.push(Paragraph { text, heading });
    }
}

/// Runs of white space become one space; a space between two CJK characters (or CJK
/// punctuation) is layout only and goes.
fn collapse_whitespace(text: &str) -> String {
    let chars: Vec<char> = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
            let next = chars.get(i + 1).copied();
            if prev.is_some_and(is_cjkish) && next.is_some_and(is_cjkish) {
                continue;
            }
            if prev.is_some_and(is_cjk_punct)
                || next.is_some_and(|n| {
                    matches!(
                        n,
                        '，' | '。' | '、' | '！' | '？' | '；' | '：' | '」' | '』' | '）'
                    )
                })
            {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Abbreviations after which a period never ends a sentence.
const TITLE_ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "sr", "st", "mt", "ft", "vs", "e.g", "i.e", "cf", "no", "nos",
    "fig", "figs", "vol", "p", "pp", "approx", "gen", "col", "capt", "lt", "sgt", "rev", "hon",
    "dept", "univ", "ave", "blvd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept",
    "oct", "nov", "dec", "ca", "op", "ed", "eds",
];

/// Abbreviations that may also end a sentence; they do only before a typical sentence opener.
const ENDING_ABBREVIATIONS: &[&str] = &[
    "etc", "inc", "ltd", "co", "corp", "jr", "bc", "ad", "a.m", "p.m",
];

const SENTENCE_OPENERS: &[&str] = &[
    "The", "A", "An", "It", "In", "This", "That", "These", "Those", "He", "She", "They", "We", "I",
    "You", "But", "And", "However", "So", "There", "Its", "Their", "Our", "His", "Her", "On", "At",
    "After", "Before", "When", "Today", "Yet", "Even", "Many", "Most", "Some",
];

/// Splits a paragraph into sentences. Chinese ends sentences at 。！？； (and ……), English at
/// . ! ? followed by a space and a sentence start; abbreviations (Dr., e.g., U.S.), initials and
/// decimals do not end sentences. Closing quotes stay with their sentence. The pieces, in order,
/// cover every non-space character of the paragraph.
pub fn split_sentences(paragraph: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = paragraph.char_indices().collect();
    let mut cuts = Vec::new();
    let mut i = 0usize;
    while i < chars.len() {
        if !is_sentence_mark(chars[i].1) {
            i += 1;
            continue;
        }
        // Take the whole run of terminators and closers ("。」", "?!", "...\"").
        let mut j = i;
        while j < chars.len() && (is_sentence_mark(chars[j].1) || is_closer(chars[j].1)) {
            j += 1;
        }
        let cjk_end = chars[i..j]
            .iter()
            .any(|(_, c)| matches!(c, '。' | '！' | '？' | '；' | '…' | '．'));
        if cjk_end || latin_sentence_ends(paragraph, &chars, i, j) {
            cuts.push(chars.get(j).map_or(paragraph.len(), |(b, _)| *b));
        }
        i = j;
    }
    pieces_between(paragraph, &cuts)
}

fn is_sentence_mark(c: char) -> bool {
    matches!(c, '。' | '！' | '？' | '；' | '…' | '!' | '?' | '.' | '．')
}

/// The trimmed pieces of `text` between the cut positions (byte offsets, ascending). A piece with
/// nothing to say (only punctuation) stays with the piece before it, so no text is ever lost.
fn pieces_between<'a>(text: &'a str, cuts: &[usize]) -> Vec<&'a str> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&text.len())) {
        if cut <= start {
            continue;
        }
        let piece = &text[start..cut];
        if !piece.trim().is_empty() {
            let speaks = piece.chars().any(char::is_alphanumeric);
            match ranges.last_mut() {
                Some(last) if !speaks => last.1 = cut,
                _ => ranges.push((start, cut)),
            }
        }
        start = cut;
    }
    ranges.into_iter().map(|(s, e)| text[s..e].trim()).collect()
}

/// Decides whether the Latin terminator run `chars[i..j]` ends a sentence.
fn latin_sentence_ends(paragraph: &str, chars: &[(usize, char)], i: usize, j: usize) -> bool {
    // Followed directly by a letter or digit ("2.08", "U.S.", "example.com"): not an end.
    let Some(&(_, next)) = chars.get(j) else {
        return true;
    };
    if !next.is_whitespace() && !is_cjkish(next) {
        return false;
    }
    // The first character of the next word.
    let rest_start = chars[j..].iter().find(|(_, c)| !c.is_whitespace());
    let Some(&(next_byte, first)) = rest_start else {
        return true;
    };
    let next_word: String = paragraph[next_byte..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '\'')
        .collect();
    let starts_sentence = first.is_uppercase()
        || first.is_ascii_digit()
        || is_cjk(first)
        || matches!(first, '"' | '“' | '\'' | '‘' | '(' | '「' | '[');
    if !starts_sentence {
        return false;
    }
    if chars[i].1 != '.' || j - i > 1 && chars[i..j].iter().filter(|(_, c)| *c == '.').count() > 1 {
        // "!", "?" and "..." end a sentence whenever a sentence start follows.
        return true;
    }
    // The word before the period, with its internal dots ("U.S", "e.g", "Dr").
    let before: String = chars[..i]
        .iter()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '.')
        .map(|(_, c)| *c)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let lower = before.to_lowercase();
    if TITLE_ABBREVIATIONS.contains(&lower.as_str()) {
        return false;
    }
    let initial = before.chars().count() == 1 && before.chars().all(|c| c.is_uppercase());
    let dotted = before.contains('.');
    if initial || dotted || ENDING_ABBREVIATIONS.contains(&lower.as_str()) {
        return SENTENCE_OPENERS.contains(&next_word.as_str());
    }
    true
}

/// Splits a sentence after its clause punctuation (，、；：— and Latin , ; : followed by a space).
/// Each clause keeps its punctuation; concatenated (Latin ones joined by a space) they give the
/// sentence back.
pub fn split_clauses(sentence: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = sentence.char_indices().collect();
    let mut cuts = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k].1;
        let next = chars.get(k + 1).map(|(_, c)| *c);
        let split = match c {
            '，' | '、' | '；' | '：' | '—' => true,
            ',' | ';' | ':' => next.is_none_or(|n| n.is_whitespace() || is_cjk(n)),
            _ => false,
        };
        k += 1;
        if split {
            // Closers right after the mark ("，」") stay with this clause.
            while chars.get(k).is_some_and(|(_, c)| is_closer(*c)) {
                k += 1;
            }
            cuts.push(chars.get(k).map_or(sentence.len(), |(b, _)| *b));
        }
    }
    pieces_between(sentence, &cuts)
}

/// Cuts a clause that is still too long into pieces of at most `max_chars` characters, balanced in
/// length: at the last space before each cut point (Latin) or exactly there (CJK).
pub fn hard_split(text: &str, max_chars: usize) -> Vec<&str> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let total = chars.len();
    if total <= max_chars || max_chars == 0 {
        return vec![text];
    }
    let parts = total.div_ceil(max_chars);
    let mut cuts = Vec::with_capacity(parts);
    let mut start = 0usize;
    for k in 1..parts {
        let ideal = (k * total).div_ceil(parts).max(start + 1);
        // The last space in this piece, unless that would leave it less than half as long.
        let space = (start + 1..ideal)
            .rev()
            .find(|&i| chars[i].1 == ' ')
            .filter(|&i| (i - start) * 2 >= ideal - start);
        let cut = space.unwrap_or(ideal);
        cuts.push(chars[cut].0);
        start = cut;
    }
    pieces_between(text, &cuts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_follows_the_dominant_script() {
        assert_eq!(
            detect_language("颱風是熱帶氣旋的一種，LED 燈也很亮。"),
            Language::ZhTw
        );
        assert_eq!(
            detect_language("A lighthouse 燈塔 answers that need simply."),
            Language::En
        );
    }

    #[test]
    fn markup_and_noise_are_removed() {
        let raw = "# 颱風的科學\r\n\r\n<p>颱風是**熱帶氣旋**的一種[1]。詳見 [氣象署](https://www.cwa.gov.tw) 網站 https://example.com/x 。</p>\n\n- 第一點 &amp; 第二點 🌀\n\n```\ncode();\n```\n";
        let n = normalise(raw);
        assert_eq!(
            n.paragraphs,
            vec![
                Paragraph {
                    text: "颱風的科學".into(),
                    heading: true
                },
                Paragraph {
                    text: "颱風是熱帶氣旋的一種。詳見氣象署網站。".into(),
                    heading: false
                },
                Paragraph {
                    text: "第一點 & 第二點".into(),
                    heading: false
                },
            ]
        );
    }

    #[test]
    fn every_html5_entity_and_numeric_reference_is_decoded() {
        assert_eq!(strip_html("&copy; 2024 Ytmaker"), "\u{A9} 2024 Ytmaker");
        assert_eq!(strip_html("a&nbsp;b"), "a b");
        assert_eq!(strip_html("wait&hellip;"), "wait\u{2026}");
        assert_eq!(strip_html("&#x4E2D;&#25991;"), "中文");
        assert_eq!(
            strip_html("&eacute;t&eacute; &euro;5 &frac12; &trade;"),
            "été €5 ½ ™"
        );
        assert_eq!(strip_html("&alpha;&Omega; &rarr; &le; &infin;"), "αΩ → ≤ ∞");
        // The longest name, and one that stands for two code points.
        assert_eq!(strip_html("&CounterClockwiseContourIntegral;"), "\u{2233}");
        assert_eq!(strip_html("&NotEqualTilde;"), "\u{2242}\u{338}");
        // Windows-1252 references as old pages write them, and what HTML makes of bad numbers.
        assert_eq!(
            strip_html("&#147;quoted&#148; &#150; it&#146;s"),
            "\u{201C}quoted\u{201D} \u{2013} it\u{2019}s"
        );
        assert_eq!(
            strip_html("&#0;&#xD800;&#x110000;"),
            "\u{FFFD}\u{FFFD}\u{FFFD}"
        );
        // Not references: left as written.
        assert_eq!(
            strip_html("AT&T, R&D, &notanentity; &copy"),
            "AT&T, R&D, &notanentity; &copy"
        );
        assert_eq!(strip_html("&#;&#x;&amp"), "&#;&#x;&amp");
        // Decoded text is text, not markup.
        assert_eq!(strip_html("&lt;p&gt;"), "<p>");
        let n = normalise("<p>&copy; 2024 caf&eacute;&nbsp;au&shy;lait</p>");
        // The soft hyphen is invisible and goes; the no-break space is a space.
        assert_eq!(n.joined(), "\u{A9} 2024 café aulait");
    }

    #[test]
    fn hard_wrapped_english_lines_are_joined_and_blank_lines_separate_paragraphs() {
        let n = normalise(
            "How Lighthouses Work\n\nA lighthouse puts a light\nin a known place.\nIt is seen from far away.\n\nThe end came in 1939.",
        );
        let texts: Vec<(&str, bool)> = n
            .paragraphs
            .iter()
            .map(|p| (p.text.as_str(), p.heading))
            .collect();
        assert_eq!(
            texts,
            vec![
                ("How Lighthouses Work", true),
                (
                    "A lighthouse puts a light in a known place. It is seen from far away.",
                    false
                ),
                ("The end came in 1939.", false),
            ]
        );
    }

    #[test]
    fn chinese_lines_are_paragraphs_and_spaces_between_ideographs_go() {
        let n = normalise("颱風 季 到了。\n準備防災包，\n也要檢查門窗。");
        let texts: Vec<&str> = n.paragraphs.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(texts, vec!["颱風季到了。", "準備防災包，也要檢查門窗。"]);
    }

    #[test]
    fn chinese_sentences_end_at_full_stops_and_keep_closing_quotes() {
        let s = split_sentences(
            "他說：「颱風來了。」大家趕快準備！風速每秒17.2公尺；雨量驚人……真的嗎？",
        );
        assert_eq!(
            s,
            vec![
                "他說：「颱風來了。」",
                "大家趕快準備！",
                "風速每秒17.2公尺；",
                "雨量驚人……",
                "真的嗎？"
            ]
        );
    }

    #[test]
    fn english_abbreviations_initials_and_decimals_do_not_end_sentences() {
        let s = split_sentences(
            "Dr. Ames met J. K. Smith in the U.S. capital at 3 p.m. yesterday. The range is 2.08 times the root, e.g. at sea. \
             Lights were managed in the U.S. The Coast Guard took over! Did it work? \"Yes.\" It did.",
        );
        assert_eq!(
            s,
            vec![
                "Dr. Ames met J. K. Smith in the U.S. capital at 3 p.m. yesterday.",
                "The range is 2.08 times the root, e.g. at sea.",
                "Lights were managed in the U.S.",
                "The Coast Guard took over!",
                "Did it work?",
                "\"Yes.\"",
                "It did.",
            ]
        );
    }

    #[test]
    fn clauses_keep_their_punctuation_and_numbers_keep_their_commas() {
        assert_eq!(
            split_clauses("颱風帶來雨水，補充水庫、地下水；卻也造成災害。"),
            vec!["颱風帶來雨水，", "補充水庫、", "地下水；", "卻也造成災害。"]
        );
        assert_eq!(
            split_clauses("It rained 1,000 mm, and the river rose: fast."),
            vec!["It rained 1,000 mm,", "and the river rose:", "fast."]
        );
    }

    #[test]
    fn hard_split_balances_pieces_and_respects_words() {
        assert_eq!(
            hard_split("一二三四五六七八九十", 4),
            vec!["一二三四", "五六七", "八九十"]
        );
        let pieces = hard_split("one two three four five six seven eight", 15);
        assert!(pieces.iter().all(|p| p.chars().count() <= 15), "{pieces:?}");
        assert_eq!(pieces.join(" "), "one two three four five six seven eight");
    }
}
