//! The offline script writer (SPEC §3 "rule-based splitter"): the article's own sentences, grouped
//! into 5–20 s segments by the speech-rate estimate, condensed extractively when the article is
//! longer than the target, with title, description, tags, intro and outro taken from the text.
//!
//! It never invents content: every segment's narration is a run of the article's sentences (or,
//! for a sentence longer than a segment may be, of its clauses) in their original order. Rules it
//! cannot keep — a segment outside 5–20 s, a video shorter than the target — become warnings on
//! the script with the user's options; nothing is padded or silently changed.

use async_trait::async_trait;

use ytmaker_core::config::{NarrationSettings, ScriptSettings};
use ytmaker_core::script::{
    Condensation, Language, NarrationLine, Script, ScriptWarning, Segment, WarningKind,
};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use super::keywords::{Analysis, Keyword, cosine, keywords};
use crate::speech::{estimate_line_seconds, estimate_seconds, line_overhead_seconds};
use crate::text::{self, NormalisedText, hard_split, is_cjk, split_clauses, split_sentences};
use crate::{ScriptRequest, ScriptWriter};

/// Longest key phrase on a title card: CJK characters / Latin characters.
pub const KEY_PHRASE_MAX_CJK: usize = 16;
pub const KEY_PHRASE_MAX_LATIN: usize = 40;
const TITLE_MAX_CHARS: usize = 100;
const TAGS_MAX: usize = 15;
const TAG_MAX_CHARS: usize = 30;
/// YouTube refuses more than 500 characters of tags in all; stay clear of it.
const TAGS_TOTAL_MAX_CHARS: usize = 450;

/// A condensed article aims this far below the maximum length, because the real narration can run
/// a few percent longer than the estimate.
const CONDENSE_TARGET_SHARE: f64 = 0.92;

/// Cost weights of the segment grouping (see [`group`]).
const COST_OUT_OF_RANGE: f64 = 1000.0;
const COST_PARAGRAPH_CROSSING: f64 = 8.0;
const COST_MID_SENTENCE_CUT: f64 = 6.0;

/// See the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct RuleBasedScriptWriter;

impl RuleBasedScriptWriter {
    pub fn new() -> Self {
        RuleBasedScriptWriter
    }

    /// The script for `req`; pure and deterministic (the same request gives the same script).
    pub fn write(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        check_settings(req.settings, req.narration)?;
        let normalised = text::normalise(req.text);
        if !normalised.has_body() {
            return Err(YtError::new(
                ErrorCode::SCRIPT_NO_CONTENT,
                "the text has no sentence to narrate after clean-up",
            )
            .detail("input_chars", req.text.chars().count()));
        }
        let article = Article::new(&normalised, req.narration.speaking_rate);
        let plan = Planner {
            article: &article,
            settings: req.settings,
            rate: req.narration.speaking_rate,
        };
        plan.script(req.name_hint)
    }
}

#[async_trait]
impl ScriptWriter for RuleBasedScriptWriter {
    fn id(&self) -> &'static str {
        "local"
    }

    async fn write_script(&self, req: &ScriptRequest<'_>) -> YtResult<Script> {
        let started = std::time::Instant::now();
        let script = self.write(req)?;
        tracing::info!(
            provider = "local",
            segments = script.segments.len(),
            estimated_seconds = script.estimated_total_seconds(),
            condensed = script.condensation.is_some(),
            warnings = script.warnings.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "script written"
        );
        Ok(script)
    }
}

/// Refuses segment/target ranges and speaking rates no script can be planned with.
pub(crate) fn check_settings(s: &ScriptSettings, n: &NarrationSettings) -> YtResult<()> {
    let ok = |v: f64| v.is_finite() && v > 0.0;
    if !(ok(s.segment_min_seconds)
        && ok(s.segment_max_seconds)
        && s.segment_min_seconds < s.segment_max_seconds)
    {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "script.segment_max_seconds",
            "positive and greater than segment_min_seconds",
            s.segment_max_seconds,
        ));
    }
    if !(ok(s.target_min_seconds)
        && ok(s.target_max_seconds)
        && s.target_min_seconds < s.target_max_seconds)
    {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "script.target_max_seconds",
            "positive and greater than target_min_seconds",
            s.target_max_seconds,
        ));
    }
    if !ok(n.speaking_rate) {
        return Err(YtError::invalid_field(
            ErrorCode::CONFIG_INVALID,
            "narration.speaking_rate",
            "positive",
            n.speaking_rate,
        ));
    }
    Ok(())
}

