//! Planning: the article read into sentences and paragraphs, condensed extractively when it is
//! longer than the target, and grouped into segments by the speech-rate estimate at the least
//! cost (see [`Planner`]).

use super::*;

/// A condensed article aims this far below the maximum length, because the real narration can run
/// a few percent longer than the estimate.
pub(super) const CONDENSE_TARGET_SHARE: f64 = 0.92;

/// Cost weights of the segment grouping (see [`group`]).
pub(super) const COST_OUT_OF_RANGE: f64 = 1000.0;
pub(super) const COST_PARAGRAPH_CROSSING: f64 = 8.0;
pub(super) const COST_MID_SENTENCE_CUT: f64 = 6.0;

/// One sentence of the article body.
pub(super) struct Sentence {
    text: String,
    paragraph: usize,
    first_in_paragraph: bool,
    /// Estimated seconds inside a longer line (see [`estimate_seconds`]).
    seconds: f64,
    /// How informative it is: centrality plus position bonuses.
    score: f64,
}

/// The article, analysed once.
pub(super) struct Article {
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
    pub(super) fn new(normalised: &NormalisedText, rate: f64) -> Article {
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
pub(super) fn join_text(parts: &[&str], language: Language) -> String {
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
pub(super) struct Unit {
    text: String,
    sentence: usize,
    paragraph: usize,
    /// The last piece of its sentence (a segment may end after it without cutting a sentence).
    ends_sentence: bool,
    seconds: f64,
}

pub(super) struct Planner<'a> {
    pub(super) article: &'a Article,
    pub(super) settings: &'a ScriptSettings,
    pub(super) rate: f64,
}

impl Planner<'_> {
    fn language(&self) -> Language {
        self.article.language
    }

    pub(super) fn script(&self, name_hint: Option<&str>) -> YtResult<Script> {
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
