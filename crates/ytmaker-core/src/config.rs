//! Per-project configuration with defaults and validation. Every range lives here, once; the CLI,
//! the API and the UI all validate through [`ProjectConfig::validate`].

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::error::{ErrorCode, YtError, YtResult};

pub const FRAME_WIDTH: u32 = 1920;
pub const FRAME_HEIGHT: u32 = 1080;
pub const FPS: u32 = 30;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProjectConfig {
    pub script: ScriptSettings,
    pub narration: NarrationSettings,
    pub subtitles: SubtitleStyle,
    pub ken_burns: KenBurnsSettings,
    pub presenter: PresenterSettings,
    pub thumbnail: ThumbnailSettings,
    pub render: RenderSettings,
    pub images: ImageSettings,
    pub providers: ProviderChoice,
    /// A logo drawn over every clip (and the thumbnail); none when unset.
    pub logo: Option<LogoSettings>,
    /// The OpenAI-compatible chat API that writes the script when `providers.script` is
    /// `openai_compatible`; read by nothing else.
    pub llm: LlmSettings,
}

/// How the OpenAI-compatible server is asked for the script's JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `response_format: {"type": "json_schema", "json_schema": {..., "strict": true}}`: the
    /// server constrains the answer to the schema (OpenAI, Ollama ≥ 0.5 — which turns it into
    /// its native `format` schema —, vLLM, LM Studio, Qwen's compatible mode).
    #[default]
    JsonSchema,
    /// `response_format: {"type": "json_object"}` with the schema in the system message, for
    /// servers that offer only JSON mode (DeepSeek); the answer is checked against the schema
    /// afterwards like any other.
    JsonObject,
}

impl StructuredOutput {
    pub fn as_str(self) -> &'static str {
        match self {
            StructuredOutput::JsonSchema => "json_schema",
            StructuredOutput::JsonObject => "json_object",
        }
    }
}

/// The key-store entry of the OpenAI-compatible server's key.
pub const LLM_KEY_NAME: &str = "openai_compatible";

/// An OpenAI-compatible chat API (`POST {base_url}/chat/completions`): OpenAI, DeepSeek, Qwen's
/// compatible mode, or a local Ollama, vLLM or LM Studio.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// The API root that `/chat/completions` is below: `https://api.openai.com/v1`,
    /// `https://api.deepseek.com`, `https://dashscope-intl.aliyuncs.com/compatible-mode/v1`,
    /// `http://localhost:11434/v1` (Ollama), `http://localhost:8000/v1` (vLLM),
    /// `http://localhost:1234/v1` (LM Studio).
    pub base_url: String,
    /// The model as the server names it (`gpt-4o-mini`, `deepseek-chat`, `qwen2.5:7b`, …).
    pub model: String,
    /// The key-store entry sent as `Authorization: Bearer`: [`LLM_KEY_NAME`] (stored with
    /// `ytmaker keys set openai-compatible`), or empty for a server that takes no key.
    pub api_key: String,
    pub structured_output: StructuredOutput,
}

impl Default for LlmSettings {
    fn default() -> Self {
        LlmSettings {
            base_url: "http://localhost:11434/v1".into(),
            model: String::new(),
            api_key: String::new(),
            structured_output: StructuredOutput::JsonSchema,
        }
    }
}

/// The longest base URL taken.
pub const MAX_BASE_URL_CHARS: usize = 2048;

/// Whether `url` is an `http(s)://host[:port][/path]` base URL: no credentials, query or
/// fragment (they would end up in logs and error details), no whitespace.
pub fn is_base_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split('/').next().unwrap_or("");
    !authority.is_empty()
        && !authority.starts_with(':')
        && url.chars().count() <= MAX_BASE_URL_CHARS
        && !url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | '?' | '#'))
}

/// The origin of a base URL, as a stored key is bound to it: `scheme://host:port`, the host in
/// lower case and the port written out (80, 443 by default), so that `https://API.openai.com/v1`
/// and `https://api.openai.com:443/v2` are the same server. `None` for what [`is_base_url`]
/// refuses.
pub fn base_url_origin(url: &str) -> Option<String> {
    if !is_base_url(url) {
        return None;
    }
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split('/').next()?.to_ascii_lowercase();
    let default_port = if scheme == "https" { 443 } else { 80 };
    // An IPv6 literal (`[::1]:8080`) has colons inside its brackets.
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host.to_owned(), port.parse::<u16>().ok()?),
        _ => (authority, default_port),
    };
    Some(format!("{scheme}://{host}:{port}"))
}