/// One sentence of the article body.
struct Sentence {
    text: String,
    paragraph: usize,
    first_in_paragraph: bool,
    /// Estimated seconds inside a longer line (see [`estimate_seconds`]).
    seconds: f64,
    /// How informative it is: centrality plus position bonuses.
    score: f64,
}

/// The article, analysed once.
struct Article {
    language: Language,
    sentences: Vec<Sentence>,
    analysis: Analysis,
    keywords: Vec<Keyword>,
    /// Body paragraph index → the heading that precedes it, if any.
    headings: Vec<Option<String>>,
    /// The heading on top of the article, if it has one.
    top_heading: Option<String>,
}

impl Article {
    fn new(normalised: &NormalisedText, rate: f64) -> Article {
        let language = article_language(normalised);
        let mut sentences = Vec::new();
        let mut headings = Vec::new();
        let mut top_heading = None;
        let mut pending_heading: Option<String> = None;
        let mut body_paragraphs: Vec<&str> = Vec::new();
        for p in &normalised.paragraphs {
            if p.heading {
                if body_paragraphs.is_empty() && top_heading.is_none() {
                    top_heading = Some(p.text.clone());
                } else {
                    pending_heading = Some(p.text.clone());
                }
                continue;
            }
            let index = body_paragraphs.len();
            body_paragraphs.push(&p.text);
            headings.push(pending_heading.take());
            for (k, s) in split_sentences(&p.text).into_iter().enumerate() {
                sentences.push(Sentence {
                    text: s.to_owned(),
                    paragraph: index,
                    first_in_paragraph: k == 0,
                    seconds: estimate_seconds(s, language, rate),
                    score: 0.0,
                });
            }
        }
        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
        let analysis = Analysis::new(&texts, language);
        for (i, s) in sentences.iter_mut().enumerate() {
            // The opening sentence frames the topic and each paragraph's first sentence usually
            // states its point; both are kept preferentially when the article is condensed.
            let position = if i == 0 {
                0.5
            } else if s.first_in_paragraph {
                0.1
            } else {
                0.0
            };
            s.score = analysis.centrality[i] + position;
        }
        let keywords = keywords(&body_paragraphs, language);
        Article {
            language,
            sentences,
            analysis,
            keywords,
            headings,
            top_heading,
        }
    }

    fn join(&self, parts: &[&str]) -> String {
        join_text(parts, self.language)
    }
}

/// Sentences of one language joined back into running text.
fn join_text(parts: &[&str], language: Language) -> String {
    let mut out = String::new();
    for p in parts {
        let glue = match (out.chars().next_back(), p.chars().next()) {
            (Some(a), Some(b)) => {
                language == Language::En
                    || !(text::is_cjk_punct(a) || is_cjk(a) || is_cjk(b) || text::is_cjk_punct(b))
            }
            _ => false,
        };
        if glue {
            out.push(' ');
        }
        out.push_str(p);
    }
    out
}

/// A piece of narration that is never cut: a sentence, or a clause of a sentence too long for one
/// segment.
struct Unit {
    text: String,
    sentence: usize,
    paragraph: usize,
    /// The last piece of its sentence (a segment may end after it without cutting a sentence).
    ends_sentence: bool,
    seconds: f64,
}

struct Planner<'a> {
    article: &'a Article,
    settings: &'a ScriptSettings,
    rate: f64,
}

