//! What an article is about: TF-IDF sentence vectors (character bigrams for Chinese, stemmed
//! words for English), sentence centrality, and key phrases for tags and title cards.
//!
//! Deterministic by construction: terms get ids in order of first appearance, vectors are sorted
//! by id, and every ranking breaks ties by position, so the same text always gives the same
//! script (hash-map iteration order never reaches a result).

use std::collections::HashMap;

use ytmaker_core::script::Language;

use crate::text::is_cjk;

/// A sparse vector: (term id, weight), sorted by id.
pub(crate) type SparseVec = Vec<(usize, f64)>;

/// Characters that carry grammar rather than topic; a Chinese bigram containing one is not a term.
const ZH_FUNCTION_CHARS: &str = "的了是在也就與和及而並都很這那個之其或等把被讓著呢嗎吧啊於為以將從會要能可但則且若如因由向對到還更最又再已所此該每各些得地我你他她它們";

/// Characters a Chinese key phrase may not start with.
const ZH_START_STOP: &str = "的了是在也就與和及而並都很這那個之其或等把被讓著呢嗎吧啊於為以將從會要能可有一不但則且若如因由向對到還更最又再已所此該每各些得地";
/// Characters a Chinese key phrase may not end with.
const ZH_END_STOP: &str = "的了是在也就與和及而並都很這那個之其或等把被讓著呢嗎吧啊於為以將從會要能可但則且若如因由向對到還更最又再已所此該每各些得地一不";

/// Frequent Chinese words that say nothing about the topic.
const ZH_STOP_WORDS: &[&str] = &[
    "可以",
    "一個",
    "我們",
    "他們",
    "因為",
    "所以",
    "如果",
    "但是",
    "不過",
    "這個",
    "那個",
    "這些",
    "那些",
    "已經",
    "還是",
    "就是",
    "也是",
    "以及",
    "而且",
    "並且",
    "其中",
    "之後",
    "之前",
    "時候",
    "開始",
    "成為",
    "許多",
    "一些",
    "非常",
    "通常",
    "甚至",
    "往往",
    "仍然",
    "如何",
    "什麼",
    "為什麼",
    "自己",
    "大家",
    "今天",
    "現在",
    "當時",
    "一般",
    "然而",
    "此外",
    "另外",
    "其實",
    "只要",
    "只是",
    "能夠",
    "應該",
    "需要",
    "可能",
    "不同",
    "不會",
    "不是",
    "沒有",
    "透過",
    "由於",
    "對於",
    "關於",
    "至今",
    "之間",
    "左右",
    "一樣",
    "一直",
    "一起",
    "必須",
    "而是",
    "還有",
    "同時",
    "這樣",
    "那樣",
    "相當",
    "特別",
    "最後",
    "首先",
    "其次",
    "因此",
    "逐漸",
    "常常",
    "不僅",
    "除了",
    "使用",
    "進行",
    "形成",
    "出現",
    "帶來",
    "造成",
    "具有",
    "包括",
    "越來越",
    "比較",
    "一種",
    "這種",
    "各種",
    "每個",
    "人們",
    "許多人",
    "不只",
    "也就",
    "就像",
    "也會",
    "不再",
    "所有",
    "附近",
    "超過",
    "以上",
    "以下",
    "之一",
    "左右",
    "一帶",
    "當地",
    "目前",
    "過去",
    "未來",
    "後來",
    "認為",
    "發現",
    "知道",
    "看見",
    "看到",
    "得到",
    "來說",
    "而言",
    "方面",
    "部分",
    "時間",
    "時期",
    "地方",
    "問題",
    "情況",
    "方式",
    "狀況",
    "結果",
    "原因",
    "影響",
    "重要",
    "主要",
    "一定",
    "繼續",
    "持續",
    "陸續",
    "逐步",
    "仍是",
    "就能",
    "才能",
    "就會",
    "就可",
    "帶有",
    "來自",
    "作為",
    "稱為",
    "成了",
    "變得",
    "開始",
    "提供",
    "保持",
    "保留",
    "透過",
    "依照",
    "根據",
    "面對",
    "值得",
    "一提",
    "與此",
    "為例",
    "例如",
    "有些",
    "有的",
    "其他",
    "以來",
    "長期",
    "同樣",
    "不少",
    "這裡",
    "那裡",
];

