//! How text sounds when espeak-ng speaks it: the spoken form of a line (numbers, symbols and
//! abbreviations written out) and a duration estimate calibrated against espeak-ng itself.
//!
//! The script writer estimates segment lengths with [`estimate_line_seconds`] and the local
//! narrator speaks [`spoken_form`] at [`espeak_words_per_minute`], so the estimate and the audio
//! come from one model. The coefficients below were fitted by least squares on ~150 narration
//! lines of the test fixtures spoken by espeak-ng 1.51 at 175 wpm (zh: `cmn-latn-pinyin`, mean
//! error 3 %; en: `en-us`, mean error 4 %), and `tests/calibration.rs` re-checks them against the
//! installed espeak-ng.

use ytmaker_core::script::Language;

use crate::text::is_cjk;

/// espeak-ng's default speed, words per minute; `speaking_rate` 1.0 maps to it.
pub const BASE_WORDS_PER_MINUTE: f64 = 175.0;

/// Seconds each feature of the spoken form adds, at `speaking_rate` 1.0.
struct Coefficients {
    /// Per CJK syllable (one ideograph).
    cjk: f64,
    /// Per Latin letter.
    letter: f64,
    /// Per digit left as a digit (English reads "1703" as words).
    digit: f64,
    /// Per clause pause (，、；： and Latin , ; :).
    clause: f64,
    /// Per sentence pause (。！？ and Latin . ! ?) followed by more speech.
    stop: f64,
    /// Once per audio file: leading and trailing silence.
    line: f64,
    /// How duration follows espeak's `-s`: duration ∝ (175 / wpm)^exponent. Measured: the
    /// Mandarin voice slows down more than proportionally at low wpm and speeds up more at high.
    wpm_exponent: f64,
}

const ZH: Coefficients = Coefficients {
    cjk: 0.254,
    letter: 0.075,
    digit: 0.25,
    clause: 0.16,
    stop: 0.48,
    line: 0.56,
    wpm_exponent: 1.16,
};
const EN: Coefficients = Coefficients {
    cjk: 0.254,
    letter: 0.0604,
    digit: 0.26,
    clause: 0.28,
    stop: 0.44,
    line: 0.58,
    wpm_exponent: 1.0,
};

fn coefficients(language: Language) -> &'static Coefficients {
    match language {
        Language::ZhTw => &ZH,
        Language::En => &EN,
    }
}

/// The espeak-ng `-s` value that makes speech `speaking_rate` times as fast as the default, so
/// that an estimate at rate 1.0 divided by the rate is the duration at that rate.
pub fn espeak_words_per_minute(language: Language, speaking_rate: f64) -> u32 {
    let exponent = coefficients(language).wpm_exponent;
    let wpm = BASE_WORDS_PER_MINUTE * speaking_rate.max(0.1).powf(1.0 / exponent);
    // espeak-ng accepts 80–450 wpm; 0.5–2.0 (the validated range) stays inside it.
    wpm.round().clamp(80.0, 450.0) as u32
}

/// Estimated seconds of speech for a run of text that is part of a longer line (no per-file
/// silence; every sentence end counts as a pause). Additive: the parts of a line sum to the line
/// without its [`line_overhead_seconds`].
pub fn estimate_seconds(text: &str, language: Language, speaking_rate: f64) -> f64 {
    let spoken = spoken_form(text, language);
    let k = coefficients(language);
    let mut seconds = 0.0;
    let mut chars = spoken.chars().peekable();
    while let Some(c) = chars.next() {
        seconds += if is_cjk(c) {
            k.cjk
        } else if c.is_ascii_alphabetic() || (c.is_alphabetic() && !c.is_ascii()) {
            k.letter
        } else if c.is_ascii_digit() {
            k.digit
        } else if matches!(c, '，' | '、' | '；' | '：' | '—')
            || (matches!(c, ',' | ';' | ':') && chars.peek().is_none_or(|n| n.is_whitespace()))
        {
            k.clause
        } else if matches!(c, '。' | '！' | '？' | '…')
            || (matches!(c, '.' | '!' | '?')
                && chars
                    .peek()
                    .is_none_or(|n| n.is_whitespace() || is_closing(*n)))
        {
            // A run of marks ("?!", "……") is one pause.
            while chars
                .peek()
                .is_some_and(|n| matches!(n, '。' | '！' | '？' | '…' | '.' | '!' | '?'))
            {
                chars.next();
            }
            k.stop
        } else {
            0.0
        };
    }
    seconds / rate(speaking_rate)
}