/// Which corner of the frame the logo sits in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LogoCorner {
    TopLeft,
    #[default]
    TopRight,
    BottomLeft,
    BottomRight,
}

/// The logo overlay (SPEC §2 render "overlays", thumbnail "optional logo").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct LogoSettings {
    /// The id `POST /api/v1/uploads/logo` answered with (the SHA-256 of the stored PNG) — never a
    /// path: the file is found through the data-dir layout (SPEC §8).
    pub upload: String,
    pub position: LogoCorner,
    /// The logo's longer side as a percentage of the frame width, 3–30.
    pub size_percent: f64,
    /// 0 (invisible) – 1 (as uploaded); multiplies the logo's own alpha.
    pub opacity: f64,
    /// Distance from the two nearest frame edges, in pixels of the 1920×1080 frame, 0–200
    /// (scaled with the thumbnail).
    pub margin: u32,
    /// Also draw it on the thumbnail.
    pub on_thumbnail: bool,
}

impl Default for LogoSettings {
    fn default() -> Self {
        LogoSettings {
            upload: String::new(),
            position: LogoCorner::TopRight,
            size_percent: 12.0,
            opacity: 0.85,
            margin: 40,
            on_thumbnail: true,
        }
    }
}

/// An upload id: 64 lowercase hex digits (a SHA-256), so it can name a file and never a path.
pub fn is_upload_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What the cloud illustrator (Stability AI) is asked for, besides each segment's description.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ImageSettings {
    /// A Stability `style_preset` (`photographic`, `anime`, …); none when unset.
    pub style_preset: Option<String>,
    /// Appended to every segment's image description (a "global style").
    pub style_modifiers: String,
    pub negative_prompt: String,
    /// 0 lets the provider pick a random seed for each image.
    pub seed: u32,
    /// Images requested at once (SPEC §2: default 4).
    pub concurrency: u32,
    /// Client-side cap on requests per minute (Stability allows 150).
    pub requests_per_minute: u32,
}

impl Default for ImageSettings {
    fn default() -> Self {
        ImageSettings {
            style_preset: None,
            style_modifiers: String::new(),
            negative_prompt: String::new(),
            seed: 0,
            concurrency: 4,
            requests_per_minute: 150,
        }
    }
}