const EN_STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "almost",
    "also",
    "although",
    "always",
    "am",
    "among",
    "an",
    "and",
    "any",
    "are",
    "around",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "least",
    "less",
    "like",
    "made",
    "make",
    "many",
    "may",
    "me",
    "might",
    "more",
    "most",
    "much",
    "must",
    "my",
    "myself",
    "never",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "often",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "part",
    "perhaps",
    "quite",
    "rather",
    "really",
    "same",
    "say",
    "says",
    "see",
    "seen",
    "several",
    "she",
    "should",
    "since",
    "so",
    "some",
    "still",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "thing",
    "things",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "used",
    "using",
    "very",
    "was",
    "way",
    "we",
    "well",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
    "yours",
    "two",
    "three",
    "first",
    "new",
    "time",
    "times",
    "long",
    "large",
    "small",
    "get",
    "got",
    "one's",
    "another",
    "across",
    "along",
    "single",
    "far",
    "tell",
    "answer",
    "answers",
    "high",
    "known",
    "great",
    "old",
    "today",
    "back",
    "day",
    "days",
    "year",
    "years",
    "come",
    "came",
    "go",
    "goes",
    "went",
    "take",
    "took",
    "put",
    "puts",
    "keep",
    "kept",
    "give",
    "gave",
    "find",
    "found",
    "know",
    "show",
    "shows",
    "shown",
    "look",
    "looks",
    "seem",
    "seems",
    "become",
    "became",
    "want",
    "need",
    "needed",
    "needs",
    "use",
    "uses",
    "able",
    "began",
    "begin",
    "called",
    "making",
    "early",
    "later",
    "last",
    "next",
    "little",
    "lot",
    "lots",
    "whole",
    "half",
    "enough",
    "every",
    "ever",
    "anyone",
    "someone",
    "something",
    "nothing",
    "everything",
    "either",
    "neither",
    "instead",
    "because",
    "therefore",
    "roughly",
    "around",
    "nearly",
];

fn zh_function_char(c: char) -> bool {
    ZH_FUNCTION_CHARS.contains(c)
}

/// Light English stemming, enough to count "lighthouse" and "lighthouses" as one term.
fn stem(word: &str) -> String {
    let w = word.trim_end_matches("'s").trim_end_matches('\'');
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        return w[..w.len() - 1].to_owned();
    }
    w.to_owned()
}

fn en_words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty() && !w.chars().all(|c| c == '\''))
}

fn is_en_stop(lower: &str) -> bool {
    EN_STOP_WORDS.contains(&lower)
}

/// The terms of one sentence, in order, with repeats.
pub(crate) fn terms(text: &str, language: Language) -> Vec<String> {
    match language {
        Language::ZhTw => {
            let mut out = Vec::new();
            let chars: Vec<char> = text.chars().collect();
            for pair in chars.windows(2) {
                if is_cjk(pair[0])
                    && is_cjk(pair[1])
                    && !zh_function_char(pair[0])
                    && !zh_function_char(pair[1])
                {
                    let bigram: String = pair.iter().collect();
                    if !ZH_STOP_WORDS.contains(&bigram.as_str()) {
                        out.push(bigram);
                    }
                }
            }
            // Latin words and numbers inside Chinese text are terms too ("LED", "2009").
            for w in text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| w.len() >= 2)
            {
                out.push(w.to_ascii_lowercase());
            }
            out
        }
        Language::En => en_words(text)
            .map(str::to_lowercase)
            .filter(|w| (w.len() >= 3 || w.chars().all(|c| c.is_ascii_digit())) && !is_en_stop(w))
            .map(|w| stem(&w))
            .collect(),
    }
}

/// TF-IDF vectors of the sentences and of the whole document.
pub(crate) struct Analysis {
    pub vectors: Vec<SparseVec>,
    /// Per sentence: cosine similarity to the document vector (how central it is).
    pub centrality: Vec<f64>,
    /// Term id → how much the term says about this article: rarity across sentences (idf) times
    /// a damped frequency, so a topic word counts but does not drown everything else.
    term_weight: Vec<f64>,
    term_ids: HashMap<String, usize>,
}

impl Analysis {
    pub fn new(sentences: &[&str], language: Language) -> Analysis {
        let mut term_ids: HashMap<String, usize> = HashMap::new();
        let mut counts: Vec<Vec<(usize, f64)>> = Vec::with_capacity(sentences.len());
        for s in sentences {
            let mut tf: Vec<(usize, f64)> = Vec::new();
            for t in terms(s, language) {
                let next = term_ids.len();
                let id = *term_ids.entry(t).or_insert(next);
                match tf.iter_mut().find(|(i, _)| *i == id) {
                    Some(entry) => entry.1 += 1.0,
                    None => tf.push((id, 1.0)),
                }
            }
            tf.sort_by_key(|(id, _)| *id);
            counts.push(tf);
        }
        let n_terms = term_ids.len();
        let mut df = vec![0usize; n_terms];
        let mut total_tf = vec![0.0f64; n_terms];
        for tf in &counts {
            for &(id, c) in tf {
                df[id] += 1;
                total_tf[id] += c;
            }
        }
        let n = sentences.len().max(1) as f64;
        let idf: Vec<f64> = df
            .iter()
            .map(|&d| ((n + 1.0) / (d as f64 + 1.0)).ln() + 1.0)
            .collect();
        let vectors: Vec<SparseVec> = counts
            .iter()
            .map(|tf| {
                tf.iter()
                    .map(|&(id, c)| (id, (1.0 + f64::ln(c)) * idf[id]))
                    .collect()
            })
            .collect();
        let doc: SparseVec = (0..n_terms)
            .map(|id| (id, total_tf[id] * idf[id]))
            .collect();
        let term_weight: Vec<f64> = (0..n_terms)
            .map(|id| idf[id] * (1.0 + total_tf[id].ln()))
            .collect();
        let centrality = vectors.iter().map(|v| cosine(v, &doc)).collect();
        Analysis {
            vectors,
            centrality,
            term_weight,
            term_ids,
        }
    }