fn is_closing(c: char) -> bool {
    matches!(c, '"' | '\'' | ')' | '”' | '’' | '」' | '』' | '）')
}

/// Seconds one audio file adds beyond its text: the silence around it, less the final sentence
/// pause that [`estimate_seconds`] counted but which no following speech makes audible.
pub fn line_overhead_seconds(text: &str, language: Language, speaking_rate: f64) -> f64 {
    let k = coefficients(language);
    let trimmed = text.trim_end().trim_end_matches(is_closing);
    let final_stop = trimmed.ends_with(['。', '！', '？', '…', '.', '!', '?']);
    (k.line - if final_stop { k.stop } else { 0.0 }) / rate(speaking_rate)
}

/// Estimated seconds of one narration line spoken on its own (one audio file).
pub fn estimate_line_seconds(text: &str, language: Language, speaking_rate: f64) -> f64 {
    estimate_seconds(text, language, speaking_rate)
        + line_overhead_seconds(text, language, speaking_rate)
}

fn rate(speaking_rate: f64) -> f64 {
    if speaking_rate.is_finite() && speaking_rate > 0.0 {
        speaking_rate
    } else {
        1.0
    }
}

/// The text as espeak-ng should read it. Subtitles keep the original; only the voice gets this.
///
/// Chinese: espeak-ng's Mandarin voice drops decimal points ("17.2" → "十七 二"), pauses inside
/// "1,067", says "percent" in English and reads "・" as "Japanese …", so numbers are written out in
/// Chinese (十七點二, 一千零六十七, 百分之二十, 二十六點五度, years digit by digit: 二零零九年) and
/// symbols replaced. English: "e.g."/"i.e."/"etc."/"vs." are expanded and thousands separators
/// dropped; espeak-ng reads the rest well.
pub fn spoken_form(text: &str, language: Language) -> String {
    match language {
        Language::ZhTw => spoken_zh(text),
        Language::En => spoken_en(text),
    }
}

fn spoken_en(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let at_word_start = i == 0 || !chars[i - 1].is_alphanumeric();
        if at_word_start
            && let Some((expansion, len)) = EN_EXPANSIONS.iter().find_map(|(abbr, exp)| {
                let n = abbr.chars().count();
                let candidate: String = chars[i..].iter().take(n).collect();
                let boundary = chars.get(i + n).is_none_or(|c| !c.is_alphanumeric());
                (candidate.eq_ignore_ascii_case(abbr) && boundary).then_some((*exp, n))
            })
        {
            out.push_str(expansion);
            i += len;
            continue;
        }
        let c = chars[i];
        if c == ',' && i > 0 && chars[i - 1].is_ascii_digit() && is_thousands_group(&chars[i + 1..])
        {
            i += 1;
            continue;
        }
        if c == '&' {
            out.push_str("and");
        } else {
            out.push(c);
        }
        i += 1;
    }
    out
}

const EN_EXPANSIONS: &[(&str, &str)] = &[
    ("e.g.", "for example"),
    ("i.e.", "that is"),
    ("etc.", "et cetera."),
    ("vs.", "versus"),
];

/// Exactly three digits and then no further digit: the rest of "1,067".
fn is_thousands_group(rest: &[char]) -> bool {
    rest.len() >= 3
        && rest[..3].iter().all(char::is_ascii_digit)
        && rest.get(3).is_none_or(|c| !c.is_ascii_digit())
}

