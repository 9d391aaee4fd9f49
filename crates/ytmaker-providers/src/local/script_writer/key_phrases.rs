//! Key phrases: the short line a title card shows for a segment, taken from its first sentence's
//! clauses and tidied (leading connectives dropped, fitted to the card).

use super::*;

pub(super) fn strip_end_punctuation(text: &str) -> &str {
    text.trim().trim_end_matches(|c: char| {
        matches!(
            c,
            '。' | '！'
                | '？'
                | '；'
                | '：'
                | '，'
                | '、'
                | '.'
                | '!'
                | '?'
                | ';'
                | ':'
                | ','
                | '…'
        )
    })
}

/// Phrases a sentence offers for a title card or title: the whole sentence, each clause, and each
/// run of two or three adjacent clauses; `true` marks the whole sentence.
pub(super) fn phrase_candidates(sentence: &str, language: Language) -> Vec<(String, bool)> {
    let mut out = vec![(tidy_phrase(sentence, language), true)];
    let clauses = split_clauses(sentence);
    for n in 1..=clauses.len().min(3) {
        for w in clauses.windows(n) {
            // A run that spans a colon or semicolon joins two thoughts into one odd phrase.
            let spans_break = w[..n - 1]
                .iter()
                .any(|c| c.ends_with([':', ';', '：', '；']));
            if n == clauses.len() || spans_break {
                continue;
            }
            out.push((tidy_phrase(&join_text(w, language), language), false));
        }
    }
    if language == Language::En {
        // English clauses are often longer than a card line: their parts between conjunctions
        // and relative pronouns are candidates too.
        for clause in &clauses {
            let mut rest = *clause;
            while let Some(at) = EN_SPLIT_WORDS.iter().filter_map(|w| rest.find(w)).min() {
                out.push((tidy_phrase(&rest[..at], language), false));
                rest = &rest[at + 1..];
            }
            if rest.len() < clause.len() {
                out.push((tidy_phrase(rest, language), false));
            }
        }
    }
    out
}

/// Words before which an English clause may be cut into card-sized phrases.
pub(super) const EN_SPLIT_WORDS: &[&str] = &[
    " and ",
    " but ",
    " which ",
    " where ",
    " while ",
    " when ",
    " because ",
    " so that ",
];

/// Connectives that open a clause but say nothing on a title card.
/// Longer entries come first: the first prefix that matches is removed. Single characters are
/// only those that practically never start a word (都, 更, 和, 就, 也 do: 都市, 更新, 和平, 就業,
/// 也許).
pub(super) const ZH_LEADING_CONNECTIVES: &[&str] = &[
    "這也是",
    "這就是",
    "因此",
    "所以",
    "但是",
    "而且",
    "並且",
    "此外",
    "其次",
    "首先",
    "最後",
    "不過",
    "然而",
    "同時",
    "於是",
    "另外",
    "例如",
    "甚至",
    "其實",
    "因為",
    "由於",
    "如果",
    "雖然",
    "也是",
    "就是",
    "正是",
    "還是",
    "或是",
    "而是",
    "則是",
    "便是",
    "以及",
    "也會",
    "就會",
    "但",
    "而",
    "並",
    "若",
    "且",
    "卻",
    "則",
];
pub(super) const EN_LEADING_CONNECTIVES: &[&str] = &[
    "and ", "but ", "so ", "yet ", "however ", "then ", "also ", "or ", "because ", "which ",
    "where ", "while ", "when ", "so that ",
];

/// A clause as a phrase: without its closing punctuation, surrounding quotes, or an opening
/// connective.
pub(super) fn tidy_phrase(clause: &str, language: Language) -> String {
    let mut s = strip_end_punctuation(clause)
        .trim_matches(|c: char| {
            matches!(
                c,
                '「' | '」' | '『' | '』' | '"' | '“' | '”' | '（' | '）' | '(' | ')' | '—'
            )
        })
        .trim()
        .to_owned();
    // A quotation cut in half ("「布球揉捻" ) reads as a typo: drop its marks.
    for (open, close) in [
        ('「', '」'),
        ('『', '』'),
        ('“', '”'),
        ('（', '）'),
        ('(', ')'),
    ] {
        if s.matches(open).count() != s.matches(close).count() {
            s = s.replace([open, close], "");
        }
    }
    if s.matches('"').count() % 2 == 1 {
        s = s.replace('"', "");
    }
    match language {
        Language::ZhTw => {
            if let Some(rest) = ZH_LEADING_CONNECTIVES
                .iter()
                .find_map(|c| s.strip_prefix(c))
            {
                let rest = rest.trim_start_matches(['，', '、']);
                // "最後的乾燥…": here the word is part of the phrase, not a connective.
                if rest.chars().count() >= 4 && !rest.starts_with('的') {
                    s = rest.to_owned();
                }
            }
        }
        Language::En => {
            let lower = s.to_lowercase();
            if let Some(c) = EN_LEADING_CONNECTIVES
                .iter()
                .find(|c| lower.starts_with(*c))
            {
                s = s[c.len()..].trim_start_matches([',', ' ']).to_owned();
            }
            s = capitalise(&s);
        }
    }
    s
}

pub(super) fn fits_key_phrase(phrase: &str, language: Language) -> bool {
    let len = phrase.chars().count();
    len > 0
        && match language {
            Language::ZhTw => len <= KEY_PHRASE_MAX_CJK,
            Language::En => len <= KEY_PHRASE_MAX_LATIN,
        }
}

/// Long enough to say something: 4+ characters of Chinese, 3+ words of English.
pub(super) fn substantial(phrase: &str, language: Language) -> bool {
    match language {
        Language::ZhTw => {
            phrase
                .chars()
                .filter(|c| is_cjk(*c) || c.is_alphanumeric())
                .count()
                >= 4
        }
        Language::En => {
            phrase.split_whitespace().count() >= 3
                && crate::local::keywords::terms(phrase, language).len() >= 2
        }
    }
}

/// The start of a phrase that is too long for a title card, cut at a word boundary, with "…".
pub(super) fn truncate_phrase(phrase: &str, language: Language) -> String {
    let max = match language {
        Language::ZhTw => KEY_PHRASE_MAX_CJK,
        Language::En => KEY_PHRASE_MAX_LATIN,
    };
    if phrase.chars().count() <= max {
        return phrase.to_owned();
    }
    let cut: String = phrase.chars().take(max - 1).collect();
    let cut = match language {
        Language::En => match cut.rfind(' ') {
            Some(space) if space > max / 2 => cut[..space].to_owned(),
            _ => cut,
        },
        Language::ZhTw => cut,
    };
    format!("{}…", strip_end_punctuation(&cut))
}