impl Planner<'_> {
    fn language(&self) -> Language {
        self.article.language
    }

    fn script(&self, name_hint: Option<&str>) -> YtResult<Script> {
        let language = self.language();
        let title = self.title(name_hint);
        let intro = self.line(intro_text(&title, language));
        let outro = self.line(outro_text(language));
        let frame = intro.estimated_seconds + outro.estimated_seconds;

        let all: Vec<usize> = (0..self.article.sentences.len()).collect();
        let mut kept = all.clone();
        let mut segments = self.segments(&kept);
        let mut condensation = None;
        let body_total = |segs: &[Segment]| segs.iter().map(|s| s.estimated_seconds).sum::<f64>();
        if frame + body_total(&segments) > self.settings.target_max_seconds {
            // Pick sentences for a budget, then check the grouped result, which carries a little
            // per-line overhead the budget only approximates; shrink the budget until it fits.
            let target = self.settings.target_max_seconds * CONDENSE_TARGET_SHARE - frame;
            let mut budget = target;
            for _ in 0..12 {
                kept = self.select(budget);
                segments = self.segments(&kept);
                let total = frame + body_total(&segments);
                if total <= self.settings.target_max_seconds * CONDENSE_TARGET_SHARE
                    || kept.len() <= 1
                {
                    break;
                }
                budget -= total - self.settings.target_max_seconds * CONDENSE_TARGET_SHARE + 1.0;
            }
            let original_chars: usize = self
                .article
                .sentences
                .iter()
                .map(|s| s.text.chars().count())
                .sum();
            let kept_chars: usize = kept
                .iter()
                .map(|&i| self.article.sentences[i].text.chars().count())
                .sum();
            condensation = Some(Condensation {
                original_chars,
                kept_chars,
                original_sentences: all.len(),
                kept_sentences: kept.len(),
                kept_ratio: if original_chars == 0 {
                    0.0
                } else {
                    kept_chars as f64 / original_chars as f64
                },
            });
        }

        let mut script = Script {
            language,
            title: title.clone(),
            description: self.description(&kept, condensation.is_some()),
            tags: self.tags(),
            intro,
            segments,
            outro,
            condensation,
            warnings: Vec::new(),
        };
        script.warnings = self.warnings(&script);
        script.validate()?;
        Ok(script)
    }

    fn line(&self, text: String) -> NarrationLine {
        narration_line(text, self.language(), self.rate)
    }

    fn overhead(&self, text: &str) -> f64 {
        line_overhead_seconds(text, self.language(), self.rate)
    }

    /// The sentences to keep for a body of about `budget` seconds: the most informative first,
    /// each new pick discounted by its similarity to those already picked (maximal marginal
    /// relevance, so the summary does not repeat itself), returned in the original order.
    fn select(&self, budget: f64) -> Vec<usize> {
        const RELEVANCE: f64 = 0.7;
        let sentences = &self.article.sentences;
        let vectors = &self.article.analysis.vectors;
        // Each segment adds a little silence; budget it as if segments were of ideal length.
        let ideal = self.ideal_segment();
        let per_second = 1.0 + self.overhead("。").max(0.0) / ideal;
        let mut used = 0.0;
        let mut chosen = vec![false; sentences.len()];
        let mut max_similarity = vec![0.0f64; sentences.len()];
        loop {
            let best = (0..sentences.len())
                .filter(|&i| !chosen[i] && used + sentences[i].seconds * per_second <= budget)
                .map(|i| {
                    (
                        i,
                        RELEVANCE * sentences[i].score - (1.0 - RELEVANCE) * max_similarity[i],
                    )
                })
                .fold(None::<(usize, f64)>, |best, (i, v)| match best {
                    Some((_, bv)) if bv >= v => best,
                    _ => Some((i, v)),
                });
            let Some((pick, _)) = best else { break };
            chosen[pick] = true;
            used += sentences[pick].seconds * per_second;
            for i in 0..sentences.len() {
                if !chosen[i] {
                    max_similarity[i] = max_similarity[i].max(cosine(&vectors[i], &vectors[pick]));
                }
            }
        }
        let kept: Vec<usize> = (0..sentences.len()).filter(|&i| chosen[i]).collect();
        if kept.is_empty() {
            // Even the shortest sentence exceeds the budget (a tiny target); keep the first one so
            // the script has content, and the length warning tells the user.
            return vec![0];
        }
        kept
    }

    fn ideal_segment(&self) -> f64 {
        let s = self.settings;
        s.segment_min_seconds + 0.47 * (s.segment_max_seconds - s.segment_min_seconds)
    }

    /// Cuts the kept sentences into units no longer than a segment can hold.
    fn units(&self, kept: &[usize]) -> Vec<Unit> {
        let language = self.language();
        let s = self.settings;
        let mut units = Vec::new();
        for &i in kept {
            let sentence = &self.article.sentences[i];
            // A sentence is only ever cut when it alone is longer than a segment may be.
            let fits = sentence.seconds + self.overhead(&sentence.text) <= s.segment_max_seconds;
            if fits {
                units.push(Unit {
                    text: sentence.text.clone(),
                    sentence: i,
                    paragraph: sentence.paragraph,
                    ends_sentence: true,
                    seconds: sentence.seconds,
                });
                continue;
            }
            let mut pieces: Vec<&str> = Vec::new();
            for clause in split_clauses(&sentence.text) {
                let secs = estimate_seconds(clause, language, self.rate);
                let limit = 0.75 * s.segment_max_seconds;
                if secs <= limit {
                    pieces.push(clause);
                } else {
                    let chars = clause.chars().count();
                    let parts = (secs / limit).ceil().max(1.0) as usize;
                    pieces.extend(hard_split(clause, chars.div_ceil(parts)));
                }
            }
            let last = pieces.len().saturating_sub(1);
            for (k, piece) in pieces.into_iter().enumerate() {
                units.push(Unit {
                    text: piece.to_owned(),
                    sentence: i,
                    paragraph: sentence.paragraph,
                    ends_sentence: k == last,
                    seconds: estimate_seconds(piece, language, self.rate),
                });
            }
        }
        units
    }

    fn segments(&self, kept: &[usize]) -> Vec<Segment> {
        let units = self.units(kept);
        let groups = self.group(&units);
        groups
            .iter()
            .enumerate()
            .map(|(index, range)| self.segment(index as u32, &units[range.clone()]))
            .collect()
    }

    /// Groups units into segments by dynamic programming over the cut points, minimising:
    /// a large cost for a segment outside segment_min..segment_max (only paid when unavoidable),
    /// the squared distance from the ideal length (~12 s for 5–20 s, clear of both limits, since
    /// the real audio differs from the estimate by a few percent), a cost per paragraph boundary
    /// inside a segment (segments follow the article's paragraphs when they can) and a cost for
    /// ending a segment in the middle of a sentence.
    fn group(&self, units: &[Unit]) -> Vec<std::ops::Range<usize>> {
        let s = self.settings;
        let (min, max) = (s.segment_min_seconds, s.segment_max_seconds);
        let ideal = self.ideal_segment();
        let span = max - min;
        let n = units.len();
        let mut best = vec![f64::INFINITY; n + 1];
        let mut from = vec![0usize; n + 1];
        best[0] = 0.0;
        for start in 0..n {
            if !best[start].is_finite() {
                continue;
            }
            let mut seconds = 0.0;
            let mut crossings = 0usize;
            for end in start + 1..=n {
                let unit = &units[end - 1];
                if end - 1 > start && unit.paragraph != units[end - 2].paragraph {
                    crossings += 1;
                }
                seconds += unit.seconds;
                let text_end = if unit.ends_sentence { "。" } else { "" };
                let d = seconds + self.overhead(text_end);
                let mut cost = 100.0 * ((d - ideal) / span).powi(2)
                    + COST_PARAGRAPH_CROSSING * crossings as f64;
                if d < min {
                    cost += COST_OUT_OF_RANGE + 100.0 * (min - d);
                }
                if d > max {
                    cost += COST_OUT_OF_RANGE + 100.0 * (d - max);
                }
                if !unit.ends_sentence && end < n {
                    cost += COST_MID_SENTENCE_CUT;
                }
                if best[start] + cost < best[end] {
                    best[end] = best[start] + cost;
                    from[end] = start;
                }
                // Longer segments only get worse once past the maximum.
                if d > max * 1.5 {
                    break;
                }
            }
        }
        let mut ranges = Vec::new();
        let mut end = n;
        while end > 0 {
            let start = from[end];
            ranges.push(start..end);
            end = start;
        }
        ranges.reverse();
        ranges
    }

    fn segment(&self, index: u32, units: &[Unit]) -> Segment {
        let language = self.language();
        let parts: Vec<&str> = units.iter().map(|u| u.text.as_str()).collect();
        let narration = self.article.join(&parts);
        let estimated_seconds = line_seconds(&narration, language, self.rate);

        // The image shows the segment's most informative sentence (or the piece of it in this
        // segment): the first unit of the best-scoring sentence, extended to its other pieces.
        let best_sentence = units
            .iter()
            .map(|u| u.sentence)
            .fold(None::<usize>, |best, s| match best {
                Some(b) if self.article.sentences[b].score >= self.article.sentences[s].score => {
                    Some(b)
                }
                _ => Some(s),
            });
        let image_parts: Vec<&str> = units
            .iter()
            .filter(|u| Some(u.sentence) == best_sentence)
            .map(|u| u.text.as_str())
            .collect();
        let image_description = self.article.join(&image_parts);

        let heading = units.first().and_then(|u| {
            let first_of_paragraph = self
                .article
                .sentences
                .iter()
                .position(|s| s.paragraph == u.paragraph)
                == Some(u.sentence);
            if first_of_paragraph {
                self.article.headings.get(u.paragraph).cloned().flatten()
            } else {
                None
            }
        });
        let key_phrase = match heading {
            Some(h) if fits_key_phrase(&h, language) => h,
            _ => self.key_phrase(&narration, &image_description),
        };
        Segment {
            index,
            narration,
            image_description,
            image_prompt: None,
            key_phrase,
            estimated_seconds,
            description_edited: false,
        }
    }

    /// A short phrase for the title card, taken from the segment: its best candidate that fits
    /// (≤ 16 CJK / ≤ 40 Latin characters) among whole short sentences, clauses and pairs of
    /// adjacent clauses; failing that, its strongest keywords; failing that, the start of its best
    /// sentence, cut at a word boundary.
    fn key_phrase(&self, narration: &str, best_sentence: &str) -> String {
        let language = self.language();
        let mut best: Option<(f64, String)> = None;
        for sentence in split_sentences(narration) {
            for (phrase, whole) in phrase_candidates(sentence, language) {
                if !fits_key_phrase(&phrase, language) || !substantial(&phrase, language) {
                    continue;
                }
                let score = self.phrase_score(&phrase, whole);
                if score <= 0.0 {
                    // Nothing but common words ("與此同時").
                    continue;
                }
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, phrase));
                }
            }
        }
        if let Some((_, phrase)) = best {
            return phrase;
        }
        if language == Language::En {
            return truncate_phrase(&tidy_phrase(best_sentence, language), language);
        }
        let present: Vec<&str> = self
            .article
            .keywords
            .iter()
            .map(|k| k.text.as_str())
            .filter(|k| contains_ci(narration, k))
            .take(3)
            .collect();
        let sep = if language == Language::ZhTw {
            "、"
        } else {
            " · "
        };
        for n in (2..=present.len()).rev() {
            let joined = present[..n].join(sep);
            if fits_key_phrase(&joined, language) {
                return capitalise(&joined);
            }
        }
        truncate_phrase(&tidy_phrase(best_sentence, language), language)
    }

    /// How good a phrase is for a card or a title: informative words, not too short, a complete
    /// sentence rather than a fragment, and not opening with a word that points back ("它", "This")
    /// and so means nothing on its own.
    fn phrase_score(&self, phrase: &str, whole_sentence: bool) -> f64 {
        let language = self.language();
        let info = self.article.analysis.informativeness(phrase, language);
        let length = match language {
            Language::ZhTw => (phrase.chars().filter(|c| is_cjk(*c)).count() as f64 / 9.0).min(1.0),
            Language::En => (phrase.split_whitespace().count() as f64 / 6.0).min(1.0),
        };
        // A phrase ending in a particle or copula ("值得一提的是") leads into something it lacks.
        let dangling = match language {
            Language::ZhTw => phrase.ends_with([
                '是', '的', '在', '與', '和', '及', '把', '被', '從', '對', '到', '為', '將',
            ]),
            Language::En => {
                let last = phrase
                    .split_whitespace()
                    .next_back()
                    .unwrap_or("")
                    .to_lowercase();
                matches!(
                    last.as_str(),
                    "the"
                        | "a"
                        | "an"
                        | "of"
                        | "to"
                        | "in"
                        | "on"
                        | "and"
                        | "or"
                        | "with"
                        | "for"
                        | "by"
                        | "is"
                        | "was"
                )
            }
        };
        let whole = if whole_sentence { 1.2 } else { 1.0 };
        let anaphoric = match language {
            Language::ZhTw => phrase.starts_with(['它', '這', '那', '其', '此', '他', '她']),
            Language::En => {
                let first = phrase
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_lowercase();
                matches!(
                    first.as_str(),
                    "it" | "this"
                        | "these"
                        | "those"
                        | "that"
                        | "they"
                        | "he"
                        | "she"
                        | "its"
                        | "their"
                )
            }
        };
        info * length * whole * if anaphoric { 0.7 } else { 1.0 } * if dangling { 0.5 } else { 1.0 }
    }

    fn title(&self, name_hint: Option<&str>) -> String {
        if let Some(h) = &self.article.top_heading {
            return clip_chars(&clean_metadata(h), TITLE_MAX_CHARS);
        }
        if let Some(hint) = name_hint.map(str::trim).filter(|h| title_like(h)) {
            return clip_chars(&clean_metadata(hint), TITLE_MAX_CHARS);
        }
        clip_chars(&clean_metadata(&self.derived_title()), TITLE_MAX_CHARS)
    }

    /// The best phrase of the opening paragraph (by [`Planner::phrase_score`] and how central its
    /// sentence is), prefixed with the article's top keyword when it does not name it:
    /// "<keyword>：<phrase>".
    fn derived_title(&self) -> String {
        let language = self.language();
        let (min_len, max_len) = match language {
            Language::ZhTw => (6, 30),
            Language::En => (15, 70),
        };
        let top = self.article.keywords.first().map(|k| k.text.as_str());
        let mut best: Option<(f64, String)> = None;
        for (i, s) in self
            .article
            .sentences
            .iter()
            .enumerate()
            .filter(|(_, s)| s.paragraph == 0)
        {
            // Titles come from a sentence's opening clauses: a run from the middle of a sentence
            // usually starts mid-thought.
            let clauses = split_clauses(&s.text);
            let mut candidates = vec![(tidy_phrase(&s.text, language), true)];
            for n in 1..clauses.len() {
                candidates.push((
                    tidy_phrase(&join_text(&clauses[..n], language), language),
                    false,
                ));
            }
            for (phrase, whole) in candidates {
                let len = phrase.chars().count();
                if len < min_len || len > max_len {
                    continue;
                }
                let names_topic = top.is_some_and(|k| contains_ci(&phrase, k));
                let score = self.phrase_score(&phrase, whole)
                    * (1.0 + self.article.analysis.centrality[i])
                    * if names_topic { 1.3 } else { 1.0 };
                if best.as_ref().is_none_or(|(b, _)| score > *b) {
                    best = Some((score, phrase));
                }
            }
        }
        let phrase = match best {
            Some((_, p)) => p,
            None => truncate_phrase(
                &tidy_phrase(&self.article.sentences[0].text, language),
                language,
            ),
        };
        // The prefix names the topic; not needed when the phrase names one of the main keywords.
        let named = self
            .article
            .keywords
            .iter()
            .take(3)
            .any(|k| contains_ci(&phrase, &k.text));
        match top {
            Some(k) if !named => {
                let sep = if language == Language::ZhTw {
                    "："
                } else {
                    ": "
                };
                format!("{}{sep}{phrase}", capitalise(k))
            }
            _ => capitalise(&phrase),
        }
    }

    fn description(&self, kept: &[usize], condensed: bool) -> String {
        let language = self.language();
        let opening: Vec<&str> = kept
            .iter()
            .take(2)
            .map(|&i| self.article.sentences[i].text.as_str())
            .collect();
        let mut text = clean_metadata(&join_text(&opening, language));
        let note = match (language, condensed) {
            (Language::ZhTw, false) => {
                "本影片由 ytmaker 根據原文自動產生，旁白與畫面皆為電腦合成。"
            }
            (Language::ZhTw, true) => {
                "本影片由 ytmaker 根據原文節錄自動產生，旁白與畫面皆為電腦合成。"
            }
            (Language::En, false) => {
                "This video was generated by ytmaker from the original article; narration and images are synthetic."
            }
            (Language::En, true) => {
                "This video was generated by ytmaker from an abridged version of the original article; narration and images are synthetic."
            }
        };
        text.push_str("\n\n");
        text.push_str(note);
        text
    }

    fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = Vec::new();
        let mut total = 0usize;
        for k in &self.article.keywords {
            let tag = clean_metadata(&k.text);
            let len = tag.chars().count();
            if tag.is_empty()
                || len > TAG_MAX_CHARS
                || tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))
            {
                continue;
            }
            if total + len > TAGS_TOTAL_MAX_CHARS {
                break;
            }
            total += len;
            tags.push(tag);
            if tags.len() == TAGS_MAX {
                break;
            }
        }
        tags
    }

    fn warnings(&self, script: &Script) -> Vec<ScriptWarning> {
        length_warnings(script, self.settings)
    }
}