fn spoken_zh(text: &str) -> String {
    let chars: Vec<char> = text.chars().map(fullwidth_to_ascii).collect();
    let mut out = String::with_capacity(text.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            let (number, len) = read_number(&chars[i..]);
            let after = chars.get(i + len).copied();
            let negative = out.ends_with('-')
                && !out
                    .chars()
                    .rev()
                    .nth(1)
                    .is_some_and(|p| p.is_ascii_alphanumeric());
            if negative {
                out.pop();
                out.push('負');
            }
            match after {
                Some('%') => {
                    out.push_str("百分之");
                    out.push_str(&number.chinese());
                    i += len + 1;
                    continue;
                }
                Some('‰') => {
                    out.push_str("千分之");
                    out.push_str(&number.chinese());
                    i += len + 1;
                    continue;
                }
                Some('年') if number.fraction.is_empty() && number.integer.len() == 4 => {
                    out.push_str(&digits_one_by_one(&number.integer));
                }
                _ if number.integer.len() > 1 && number.integer.starts_with('0')
                    || number.integer.len() > 16 =>
                {
                    // Codes and phone numbers are read digit by digit.
                    out.push_str(&digits_one_by_one(&number.integer));
                    if !number.fraction.is_empty() {
                        out.push('點');
                        out.push_str(&digits_one_by_one(&number.fraction));
                    }
                }
                _ => out.push_str(&number.chinese()),
            }
            i += len;
            // "°C", "℃", "°": degrees.
            match (chars.get(i), chars.get(i + 1)) {
                (Some('°'), Some('C' | 'c' | 'F' | 'f')) => {
                    out.push('度');
                    i += 2;
                }
                (Some('°' | '℃'), _) => {
                    out.push('度');
                    i += 1;
                }
                _ => {}
            }
            // A range "10-50", "3~4": 到.
            if let (Some('-' | '~' | '～' | '–' | '—'), Some(d)) = (chars.get(i), chars.get(i + 1))
                && d.is_ascii_digit()
            {
                out.push('到');
                i += 1;
            }
            continue;
        }
        match c {
            '・' | '·' | '‧' => out.push('、'),
            '&' => out.push('和'),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

fn fullwidth_to_ascii(c: char) -> char {
    match c {
        '０'..='９' => char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap_or(c),
        '％' => '%',
        '．' => '.',
        _ => c,
    }
}

struct Number {
    integer: String,
    fraction: String,
}

/// Reads "1,067.5" (thousands separators only in groups of three) from the start of `chars`;
/// returns the number and how many characters it took.
fn read_number(chars: &[char]) -> (Number, usize) {
    let mut integer = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            integer.push(c);
            i += 1;
        } else if c == ',' && !integer.is_empty() && is_thousands_group(&chars[i + 1..]) {
            i += 1;
        } else {
            break;
        }
    }
    let mut fraction = String::new();
    if chars.get(i) == Some(&'.') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
        i += 1;
        while let Some(c) = chars.get(i).filter(|c| c.is_ascii_digit()) {
            fraction.push(*c);
            i += 1;
        }
    }
    (Number { integer, fraction }, i)
}

impl Number {
    fn chinese(&self) -> String {
        let mut s = match self.integer.parse::<u64>() {
            Ok(n) => chinese_integer(n),
            Err(_) => digits_one_by_one(&self.integer),
        };
        if !self.fraction.is_empty() {
            s.push('點');
            s.push_str(&digits_one_by_one(&self.fraction));
        }
        s
    }
}

const ZH_DIGITS: [char; 10] = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

fn digits_one_by_one(digits: &str) -> String {
    digits
        .chars()
        .filter_map(|c| c.to_digit(10))
        .map(|d| ZH_DIGITS[d as usize])
        .collect()
}

/// 0 → 零, 10 → 十, 15 → 十五, 105 → 一百零五, 1067 → 一千零六十七, 20000 → 二萬,
/// 100010 → 十萬零一十.
pub fn chinese_integer(n: u64) -> String {
    if n == 0 {
        return "零".into();
    }
    const GROUP_UNITS: [&str; 4] = ["", "萬", "億", "兆"];
    let mut groups = Vec::new();
    let mut rest = n;
    while rest > 0 {
        groups.push((rest % 10_000) as u32);
        rest /= 10_000;
    }
    let mut out = String::new();
    let mut pending_zero = false;
    for (g, &group) in groups.iter().enumerate().rev() {
        if group == 0 {
            pending_zero = !out.is_empty();
            continue;
        }
        if !out.is_empty() && (pending_zero || group < 1000) {
            out.push('零');
        }
        out.push_str(&chinese_group(group));
        out.push_str(GROUP_UNITS[g.min(3)]);
        pending_zero = false;
    }
    // 一十五 is read 十五 at the start of a number.
    if let Some(rest) = out.strip_prefix("一十") {
        out = format!("十{rest}");
    }
    out
}