    /// How informative a phrase is: the mean weight of its terms (length-neutral; the callers
    /// weigh length separately).
    pub fn informativeness(&self, text: &str, language: Language) -> f64 {
        let ts = terms(text, language);
        if ts.is_empty() {
            return 0.0;
        }
        let sum: f64 = ts
            .iter()
            .filter_map(|t| self.term_ids.get(t))
            .map(|&id| self.term_weight[id])
            .sum();
        sum / ts.len() as f64
    }
}

pub(crate) fn cosine(a: &SparseVec, b: &SparseVec) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    let na: f64 = a.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    let nb: f64 = b.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

/// A key phrase of the article.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Keyword {
    pub text: String,
    pub score: f64,
}

/// Key phrases, best first: Chinese 2–6 character n-grams and English words and word pairs that
/// recur (at least twice), spread over paragraphs, and are not mere fragments of a longer
/// recurring phrase.
pub(crate) fn keywords(paragraphs: &[&str], language: Language) -> Vec<Keyword> {
    struct Candidate {
        display: String,
        count: usize,
        words: usize,
        first: usize,
        paragraphs: Vec<usize>,
        /// Seen in lower case at least once (so not a proper noun).
        lower_seen: bool,
        /// Chinese: how often each character came right before / right after it.
        left: Vec<(char, usize)>,
        right: Vec<(char, usize)>,
    }
    fn bump(list: &mut Vec<(char, usize)>, c: Option<char>) {
        if let Some(c) = c {
            match list.iter_mut().find(|(k, _)| *k == c) {
                Some(entry) => entry.1 += 1,
                None => list.push((c, 1)),
            }
        }
    }
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut position = 0usize;
    let mut add = |key: String,
                   display: String,
                   words: usize,
                   paragraph: usize,
                   position: usize,
                   around: (Option<char>, Option<char>)| {
        let next = candidates.len();
        let id = *index.entry(key).or_insert(next);
        if id == next {
            candidates.push(Candidate {
                display: display.clone(),
                count: 0,
                words,
                first: position,
                paragraphs: Vec::new(),
                lower_seen: false,
                left: Vec::new(),
                right: Vec::new(),
            });
        }
        let c = &mut candidates[id];
        c.count += 1;
        c.lower_seen |= display.chars().next().is_some_and(|ch| !ch.is_uppercase());
        bump(&mut c.left, around.0);
        bump(&mut c.right, around.1);
        if c.paragraphs.last() != Some(&paragraph) {
            c.paragraphs.push(paragraph);
        }
    };
    for (p, text) in paragraphs.iter().enumerate() {
        match language {
            Language::ZhTw => {
                let chars: Vec<char> = text.chars().collect();
                for start in 0..chars.len() {
                    for n in 2..=6 {
                        let Some(gram) = chars.get(start..start + n) else {
                            break;
                        };
                        if !gram.iter().all(|&c| is_cjk(c)) {
                            break;
                        }
                        if ZH_START_STOP.contains(gram[0]) || ZH_END_STOP.contains(gram[n - 1]) {
                            continue;
                        }
                        let s: String = gram.iter().collect();
                        // A stop word, or a phrase that only runs into one ("颱風帶來").
                        if ZH_STOP_WORDS
                            .iter()
                            .any(|w| s.starts_with(w) || s.ends_with(w))
                        {
                            continue;
                        }
                        let around = (
                            start.checked_sub(1).map(|i| chars[i]),
                            chars.get(start + n).copied(),
                        );
                        add(s.clone(), s, n, p, position + start, around);
                    }
                }
                position += chars.len();
            }
            Language::En => {
                // Word pairs never span clause punctuation.
                for clause in text.split([',', ';', ':', '.', '!', '?', '(', ')', '"', '“', '”'])
                {
                    let words: Vec<&str> = en_words(clause).collect();
                    let content = |w: &str| {
                        let lower = w.to_lowercase();
                        let acronym = w.len() >= 2 && w.chars().all(|c| c.is_ascii_uppercase());
                        !is_en_stop(&lower)
                            && (lower.len() >= 4 || acronym)
                            && !lower.chars().all(|c| c.is_ascii_digit())
                    };
                    for (k, w) in words.iter().enumerate() {
                        if !content(w) {
                            continue;
                        }
                        let w = w.trim_end_matches("'s").trim_end_matches('\'');
                        add(
                            stem(&w.to_lowercase()),
                            w.to_owned(),
                            1,
                            p,
                            position + k,
                            (None, None),
                        );
                        if let Some(next) = words.get(k + 1).filter(|n| content(n)) {
                            let next = next.trim_end_matches("'s").trim_end_matches('\'');
                            let key = format!(
                                "{} {}",
                                stem(&w.to_lowercase()),
                                stem(&next.to_lowercase())
                            );
                            add(key, format!("{w} {next}"), 2, p, position + k, (None, None));
                        }
                    }
                    position += words.len();
                }
            }
        }
    }

    // A candidate contained in a longer one that occurs nearly as often is only its fragment.
    let mut keys: Vec<&str> = vec![""; candidates.len()];
    for (key, id) in &index {
        keys[*id] = key.as_str();
    }
    // Nor is a Chinese n-gram that nearly always continues with the same character ("北太平洋"
    // after "西", "颱風帶" before "來"): the word is the longer string. A function character or
    // punctuation next to it does not count, since words are followed by those all the time.
    let always_extended = |c: &Candidate| {
        [&c.left, &c.right].iter().any(|side| {
            side.iter()
                .any(|&(ch, n)| n * 4 >= c.count * 3 && is_cjk(ch) && !zh_function_char(ch))
        })
    };
    let mut keep: Vec<bool> = candidates
        .iter()
        .map(|c| c.count >= 2 && !always_extended(c))
        .collect();
    for (i, longer) in candidates.iter().enumerate() {
        if longer.count < 2 {
            continue;
        }
        for part in sub_terms(keys[i], language) {
            if let Some(&j) = index.get(&part)
                && longer.count * 4 >= candidates[j].count * 3
            {
                keep[j] = false;
            }
        }
    }
    let mut out: Vec<(Keyword, usize)> = candidates
        .iter()
        .enumerate()
        .filter(|(i, _)| keep[*i])
        .map(|(_, c)| {
            let length = match language {
                Language::ZhTw => (c.display.chars().count() as f64).sqrt(),
                Language::En => 1.0 + 0.5 * (c.words as f64 - 1.0),
            };
            let spread = 1.0 + (c.paragraphs.len() as f64).ln();
            let text = if language == Language::En && c.lower_seen {
                c.display.to_lowercase()
            } else {
                c.display.clone()
            };
            (
                Keyword {
                    text,
                    score: c.count as f64 * length * spread,
                },
                c.first,
            )
        })
        .collect();
    out.sort_by(|a, b| b.0.score.total_cmp(&a.0.score).then(a.1.cmp(&b.1)));
    out.into_iter().map(|(k, _)| k).collect()
}