/// The rules a script's estimated lengths break: each segment outside the segment range and a total
/// outside the target range, with the user's options. Every script writer reports these the same
/// way; none shortens or pads a segment to avoid one.
pub(crate) fn length_warnings(script: &Script, s: &ScriptSettings) -> Vec<ScriptWarning> {
    let mut warnings = Vec::new();
    for seg in &script.segments {
        let secs = seg.estimated_seconds;
        let kind = if secs < s.segment_min_seconds {
            WarningKind::SegmentTooShort
        } else if secs > s.segment_max_seconds {
            WarningKind::SegmentTooLong
        } else {
            continue;
        };
        let rule = format!("{}–{} s", s.segment_min_seconds, s.segment_max_seconds);
        warnings.push(ScriptWarning {
            kind,
            segment_index: Some(seg.index),
            seconds: secs,
            message: format!(
                "segment {} is estimated at {secs:.1} s, outside {rule}",
                seg.index + 1
            ),
            options: options(&["accept", "split_merge", "regenerate"]),
        });
    }
    let total = round2(script.estimated_total_seconds());
    if total < s.target_min_seconds {
        warnings.push(ScriptWarning {
            kind: WarningKind::TotalTooShort,
            segment_index: None,
            seconds: total,
            message: format!(
                "the article gives about {total:.0} s of narration, less than the target minimum of {} s; it is not padded",
                s.target_min_seconds
            ),
            options: options(&["accept", "regenerate"]),
        });
    } else if total > s.target_max_seconds {
        warnings.push(ScriptWarning {
            kind: WarningKind::TotalTooLong,
            segment_index: None,
            seconds: total,
            message: format!(
                "the script is estimated at {total:.0} s, more than the target maximum of {} s",
                s.target_max_seconds
            ),
            options: options(&["accept", "regenerate"]),
        });
    }
    warnings
}