/// 1–9999 without leading 零.
fn chinese_group(group: u32) -> String {
    const UNITS: [char; 4] = ['千', '百', '十', '\0'];
    let digits = [group / 1000, group / 100 % 10, group / 10 % 10, group % 10];
    let mut out = String::new();
    let mut zero = false;
    for (k, &d) in digits.iter().enumerate() {
        if d == 0 {
            zero = !out.is_empty();
            continue;
        }
        if zero {
            out.push('零');
            zero = false;
        }
        out.push(ZH_DIGITS[d as usize]);
        if UNITS[k] != '\0' {
            out.push(UNITS[k]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_numbers() {
        for (n, want) in [
            (0, "零"),
            (7, "七"),
            (10, "十"),
            (15, "十五"),
            (20, "二十"),
            (105, "一百零五"),
            (110, "一百一十"),
            (1067, "一千零六十七"),
            (2000, "二千"),
            (20000, "二萬"),
            (100010, "十萬零一十"),
            (3000000, "三百萬"),
            (140, "一百四十"),
            (120_000_000, "一億二千萬"),
            (100_000_005, "一億零五"),
        ] {
            assert_eq!(chinese_integer(n), want, "{n}");
        }
    }

    #[test]
    fn chinese_spoken_form_writes_numbers_and_symbols_out() {
        let cases = [
            ("每秒17.2公尺", "每秒十七點二公尺"),
            ("超過1,000毫米", "超過一千毫米"),
            ("1,067公釐", "一千零六十七公釐"),
            ("高於26.5°C", "高於二十六點五度"),
            ("20%到30%", "百分之二十到百分之三十"),
            ("2009年的莫拉克", "二零零九年的莫拉克"),
            ("約在10～50公里", "約在十到五十公里"),
            ("零下-5度", "零下負五度"),
            ("台北・台中", "台北、台中"),
            ("１２３", "一百二十三"),
        ];
        for (input, want) in cases {
            assert_eq!(spoken_form(input, Language::ZhTw), want, "{input}");
        }
    }

    #[test]
    fn english_spoken_form_expands_abbreviations() {
        assert_eq!(
            spoken_form(
                "Smaller orders, e.g. the fourth, cost 1,067 dollars & more.",
                Language::En
            ),
            "Smaller orders, for example the fourth, cost 1067 dollars and more."
        );
    }

    #[test]
    fn estimates_are_additive_and_scale_with_the_rate() {
        let a = "颱風帶來豐沛的雨水，補充水庫與地下水。";
        let b = "卻也可能造成嚴重的災害。";
        let both = format!("{a}{b}");
        let sum =
            estimate_seconds(a, Language::ZhTw, 1.0) + estimate_seconds(b, Language::ZhTw, 1.0);
        assert!((estimate_seconds(&both, Language::ZhTw, 1.0) - sum).abs() < 1e-9);
        let one = estimate_line_seconds(&both, Language::ZhTw, 1.0);
        let two = estimate_line_seconds(&both, Language::ZhTw, 2.0);
        assert!((one / two - 2.0).abs() < 1e-9);
    }

    #[test]
    fn words_per_minute_follow_the_rate() {
        assert_eq!(espeak_words_per_minute(Language::En, 1.0), 175);
        assert_eq!(espeak_words_per_minute(Language::En, 2.0), 350);
        assert_eq!(espeak_words_per_minute(Language::ZhTw, 1.0), 175);
        // The Mandarin voice needs less than double the wpm to speak twice as fast.
        assert_eq!(espeak_words_per_minute(Language::ZhTw, 2.0), 318);
        assert_eq!(espeak_words_per_minute(Language::ZhTw, 0.5), 96);
    }
}