/// Stability's documented style presets.
pub const STABILITY_STYLE_PRESETS: [&str; 17] = [
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ScriptSettings {
    /// Target length of the whole video, seconds.
    pub target_min_seconds: f64,
    pub target_max_seconds: f64,
    /// Allowed length of one segment, seconds.
    pub segment_min_seconds: f64,
    pub segment_max_seconds: f64,
}

impl Default for ScriptSettings {
    fn default() -> Self {
        ScriptSettings {
            target_min_seconds: 180.0,
            target_max_seconds: 600.0,
            segment_min_seconds: 5.0,
            segment_max_seconds: 20.0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VoiceGender {
    Female,
    Male,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct NarrationSettings {
    pub voice: VoiceGender,
    /// 1.0 is the voice's normal speed (Google TTS `speakingRate`, 0.5–2.0).
    pub speaking_rate: f64,
    /// Semitones, −20–20 (Google TTS `pitch`).
    pub pitch: f64,
}

impl Default for NarrationSettings {
    fn default() -> Self {
        NarrationSettings {
            voice: VoiceGender::Female,
            speaking_rate: 1.0,
            pitch: 0.0,
        }
    }
}

/// A point in the 1920×1080 output frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Point {
    pub x: u32,
    pub y: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SubtitleStyle {
    pub enabled: bool,
    /// A fontconfig family name; a missing family is an error (`FONT_NOT_FOUND`), never substituted.
    pub font_family: String,
    pub font_size: u32,
    /// `#RRGGBB` or `#RRGGBBAA`.
    pub primary_color: String,
    pub outline_color: String,
    pub outline_width: f64,
    /// Bottom-centre of the subtitle block.
    pub position: Point,
    /// Longest subtitle line before it wraps (characters for CJK, roughly ×2 for Latin text).
    pub max_line_chars: u32,
}

impl Default for SubtitleStyle {
    fn default() -> Self {
        SubtitleStyle {
            enabled: true,
            font_family: "Noto Sans CJK TC".into(),
            font_size: 56,
            primary_color: "#FFFFFF".into(),
            outline_color: "#000000".into(),
            outline_width: 3.0,
            position: Point { x: 960, y: 1010 },
            max_line_chars: 20,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum KenBurnsMode {
    /// Cycles zoom in, pan right, zoom out, pan left over the segments.
    Auto,
    ZoomIn,
    ZoomOut,
    PanLeft,
    PanRight,
    /// A still image, no motion.
    Still,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct KenBurnsSettings {
    pub mode: KenBurnsMode,
    /// Scale at the tight end of a zoom or during a pan, 1.0–1.5.
    pub zoom: f64,
}

impl Default for KenBurnsSettings {
    fn default() -> Self {
        KenBurnsSettings {
            mode: KenBurnsMode::Auto,
            zoom: 1.15,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PresenterSettings {
    /// Off only by the user's explicit choice ("continue without presenter"); recorded on the project.
    pub enabled: bool,
    /// A PNG/JPEG portrait for the local presenter; the built-in portrait is drawn when unset.
    /// Set only in the server's or the CLI's configuration file: over the API it must stay what
    /// the project (or the default) already had.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub portrait: Option<PathBuf>,
}

impl Default for PresenterSettings {
    fn default() -> Self {
        PresenterSettings {
            enabled: true,
            portrait: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ThumbnailSettings {
    pub title_font_size: u32,
    pub text_color: String,
    /// Which segment's image is the thumbnail background.
    pub background_segment: u32,
}

impl Default for ThumbnailSettings {
    fn default() -> Self {
        ThumbnailSettings {
            title_font_size: 96,
            text_color: "#FFFFFF".into(),
            background_segment: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RenderSettings {
    /// libx264 preset.
    pub x264_preset: String,
    /// libx264 CRF, 0–51.
    pub crf: u32,
    /// Segment clips rendered at once; 0 means one per core.
    pub parallel_clips: u32,
}

impl Default for RenderSettings {
    fn default() -> Self {
        RenderSettings {
            x264_preset: "veryfast".into(),
            crf: 21,
            parallel_clips: 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Offline provider shipped with ytmaker (SPEC §3 "local" column).
    #[default]
    Local,
    /// Google Gemini `generateContent` (script).
    Gemini,
    /// Any OpenAI-compatible `/chat/completions` server (script), configured in `[llm]`.
    OpenaiCompatible,
    /// Google Cloud Text-to-Speech (narration).
    GoogleTts,
    /// Stability AI (images).
    Stability,
    /// D-ID talks (presenter).
    Did,
    /// YouTube Data API v3 (publish).
    Youtube,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Local => "local",
            ProviderKind::Gemini => "gemini",
            ProviderKind::OpenaiCompatible => "openai_compatible",
            ProviderKind::GoogleTts => "google_tts",
            ProviderKind::Stability => "stability",
            ProviderKind::Did => "did",
            ProviderKind::Youtube => "youtube",
        }
    }
}

impl ProviderChoice {
    /// Every capability set to its cloud provider.
    pub fn cloud() -> Self {
        ProviderChoice {
            script: ProviderKind::Gemini,
            narration: ProviderKind::GoogleTts,
            images: ProviderKind::Stability,
            avatar: ProviderKind::Did,
            publish: ProviderKind::Youtube,
        }
    }
}

/// The provider per capability, chosen explicitly; never switched because another failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ProviderChoice {
    pub script: ProviderKind,
    pub narration: ProviderKind,
    pub images: ProviderKind,
    pub avatar: ProviderKind,
    pub publish: ProviderKind,
}

/// libx264's presets, fastest first.
pub const X264_PRESETS: [&str; 9] = [
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
];

/// What one configuration field must satisfy beyond its type. [`RULES`] lists every one, once:
/// [`ProjectConfig::validate`] checks them, and the OpenAPI document states them
/// ([`describe_rules`]), so the server and the schema a client reads cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    /// A number from `min` to `max`, both included.
    Range { min: f64, max: f64 },
    /// A number greater than the sibling field named (not expressible in JSON Schema: stated in
    /// the field's description).
    GreaterThan(&'static str),
    /// At most this many characters (Unicode scalar values, as JSON Schema's `maxLength` counts).
    MaxChars(usize),
    /// At least one character that is not white space.
    NotBlank,
    /// One of these values (absent or null is allowed where the field is optional).
    OneOf(&'static [&'static str]),
    /// `#RRGGBB` or `#RRGGBBAA` ([`is_hex_color`]).
    HexColor,
    /// The id of an uploaded logo ([`is_upload_id`]).
    UploadId,
    /// An API's base URL ([`is_base_url`]).
    BaseUrl,
    /// No control characters and no white space at either end.
    Trimmed,
}

/// A [`Rule`] on the field at a dotted path of the serialised configuration (`subtitles.font_size`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FieldRule {
    pub field: &'static str,
    pub rule: Rule,
}

const fn rule(field: &'static str, rule: Rule) -> FieldRule {
    FieldRule { field, rule }
}

const fn range(field: &'static str, min: f64, max: f64) -> FieldRule {
    FieldRule {
        field,
        rule: Rule::Range { min, max },
    }
}

/// Every rule of a project configuration, in the order violations are reported.
pub const RULES: &[FieldRule] = &[
    range("script.segment_min_seconds", 2.0, 60.0),
    range("script.segment_max_seconds", 2.0, 60.0),
    rule(
        "script.segment_max_seconds",
        Rule::GreaterThan("segment_min_seconds"),
    ),
    rule(
        "providers.script",
        Rule::OneOf(&["local", "gemini", "openai_compatible"]),
    ),
    rule("providers.narration", Rule::OneOf(&["local", "google_tts"])),
    rule("providers.images", Rule::OneOf(&["local", "stability"])),
    rule("providers.avatar", Rule::OneOf(&["local", "did"])),
    rule("providers.publish", Rule::OneOf(&["local", "youtube"])),
    rule("images.style_preset", Rule::OneOf(&STABILITY_STYLE_PRESETS)),
    rule("images.style_modifiers", Rule::MaxChars(500)),
    rule("images.negative_prompt", Rule::MaxChars(1000)),
    // No rule but its type's: stated so the document does not call it an int32.
    range("images.seed", 0.0, u32::MAX as f64),
    range("images.concurrency", 1.0, 16.0),
    range("images.requests_per_minute", 1.0, 1000.0),
    range("script.target_min_seconds", 10.0, 3600.0),
    range("script.target_max_seconds", 10.0, 3600.0),
    rule(
        "script.target_max_seconds",
        Rule::GreaterThan("target_min_seconds"),
    ),
    range("narration.speaking_rate", 0.5, 2.0),
    range("narration.pitch", -20.0, 20.0),
    rule("subtitles.font_family", Rule::NotBlank),
    range("subtitles.font_size", 20.0, 100.0),
    rule("subtitles.primary_color", Rule::HexColor),
    rule("subtitles.outline_color", Rule::HexColor),
    range("subtitles.outline_width", 0.0, 10.0),
    range("subtitles.position.x", 0.0, (FRAME_WIDTH - 1) as f64),
    range("subtitles.position.y", 0.0, (FRAME_HEIGHT - 1) as f64),
    range("subtitles.max_line_chars", 8.0, 60.0),
    range("ken_burns.zoom", 1.0, 1.5),
    range("thumbnail.title_font_size", 40.0, 200.0),
    rule("thumbnail.text_color", Rule::HexColor),
    // No rule but its type's (which segment exists is known only once the script is written).
    range("thumbnail.background_segment", 0.0, u32::MAX as f64),
    rule("render.x264_preset", Rule::OneOf(&X264_PRESETS)),
    range("render.crf", 0.0, 51.0),
    range("render.parallel_clips", 0.0, 16.0),
    rule("logo.upload", Rule::UploadId),
    range("logo.size_percent", 3.0, 30.0),
    range("logo.opacity", 0.0, 1.0),
    range("logo.margin", 0.0, 200.0),
    rule("llm.base_url", Rule::BaseUrl),
    rule("llm.base_url", Rule::MaxChars(MAX_BASE_URL_CHARS)),
    rule("llm.model", Rule::MaxChars(200)),
    rule("llm.model", Rule::Trimmed),
    rule("llm.api_key", Rule::OneOf(&["", LLM_KEY_NAME])),
];

impl Rule {
    /// The rule in words, as a violation reports it.
    pub fn describe(&self) -> String {
        match self {
            Rule::Range { min, max } => format!("{min}–{max}"),
            Rule::GreaterThan(other) => format!("greater than {other}"),
            Rule::MaxChars(n) => format!("at most {n} characters"),
            Rule::NotBlank => "not empty".into(),
            Rule::OneOf(values) => format!("one of {}", values.join(", ")),
            Rule::HexColor => "hex colour #RRGGBB or #RRGGBBAA".into(),
            Rule::UploadId => "the id of an uploaded logo (64 lowercase hex digits)".into(),
            Rule::BaseUrl => {
                "an http:// or https:// URL without credentials, query or fragment".into()
            }
            Rule::Trimmed => "no control characters or surrounding spaces".into(),
        }
    }

    /// The regular expression (ECMA 262, as JSON Schema's `pattern`) of a rule on text that is
    /// one; it accepts exactly what the rule's check accepts.
    pub fn pattern(&self) -> Option<&'static str> {
        match self {
            Rule::NotBlank => Some(r"\S"),
            Rule::HexColor => Some("^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$"),
            Rule::UploadId => Some("^[0-9a-f]{64}$"),
            Rule::BaseUrl => {
                Some(r"^https?://[^\s\x00-\x1F\x7F-\x9F/@?#:][^\s\x00-\x1F\x7F-\x9F@?#]*$")
            }
            Rule::Trimmed => Some(r"^(?!\s)(?!.*\s$)[^\x00-\x1F\x7F-\x9F]*$"),
            _ => None,
        }
    }

    /// Whether `value` (the field, `parent` the object holding it) satisfies the rule. A null
    /// text is an unset optional field; a null number is one JSON could not hold (NaN).
    fn holds(&self, value: &Value, parent: &Value) -> bool {
        match self {
            Rule::Range { min, max } => value
                .as_f64()
                .is_some_and(|v| v.is_finite() && (*min..=*max).contains(&v)),
            Rule::GreaterThan(other) => match (value.as_f64(), parent[*other].as_f64()) {
                (Some(v), Some(o)) => v > o,
                _ => false,
            },
            _ if value.is_null() => true,
            Rule::MaxChars(n) => value.as_str().is_some_and(|s| s.chars().count() <= *n),
            Rule::NotBlank => value.as_str().is_some_and(|s| !s.trim().is_empty()),
            Rule::OneOf(values) => value.as_str().is_some_and(|s| values.contains(&s)),
            Rule::HexColor => value.as_str().is_some_and(is_hex_color),
            Rule::UploadId => value.as_str().is_some_and(is_upload_id),
            Rule::BaseUrl => value.as_str().is_some_and(is_base_url),
            Rule::Trimmed => value
                .as_str()
                .is_some_and(|s| !s.chars().any(char::is_control) && s.trim() == s),
        }
    }

    /// What a violation reports as the value: the text's length for a length rule, else the value.
    fn reported(&self, value: &Value) -> Value {
        match (self, value.as_str()) {
            (Rule::MaxChars(_), Some(s)) => Value::from(s.chars().count()),
            _ => value.clone(),
        }
    }
}

impl FieldRule {
    /// The field as a JSON pointer into the serialised configuration.
    pub fn pointer(&self) -> String {
        format!("/{}", self.field.replace('.', "/"))
    }

    fn parent_pointer(&self) -> String {
        let pointer = self.pointer();
        match pointer.rfind('/') {
            Some(at) => pointer[..at].to_owned(),
            None => String::new(),
        }
    }
}

impl ProjectConfig {
    /// The one `[llm]` rule the table cannot state, as it spans two sections: the
    /// OpenAI-compatible writer needs a model to ask.
    fn llm_violations(&self) -> Vec<Value> {
        let needs_model = self.providers.script == ProviderKind::OpenaiCompatible;
        if needs_model && self.llm.model.is_empty() {
            return vec![json!({
                "field": "llm.model",
                "rule": "the model to ask (required with providers.script = openai_compatible)",
                "value": self.llm.model,
            })];
        }
        Vec::new()
    }
}

pub fn is_hex_color(value: &str) -> bool {
    value
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

impl ProjectConfig {
    /// Checks every rule of [`RULES`] and reports all violations at once (`CONFIG_INVALID`,
    /// details.violations: field, rule, value). A field that is not there (no logo) has nothing
    /// to break.
    pub fn validate(&self) -> YtResult<()> {
        self.validate_with(RULES)
    }

    /// [`ProjectConfig::validate`] against another rule table: how a test changes one limit and
    /// sees every consumer of the table follow.
    pub fn validate_with(&self, rules: &[FieldRule]) -> YtResult<()> {
        let config = serde_json::to_value(self).map_err(|e| {
            YtError::new(
                ErrorCode::CONFIG_INVALID,
                format!("the configuration cannot be encoded: {e}"),
            )
        })?;
        let mut violations: Vec<Value> = rules
            .iter()
            .filter_map(|r| {
                let value = config.pointer(&r.pointer())?;
                let parent = config.pointer(&r.parent_pointer()).unwrap_or(&Value::Null);
                (!r.rule.holds(value, parent)).then(|| {
                    json!({ "field": r.field, "rule": r.rule.describe(), "value": r.rule.reported(value) })
                })
            })
            .collect();
        violations.extend(self.llm_violations());
        let Some(first) = violations.first() else {
            return Ok(());
        };
        Err(YtError::new(
            ErrorCode::CONFIG_INVALID,
            format!(
                "{} configuration value(s) out of range, first: {} ({})",
                violations.len(),
                first["field"],
                first["rule"]
            ),
        )
        .detail("violations", Value::Array(violations)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        ProjectConfig::default().validate().unwrap();
    }

    #[test]
    fn every_violation_is_reported_with_field_rule_and_value() {
        let mut c = ProjectConfig::default();
        c.subtitles.font_size = 10;
        c.subtitles.primary_color = "white".into();
        c.subtitles.position = Point { x: 1920, y: 500 };
        c.narration.speaking_rate = 3.0;
        c.ken_burns.zoom = f64::NAN;
        let err = c.validate().unwrap_err();
        assert_eq!(err.code, ErrorCode::CONFIG_INVALID);
        let fields: Vec<&str> = err.details["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "narration.speaking_rate",
                "subtitles.font_size",
                "subtitles.primary_color",
                "subtitles.position.x",
                "ken_burns.zoom"
            ]
        );
        assert_eq!(err.details["violations"][1]["rule"], "20–100");
        assert_eq!(err.details["violations"][1]["value"], 10.0);
    }

    #[test]
    fn logo_ranges_are_checked_all_at_once() {
        let mut c = ProjectConfig {
            logo: Some(LogoSettings {
                upload: "a".repeat(64),
                ..LogoSettings::default()
            }),
            ..ProjectConfig::default()
        };
        c.validate().unwrap();
        c.logo = Some(LogoSettings {
            upload: "../../etc/passwd".into(),
            size_percent: 2.9,
            opacity: 1.01,
            margin: 201,
            ..LogoSettings::default()
        });
        let err = c.validate().unwrap_err();
        assert_eq!(err.code, ErrorCode::CONFIG_INVALID);
        let fields: Vec<&str> = err.details["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "logo.upload",
                "logo.size_percent",
                "logo.opacity",
                "logo.margin"
            ]
        );
        for (size, opacity, margin) in [(3.0, 0.0, 0), (30.0, 1.0, 200)] {
            c.logo = Some(LogoSettings {
                upload: "0123456789abcdef".repeat(4),
                size_percent: size,
                opacity,
                margin,
                ..LogoSettings::default()
            });
            c.validate().unwrap();
        }
    }

    #[test]
    fn upload_ids_are_sha256_hex_only() {
        assert!(is_upload_id(&"0f".repeat(32)));
        assert!(!is_upload_id(&"0F".repeat(32)), "upper case");
        assert!(!is_upload_id(&"0f".repeat(31)), "too short");
        assert!(!is_upload_id(&format!("../{}", "0f".repeat(30))), "a path");
        assert!(!is_upload_id(""));
    }

    #[test]
    fn a_logo_section_takes_defaults_and_refuses_unknown_fields() {
        let c: ProjectConfig =
            serde_json::from_str(r#"{"logo": {"upload": "x", "position": "bottom_left"}}"#)
                .unwrap();
        let logo = c.logo.unwrap();
        assert_eq!(logo.position, LogoCorner::BottomLeft);
        assert_eq!(logo.size_percent, 12.0);
        assert!(logo.on_thumbnail);
        assert!(ProjectConfig::default().logo.is_none());
        let err = serde_json::from_str::<ProjectConfig>(r#"{"logo": {"path": "/etc/passwd"}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("path"), "{err}");
    }

    #[test]
    fn the_llm_section_is_checked_only_as_far_as_it_is_used() {
        let mut c = ProjectConfig::default();
        assert_eq!(c.llm.base_url, "http://localhost:11434/v1");
        c.providers.script = ProviderKind::OpenaiCompatible;
        let err = c.validate().unwrap_err();
        assert_eq!(err.details["violations"][0]["field"], "llm.model");
        c.llm.model = "qwen2.5:7b".into();
        c.validate().unwrap();
        c.llm.api_key = "gemini".into();
        c.llm.base_url = "http://user:pass@host/v1".into();
        let err = c.validate().unwrap_err();
        let fields: Vec<&str> = err.details["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["llm.base_url", "llm.api_key"]);
        let parsed: ProjectConfig = serde_json::from_str(
            r#"{"providers": {"script": "openai_compatible"},
                "llm": {"model": "deepseek-chat", "base_url": "https://api.deepseek.com",
                        "api_key": "openai_compatible", "structured_output": "json_object"}}"#,
        )
        .unwrap();
        parsed.validate().unwrap();
        assert_eq!(parsed.llm.structured_output, StructuredOutput::JsonObject);
    }

    #[test]
    fn base_urls() {
        for good in [
            "http://localhost:11434/v1",
            "https://api.openai.com/v1",
            "http://[::1]:8000/v1",
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        ] {
            assert!(is_base_url(good), "{good}");
        }
        for bad in [
            "",
            "localhost:11434",
            "ftp://host",
            "http://",
            "http:///v1",
            "http://a@b/v1",
            "http://h/v1?key=x",
            "http://h/v1#x",
            "http://h /v1",
        ] {
            assert!(!is_base_url(bad), "{bad}");
        }
    }

    #[test]
    fn hex_colours() {
        assert!(is_hex_color("#00ff00") && is_hex_color("#00FF0080"));
        assert!(!is_hex_color("00ff00") && !is_hex_color("#0f0") && !is_hex_color("#gg0000"));
    }

    #[test]
    fn unknown_fields_are_refused_not_ignored() {
        let err = serde_json::from_str::<ProjectConfig>(r#"{"subtitles": {"font_sise": 40}}"#)
            .unwrap_err();
        assert!(err.to_string().contains("font_sise"), "{err}");
    }

    #[test]
    fn a_base_url_origin_is_scheme_host_and_port_whatever_the_path_or_case() {
        assert_eq!(
            base_url_origin("https://API.openai.com/v1").as_deref(),
            Some("https://api.openai.com:443")
        );
        assert_eq!(
            base_url_origin("https://api.openai.com:443/v2"),
            base_url_origin("https://api.openai.com/v1")
        );
        assert_eq!(
            base_url_origin("http://localhost:11434/v1").as_deref(),
            Some("http://localhost:11434")
        );
        assert_eq!(
            base_url_origin("http://[::1]:8080/v1").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(
            base_url_origin("http://[::1]/v1").as_deref(),
            Some("http://[::1]:80")
        );
        assert_ne!(
            base_url_origin("http://localhost:11434/v1"),
            base_url_origin("http://localhost:11435/v1")
        );
        assert_ne!(
            base_url_origin("http://api.example.com/v1"),
            base_url_origin("https://api.example.com/v1")
        );
        assert_eq!(base_url_origin("http://localhost:port/v1"), None);
        assert_eq!(base_url_origin("ftp://example.com"), None);
    }
}