fn options(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// The article's language as this writer decides it: from the cleaned text, headings included.
pub(crate) fn article_language(normalised: &NormalisedText) -> Language {
    text::detect_language(&normalised.joined())
}

/// Estimated seconds of one narration line spoken on its own, as scripts record it.
pub(crate) fn line_seconds(text: &str, language: Language, rate: f64) -> f64 {
    round2(estimate_line_seconds(text, language, rate))
}

pub(crate) fn narration_line(text: String, language: Language, rate: f64) -> NarrationLine {
    let estimated_seconds = line_seconds(&text, language, rate);
    NarrationLine {
        text,
        estimated_seconds,
    }
}

fn intro_text(title: &str, language: Language) -> String {
    let title = strip_end_punctuation(title);
    match language {
        Language::ZhTw => format!("歡迎收看。今天要談的是：{title}。"),
        Language::En => format!("Welcome. Today: {title}."),
    }
}

fn outro_text(language: Language) -> String {
    match language {
        Language::ZhTw => "感謝您的收看。如果喜歡這支影片，請按讚並訂閱頻道，我們下次見。".into(),
        Language::En => "Thank you for watching. If you enjoyed this video, please like and subscribe. See you next time.".into(),
    }
}

fn strip_end_punctuation(text: &str) -> &str {
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
fn phrase_candidates(sentence: &str, language: Language) -> Vec<(String, bool)> {
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
const EN_SPLIT_WORDS: &[&str] = &[
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
const ZH_LEADING_CONNECTIVES: &[&str] = &[
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
const EN_LEADING_CONNECTIVES: &[&str] = &[
    "and ", "but ", "so ", "yet ", "however ", "then ", "also ", "or ", "because ", "which ",
    "where ", "while ", "when ", "so that ",
];

/// A clause as a phrase: without its closing punctuation, surrounding quotes, or an opening
/// connective.
fn tidy_phrase(clause: &str, language: Language) -> String {
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

fn fits_key_phrase(phrase: &str, language: Language) -> bool {
    let len = phrase.chars().count();
    len > 0
        && match language {
            Language::ZhTw => len <= KEY_PHRASE_MAX_CJK,
            Language::En => len <= KEY_PHRASE_MAX_LATIN,
        }
}

/// Long enough to say something: 4+ characters of Chinese, 3+ words of English.
fn substantial(phrase: &str, language: Language) -> bool {
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
                && super::keywords::terms(phrase, language).len() >= 2
        }
    }
}

/// The start of a phrase that is too long for a title card, cut at a word boundary, with "…".
fn truncate_phrase(phrase: &str, language: Language) -> String {
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

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if first.is_lowercase() => first.to_uppercase().chain(chars).collect(),
        _ => s.to_owned(),
    }
}

/// Case-insensitive containment; a Latin needle must match whole words ("light" is not in
/// "lighting").
fn contains_ci(haystack: &str, needle: &str) -> bool {
    let (hay, needle) = (haystack.to_lowercase(), needle.to_lowercase());
    let word_edges = needle
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    hay.match_indices(&needle).any(|(at, m)| {
        !word_edges
            || (hay[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric())
                && hay[at + m.len()..]
                    .chars()
                    .next()
                    .is_none_or(|c| !c.is_alphanumeric()))
    })
}

/// A project name that reads as a title, not a file name or an id.
fn title_like(hint: &str) -> bool {
    let len = hint.chars().count();
    let file_like = hint.contains(['/', '\\'])
        || hint.rsplit_once('.').is_some_and(|(_, ext)| {
            (1..=4).contains(&ext.len()) && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    (2..=TITLE_MAX_CHARS).contains(&len)
        && !file_like
        && (hint.contains(' ') || hint.chars().any(is_cjk))
}

/// YouTube refuses `<` and `>` in titles, descriptions and tags.
fn clean_metadata(text: &str) -> String {
    text.replace(['<', '>'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn clip_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max - 1).collect();
    format!("{}…", cut.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> Script {
        let settings = ScriptSettings::default();
        let narration = NarrationSettings::default();
        RuleBasedScriptWriter::new()
            .write(&ScriptRequest {
                text,
                settings: &settings,
                narration: &narration,
                name_hint: None,
                prompt: None,
            })
            .unwrap()
    }

    #[test]
    fn a_heading_becomes_the_title_and_is_not_narrated() {
        let script =
            write("# 颱風的科學\n\n颱風是熱帶氣旋的一種。它帶來豐沛的雨水，也可能造成災害。");
        assert_eq!(script.title, "颱風的科學");
        assert!(
            !script
                .segments
                .iter()
                .any(|s| s.narration.contains("颱風的科學"))
        );
        assert!(script.intro.text.contains("颱風的科學"));
    }

    #[test]
    fn a_short_article_is_not_padded_but_warned_about() {
        let script = write("颱風是熱帶氣旋的一種，會帶來強風與豪雨。民眾應該提前做好準備。");
        assert_eq!(script.segments.len(), 1);
        let total = script
            .warnings
            .iter()
            .find(|w| w.kind == WarningKind::TotalTooShort)
            .unwrap();
        assert_eq!(total.options, ["accept", "regenerate"]);
        assert_eq!(
            script.segments[0].narration,
            "颱風是熱帶氣旋的一種，會帶來強風與豪雨。民眾應該提前做好準備。"
        );
    }

    #[test]
    fn key_phrases_fit_the_title_card() {
        let script = write(
            "燈塔是航海安全的重要設施，它在夜晚發出明亮的光芒，指引船隻避開危險的礁石與淺灘，讓水手能夠平安返回港口。\
             早期的燈塔使用木材與煤炭作為燃料，光線昏暗又充滿煙霧，在大雨中幾乎無法被看見。",
        );
        for s in &script.segments {
            assert!(
                s.key_phrase.chars().count() <= KEY_PHRASE_MAX_CJK,
                "{}",
                s.key_phrase
            );
            assert!(!s.key_phrase.is_empty());
        }
    }

    #[test]
    fn title_hints_that_look_like_file_names_are_not_titles() {
        assert!(!title_like("article-zh-TW.txt"));
        assert!(!title_like("a1b2c3"));
        assert!(title_like("台灣的颱風"));
        assert!(title_like("How lighthouses work"));
    }

    #[test]
    fn truncation_cuts_at_a_word_boundary() {
        let t = truncate_phrase(
            "Lighthouses relied on open flames burning in iron baskets",
            Language::En,
        );
        assert!(
            t.chars().count() <= KEY_PHRASE_MAX_LATIN && t.ends_with('…'),
            "{t}"
        );
        assert!(t.starts_with("Lighthouses relied on open flames"), "{t}");
    }
}