/// The terms one step shorter that a candidate contains: the two (n−1)-grams of a Chinese
/// n-gram, the two words of an English pair.
fn sub_terms(key: &str, language: Language) -> Vec<String> {
    match language {
        Language::ZhTw => {
            let chars: Vec<char> = key.chars().collect();
            if chars.len() <= 2 {
                return Vec::new();
            }
            vec![
                chars[1..].iter().collect(),
                chars[..chars.len() - 1].iter().collect(),
            ]
        }
        Language::En => {
            let words: Vec<&str> = key.split(' ').collect();
            if words.len() < 2 {
                Vec::new()
            } else {
                words.into_iter().map(str::to_owned).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_terms_skip_function_characters() {
        let t = terms("颱風的威力很大，LED燈", Language::ZhTw);
        assert_eq!(t, vec!["颱風", "威力", "led"]);
    }

    #[test]
    fn english_terms_are_stemmed_without_stop_words() {
        assert_eq!(
            terms("The lighthouses of the coast", Language::En),
            vec!["lighthouse", "coast"]
        );
    }

    #[test]
    fn keywords_prefer_whole_recurring_phrases() {
        let paras = [
            "颱風眼很平靜。颱風眼的直徑很大。",
            "颱風帶來雨水。颱風眼經過時要小心。颱風很強。",
        ];
        let kw = keywords(&paras, Language::ZhTw);
        let texts: Vec<&str> = kw.iter().map(|k| k.text.as_str()).collect();
        assert!(texts.contains(&"颱風眼"), "{texts:?}");
        assert!(
            !texts.contains(&"風眼"),
            "a fragment of 颱風眼 is not a keyword: {texts:?}"
        );
    }

    #[test]
    fn cosine_of_identical_vectors_is_one() {
        let v = vec![(0, 1.0), (3, 2.0)];
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-12);
        assert_eq!(cosine(&v, &vec![(1, 1.0)]), 0.0);
    }
}
