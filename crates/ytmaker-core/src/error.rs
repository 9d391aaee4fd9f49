//! The error catalogue and the typed error.
//!
//! [`catalogue!`] below is the single source of truth for every error code: category, HTTP status,
//! retry policy, alert priority and the recovery guide in zh-TW and en. The CLI (`ytmaker errors`,
//! `ytmaker explain`), the API and the UI all read [`ErrorCode::spec`]; retry loops read
//! [`RetryPolicy`] from here and never decide a policy of their own.

use chrono::{SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;
use std::time::Duration;

use crate::trace::TraceId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Gemini,
    /// An OpenAI-compatible chat API (script): OpenAI, DeepSeek, Qwen, Ollama, vLLM, LM Studio.
    Llm,
    Stability,
    Did,
    Tts,
    Youtube,
    Media,
    Image,
    Script,
    Storage,
    Queue,
    FileSystem,
    Input,
    Config,
    State,
    /// A request to the local API that cannot be served as sent.
    Request,
    Internal,
}

/// When an alert must reach a person (the user's design review, change 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Priority {
    /// Notify at once.
    P0,
    /// Within the hour.
    P1,
    /// Daily summary.
    P2,
    /// The user's own input; shown to them, never alerted.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Backoff {
    Fixed,
    Exponential,
}

/// How a failure with this code is retried. `max_retries == 0` means never.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub base_delay_ms: u64,
    pub backoff: Backoff,
}

impl RetryPolicy {
    const NEVER: RetryPolicy = RetryPolicy {
        max_retries: 0,
        base_delay_ms: 0,
        backoff: Backoff::Fixed,
    };

    const fn fixed(max_retries: u32, delay_ms: u64) -> Self {
        RetryPolicy {
            max_retries,
            base_delay_ms: delay_ms,
            backoff: Backoff::Fixed,
        }
    }

    const fn exponential(max_retries: u32, base_delay_ms: u64) -> Self {
        RetryPolicy {
            max_retries,
            base_delay_ms,
            backoff: Backoff::Exponential,
        }
    }

    pub fn is_retryable(&self) -> bool {
        self.max_retries > 0
    }

    /// Delay before retry number `retry` (1-based). A server's `Retry-After` wins when it asks for
    /// longer; callers pass it as `server_hint`.
    pub fn delay_before(&self, retry: u32, server_hint: Option<Duration>) -> Duration {
        let base = Duration::from_millis(self.base_delay_ms);
        let ours = match self.backoff {
            Backoff::Fixed => base,
            Backoff::Exponential => base.saturating_mul(1u32 << retry.saturating_sub(1).min(16)),
        };
        match server_hint {
            Some(hint) if hint > ours => hint,
            _ => ours,
        }
    }
}

/// A recovery guide in one language.
#[derive(Debug, Serialize)]
pub struct Guide {
    pub title: &'static str,
    pub explanation: &'static str,
    pub solutions: &'static [&'static str],
}

/// Everything the product knows about one error code.
#[derive(Debug, Serialize)]
pub struct CodeSpec {
    pub code: ErrorCode,
    pub category: Category,
    pub http_status: u16,
    pub retry: RetryPolicy,
    pub priority: Priority,
    pub en: Guide,
    pub zh_tw: Guide,
}

impl CodeSpec {
    pub fn guide(&self, lang: Lang) -> &Guide {
        match lang {
            Lang::En => &self.en,
            Lang::ZhTw => &self.zh_tw,
        }
    }
}

/// Language of user-facing text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-TW")]
    ZhTw,
    #[serde(rename = "en")]
    En,
}

macro_rules! catalogue {
    ($(
        $code:ident => {
            $cat:ident, $http:expr, $retry:expr, $prio:ident,
            en: $en_title:expr, $en_expl:expr, [$($en_sol:expr),+ $(,)?],
            zh: $zh_title:expr, $zh_expl:expr, [$($zh_sol:expr),+ $(,)?] $(,)?
        }
    ),+ $(,)?) => {
        /// Every error the product can report. The variant name is the code users see.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[allow(non_camel_case_types)]
        pub enum ErrorCode { $($code),+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$code),+];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$code => stringify!($code)),+ }
            }

            pub fn spec(self) -> &'static CodeSpec {
                match self {
                    $(ErrorCode::$code => {
                        static SPEC: CodeSpec = CodeSpec {
                            code: ErrorCode::$code,
                            category: Category::$cat,
                            http_status: $http,
                            retry: $retry,
                            priority: Priority::$prio,
                            en: Guide { title: $en_title, explanation: $en_expl, solutions: &[$($en_sol),+] },
                            zh_tw: Guide { title: $zh_title, explanation: $zh_expl, solutions: &[$($zh_sol),+] },
                        };
                        &SPEC
                    }),+
                }
            }
        }
    };
}

use RetryPolicy as R;

catalogue! {
    // ---- Google Gemini (script) ----
    GEMINI_QUOTA_EXCEEDED => { Gemini, 429, R::NEVER, P1,
        en: "Gemini quota exhausted", "The Gemini API reported that the project's quota (daily or plan) is used up. Retrying would only fail again.",
            ["Wait for the daily quota reset", "Upgrade the Gemini plan or raise the quota in Google AI Studio"],
        zh: "Gemini 配額已用盡", "Gemini API 回報此專案的配額（每日或方案）已用完，重試只會再次失敗。",
            ["等待每日配額重置", "升級 Gemini 方案或在 Google AI Studio 提高配額"] },
    GEMINI_INVALID_API_KEY => { Gemini, 401, R::NEVER, P0,
        en: "Gemini API key rejected", "Gemini refused the API key (invalid, revoked or the API is not enabled for it).",
            ["Check the Gemini API key in Settings → API keys", "Make sure the Generative Language API is enabled for the key"],
        zh: "Gemini API 金鑰無效", "Gemini 拒絕了 API 金鑰（無效、已撤銷或未啟用 API）。",
            ["在「設定 → API 金鑰」檢查 Gemini 金鑰", "確認該金鑰已啟用 Generative Language API"] },
    GEMINI_RATE_LIMIT => { Gemini, 429, R::exponential(4, 10_000), P2,
        en: "Gemini rate limit", "Too many requests per minute were sent to Gemini. The request is retried with growing delays, honouring Retry-After.",
            ["Wait; the request is retried automatically", "Lower the number of projects running at once"],
        zh: "Gemini 請求頻率過高", "每分鐘送往 Gemini 的請求過多，系統會依 Retry-After 以遞增間隔自動重試。",
            ["稍候，系統會自動重試", "減少同時執行的專案數"] },
    GEMINI_SERVER_ERROR => { Gemini, 500, R::fixed(3, 5_000), P2,
        en: "Gemini server error", "Gemini answered with a server error (5xx). It is retried three times, five seconds apart.",
            ["Retry later", "Check the Google AI status page"],
        zh: "Gemini 伺服器錯誤", "Gemini 回應伺服器錯誤（5xx），系統會每 5 秒重試，共 3 次。",
            ["稍後再試", "查看 Google AI 服務狀態頁"] },
    GEMINI_CONTENT_POLICY => { Gemini, 400, R::NEVER, P2,
        en: "Gemini blocked the content", "Gemini's safety filters blocked the prompt or the answer.",
            ["Edit the article text", "Edit the prompt template"],
        zh: "內容被 Gemini 安全政策阻擋", "Gemini 的安全過濾器阻擋了提示詞或回應內容。",
            ["修改文章內容", "修改提示詞範本"] },
    GEMINI_TIMEOUT => { Gemini, 504, R::fixed(1, 2_000), P2,
        en: "Gemini timed out", "Gemini did not answer within the time limit. It is retried once.",
            ["Retry", "Shorten the article if it happens again"],
        zh: "Gemini 回應逾時", "Gemini 未在時限內回應，系統會重試一次。",
            ["重試", "若持續發生，請縮短文章"] },
    GEMINI_NETWORK_ERROR => { Gemini, 503, R::exponential(4, 2_000), P2,
        en: "Cannot reach Gemini", "The connection to Gemini failed (DNS, TLS, reset). It is retried with growing delays.",
            ["Check the network connection", "Check proxy settings"],
        zh: "無法連線至 Gemini", "與 Gemini 的連線失敗（DNS、TLS 或連線中斷），系統會以遞增間隔重試。",
            ["檢查網路連線", "檢查代理伺服器設定"] },
    GEMINI_INVALID_RESPONSE => { Gemini, 502, R::fixed(1, 1_000), P2,
        en: "Gemini returned an invalid script", "Gemini's answer did not match the script schema (malformed JSON, missing fields or an unexpected body). The first bytes are in the details. It is retried once.",
            ["Retry", "Edit the prompt template if it persists"],
        zh: "Gemini 回傳的腳本格式無效", "Gemini 的回應不符合腳本結構（JSON 錯誤、缺少欄位或非預期內容），詳細資訊中附有回應開頭。系統會重試一次。",
            ["重試", "若持續發生，請修改提示詞範本"] },
    GEMINI_MODEL_NOT_FOUND => { Gemini, 404, R::NEVER, P1,
        en: "Gemini model not available", "The model chosen for this project is not in the list the Gemini API returns (model names change).",
            ["Choose a model from the current list in the project settings"],
        zh: "找不到 Gemini 模型", "此專案選擇的模型不在 Gemini API 目前的模型清單中（模型名稱會變動）。",
            ["在專案設定中從目前清單選擇模型"] },

    // ---- OpenAI-compatible chat API (script): OpenAI, DeepSeek, Qwen, Ollama, vLLM, LM Studio ----
    LLM_SERVER_UNREACHABLE => { Llm, 503, R::NEVER, P1,
        en: "The LLM server is not reachable", "Nothing accepted the connection at the configured base URL (connection refused): the server is not running, or the URL or port is wrong. It is not retried: start the server, then retry the project.",
            ["Start the server (for Ollama: `ollama serve`) and retry", "Check llm.base_url (Ollama: http://localhost:11434/v1)"],
        zh: "無法連線至 LLM 伺服器", "設定的 base URL 沒有伺服器接受連線（連線被拒）：伺服器未啟動，或網址、連接埠有誤。系統不會自動重試：請先啟動伺服器再重試專案。",
            ["啟動伺服器（Ollama：`ollama serve`）後重試", "檢查 llm.base_url（Ollama：http://localhost:11434/v1）"] },
    LLM_INVALID_API_KEY => { Llm, 401, R::NEVER, P0,
        en: "LLM API key rejected", "The OpenAI-compatible server refused the key (401/403): it is wrong, revoked, or none was sent to a server that needs one.",
            ["Store the key with `ytmaker keys set openai-compatible` (or in Settings → API keys) and set llm.api_key = \"openai_compatible\"", "Check that the key belongs to the server at llm.base_url"],
        zh: "LLM API 金鑰被拒", "OpenAI 相容伺服器拒絕了金鑰（401/403）：金鑰錯誤、已撤銷，或伺服器需要金鑰卻未送出。",
            ["以 `ytmaker keys set openai-compatible`（或「設定 → API 金鑰」）儲存金鑰，並設定 llm.api_key = \"openai_compatible\"", "確認金鑰屬於 llm.base_url 所指的伺服器"] },
    LLM_KEY_FOR_OTHER_SERVER => { Llm, 422, R::NEVER, P1,
        en: "The stored LLM key belongs to another server", "The openai_compatible key is sent only to the server it was stored for, and llm.base_url names another one (or the key was stored before keys were bound to a server). Nothing was sent: a configuration that could point the key at any address would hand it to whoever runs that address.",
            ["Store the key again for this server: `ytmaker keys set openai-compatible --base-url <llm.base_url>` (or in Settings → API keys)", "Or set llm.base_url back to the server the key belongs to (details.key_server)"],
        zh: "儲存的 LLM 金鑰屬於另一台伺服器", "openai_compatible 金鑰只會送往儲存時指定的伺服器，而 llm.base_url 指向另一台（或金鑰是在綁定伺服器之前儲存的）。系統沒有送出任何請求：若設定能把金鑰指向任意位址，金鑰就會落入該位址的主人手中。",
            ["為這台伺服器重新儲存金鑰：`ytmaker keys set openai-compatible --base-url <llm.base_url>`（或「設定 → API 金鑰」）", "或把 llm.base_url 改回金鑰所屬的伺服器（details.key_server）"] },
    LLM_MODEL_NOT_FOUND => { Llm, 404, R::NEVER, P1,
        en: "LLM model not found", "The server does not have the model named in llm.model (for Ollama: it was never pulled).",
            ["Pull the model first (Ollama: `ollama pull <model>`)", "Set llm.model to a model the server lists (`ytmaker keys test openai-compatible`)"],
        zh: "找不到 LLM 模型", "伺服器沒有 llm.model 指定的模型（Ollama：尚未下載）。",
            ["先下載模型（Ollama：`ollama pull <模型>`）", "將 llm.model 設為伺服器列出的模型（`ytmaker keys test openai-compatible`）"] },
    LLM_RATE_LIMIT => { Llm, 429, R::exponential(4, 10_000), P2,
        en: "LLM rate limit", "The server answered 429: too many requests or tokens per minute. The request is retried with growing delays, honouring Retry-After when the server sends it.",
            ["Wait; the request is retried automatically", "Lower the number of projects running at once"],
        zh: "LLM 請求頻率過高", "伺服器回應 429：每分鐘請求或 token 過多。系統會以遞增間隔自動重試，並遵守伺服器的 Retry-After。",
            ["稍候，系統會自動重試", "減少同時執行的專案數"] },
    LLM_QUOTA_EXCEEDED => { Llm, 429, R::NEVER, P1,
        en: "LLM quota or balance used up", "The server reported that the account has no quota or balance left (OpenAI insufficient_quota, DeepSeek 402). Retrying would only fail again.",
            ["Top up the account or raise its quota with the provider", "Choose another model or server in llm for this project"],
        zh: "LLM 配額或餘額已用盡", "伺服器回報帳戶沒有剩餘配額或餘額（OpenAI insufficient_quota、DeepSeek 402），重試只會再次失敗。",
            ["向服務商儲值或提高配額", "為此專案在 llm 設定改用其他模型或伺服器"] },
    LLM_CONTEXT_TOO_LONG => { Llm, 400, R::NEVER, P2,
        en: "The article is too long for the LLM model", "The server refused the request because the prompt and the answer do not fit in the model's context window (context_length_exceeded).",
            ["Shorten the article", "Choose a model with a longer context window in llm.model"],
        zh: "文章超過 LLM 模型的長度上限", "提示詞與回應超過模型的上下文視窗，伺服器拒絕了請求（context_length_exceeded）。",
            ["縮短文章", "在 llm.model 改選上下文視窗較長的模型"] },
    LLM_REQUEST_REJECTED => { Llm, 400, R::NEVER, P1,
        en: "The LLM server refused the request", "The server refused the request as sent (400/422), or has no /chat/completions below the base URL (404): usually the model or server does not support the structured output asked for. The details carry the server's message.",
            ["Set llm.structured_output = \"json_object\" for servers without JSON-schema output (DeepSeek)", "Choose another model in llm.model", "Check llm.base_url: /chat/completions must be right below it (Ollama: http://localhost:11434/v1)"],
        zh: "LLM 伺服器拒絕此請求", "伺服器拒絕了此請求（400/422）：通常是模型或伺服器不支援所要求的結構化輸出。詳細資訊中附有伺服器的訊息。",
            ["若伺服器不支援 JSON schema 輸出（如 DeepSeek），設定 llm.structured_output = \"json_object\"", "在 llm.model 改選其他模型", "檢查 llm.base_url：/chat/completions 必須直接位於其下（Ollama：http://localhost:11434/v1）"] },
    LLM_CONTENT_REFUSED => { Llm, 400, R::NEVER, P2,
        en: "The LLM model refused to write the script", "The model declined the request (a refusal, or its answer was stopped by a content filter).",
            ["Edit the article text", "Edit the prompt template"],
        zh: "LLM 模型拒絕撰寫腳本", "模型拒絕了此請求（拒答，或回應被內容過濾器中止）。",
            ["修改文章內容", "修改提示詞範本"] },
    LLM_OUTPUT_TRUNCATED => { Llm, 502, R::NEVER, P2,
        en: "The LLM's answer was cut off", "The model stopped at its output or context limit (finish_reason \"length\") before the script was complete. The same request would stop at the same place, so it is not retried.",
            ["Choose a model with a larger output or context limit (Ollama: raise the context with OLLAMA_CONTEXT_LENGTH)", "Shorten the article"],
        zh: "LLM 回應被截斷", "模型在腳本完成前就達到輸出或上下文上限（finish_reason \"length\"）。相同請求會停在相同位置，因此不會重試。",
            ["改選輸出或上下文上限較大的模型（Ollama：以 OLLAMA_CONTEXT_LENGTH 提高上下文長度）", "縮短文章"] },
    LLM_SERVER_ERROR => { Llm, 500, R::fixed(3, 5_000), P2,
        en: "LLM server error", "The server answered with a server error (5xx, or overloaded). It is retried three times, five seconds apart.",
            ["Retry later", "Check the server's logs or status page"],
        zh: "LLM 伺服器錯誤", "伺服器回應伺服器錯誤（5xx 或過載），系統會每 5 秒重試，共 3 次。",
            ["稍後再試", "查看伺服器日誌或服務狀態頁"] },
    LLM_TIMEOUT => { Llm, 504, R::fixed(1, 2_000), P2,
        en: "LLM server timed out", "The server did not answer within the time limit (a local model on a slow machine can take minutes). It is retried once.",
            ["Retry", "Use a smaller or faster model, or shorten the article"],
        zh: "LLM 伺服器回應逾時", "伺服器未在時限內回應（在較慢的電腦上，本機模型可能需要數分鐘）。系統會重試一次。",
            ["重試", "改用較小或較快的模型，或縮短文章"] },
    LLM_NETWORK_ERROR => { Llm, 503, R::exponential(4, 2_000), P2,
        en: "Connection to the LLM server failed", "The connection to the server failed after it was reached or could not be set up (DNS, TLS, reset). It is retried with growing delays.",
            ["Check the network connection and llm.base_url", "Check proxy settings"],
        zh: "與 LLM 伺服器的連線失敗", "與伺服器的連線失敗（DNS、TLS 或連線中斷），系統會以遞增間隔重試。",
            ["檢查網路連線與 llm.base_url", "檢查代理伺服器設定"] },
    LLM_INVALID_RESPONSE => { Llm, 502, R::fixed(1, 1_000), P2,
        en: "The LLM returned an invalid script", "The answer did not match the script schema (malformed JSON, missing fields or an unexpected body). The first bytes are in the details. It is retried once.",
            ["Retry", "Use llm.structured_output = \"json_schema\" if the server supports it, or a larger model"],
        zh: "LLM 回傳的腳本格式無效", "回應不符合腳本結構（JSON 錯誤、缺少欄位或非預期內容），詳細資訊中附有回應開頭。系統會重試一次。",
            ["重試", "若伺服器支援，設定 llm.structured_output = \"json_schema\"，或改用較大的模型"] },

    // ---- Stability AI (images) ----
    STABILITY_QUOTA_EXCEEDED => { Stability, 429, R::NEVER, P1,
        en: "Stability AI credits exhausted", "Stability AI reported that the account has no credits left.",
            ["Buy credits", "Wait for the plan's credits to renew"],
        zh: "Stability AI 點數不足", "Stability AI 回報帳戶點數已用完。",
            ["購買點數", "等待方案點數更新"] },
    STABILITY_INVALID_API_KEY => { Stability, 401, R::NEVER, P0,
        en: "Stability AI key rejected", "Stability AI refused the API key.",
            ["Check the Stability AI key in Settings → API keys"],
        zh: "Stability AI 金鑰無效", "Stability AI 拒絕了 API 金鑰。",
            ["在「設定 → API 金鑰」檢查 Stability AI 金鑰"] },
    STABILITY_INVALID_PROMPT => { Stability, 400, R::NEVER, P2,
        en: "Image description rejected", "Stability AI rejected the image prompt (empty, too long or malformed).",
            ["Edit this segment's image description", "Upload your own image for this segment"],
        zh: "圖片描述被拒絕", "Stability AI 拒絕了圖片提示詞（空白、過長或格式錯誤）。",
            ["修改此段落的圖片描述", "為此段落上傳自己的圖片"] },
    STABILITY_RATE_LIMIT => { Stability, 429, R::exponential(4, 2_000), P2,
        en: "Stability AI rate limit", "Too many image requests per minute. Retried with growing delays, honouring Retry-After.",
            ["Wait; the image is retried automatically", "Lower the image concurrency"],
        zh: "Stability AI 請求頻率過高", "每分鐘圖片請求過多，系統會依 Retry-After 以遞增間隔自動重試。",
            ["稍候，系統會自動重試", "降低圖片並行數"] },
    STABILITY_CONTENT_POLICY => { Stability, 403, R::NEVER, P2,
        en: "Image blocked by content policy", "Stability AI's content moderation blocked this image description.",
            ["Remove sensitive content from the image description", "Upload your own image for this segment"],
        zh: "圖片被內容政策阻擋", "Stability AI 的內容審查阻擋了此圖片描述。",
            ["移除圖片描述中的敏感內容", "為此段落上傳自己的圖片"] },
    STABILITY_SERVER_ERROR => { Stability, 500, R::fixed(3, 5_000), P2,
        en: "Stability AI server error", "Stability AI answered with a server error (5xx). Retried three times, five seconds apart.",
            ["Retry later"],
        zh: "Stability AI 伺服器錯誤", "Stability AI 回應伺服器錯誤（5xx），系統會每 5 秒重試，共 3 次。",
            ["稍後再試"] },
    STABILITY_TIMEOUT => { Stability, 504, R::fixed(1, 2_000), P2,
        en: "Stability AI timed out", "The image was not returned within the time limit. Retried once.",
            ["Retry"],
        zh: "Stability AI 回應逾時", "圖片未在時限內回傳，系統會重試一次。",
            ["重試"] },
    STABILITY_NETWORK_ERROR => { Stability, 503, R::exponential(4, 2_000), P2,
        en: "Cannot reach Stability AI", "The connection to Stability AI failed. Retried with growing delays.",
            ["Check the network connection"],
        zh: "無法連線至 Stability AI", "與 Stability AI 的連線失敗，系統會以遞增間隔重試。",
            ["檢查網路連線"] },
    STABILITY_INVALID_RESPONSE => { Stability, 502, R::fixed(1, 1_000), P2,
        en: "Stability AI returned something unexpected", "The answer was not a valid image (HTML error page, malformed JSON or an undecodable image). The first bytes are in the details.",
            ["Retry", "Report it with the trace id if it persists"],
        zh: "Stability AI 回傳非預期內容", "回應不是有效的圖片（HTML 錯誤頁、JSON 錯誤或無法解碼的圖片），詳細資訊中附有回應開頭。",
            ["重試", "若持續發生，請附上追蹤 ID 回報"] },

    // ---- D-ID (presenter) ----
    DID_QUOTA_EXCEEDED => { Did, 402, R::NEVER, P1,
        en: "D-ID credits exhausted", "D-ID reported that the account's credits are used up. The presenter clip cannot be made.",
            ["Wait for the monthly credit reset", "Upgrade the D-ID plan", "Choose \"continue without presenter\" for this project"],
        zh: "D-ID 點數已用盡", "D-ID 回報帳戶點數已用完，無法產生主持人影片。",
            ["等待每月點數重置", "升級 D-ID 方案", "為此專案選擇「不使用主持人繼續」"] },
    DID_INVALID_API_KEY => { Did, 401, R::NEVER, P0,
        en: "D-ID key rejected", "D-ID refused the API key.",
            ["Check the D-ID key in Settings → API keys"],
        zh: "D-ID 金鑰無效", "D-ID 拒絕了 API 金鑰。",
            ["在「設定 → API 金鑰」檢查 D-ID 金鑰"] },
    DID_PROCESSING_TIMEOUT => { Did, 504, R::fixed(1, 5_000), P2,
        en: "D-ID did not finish the clip in time", "The talk was created but was not done before the polling limit. Retried once.",
            ["Retry"],
        zh: "D-ID 影片處理逾時", "影片已建立但在輪詢時限內未完成，系統會重試一次。",
            ["重試"] },
    DID_INVALID_AUDIO => { Did, 400, R::NEVER, P2,
        en: "D-ID rejected the narration audio", "D-ID could not use the uploaded audio (format, size or length).",
            ["Check the audio format and size", "Regenerate the intro/outro narration"],
        zh: "D-ID 拒絕旁白音訊", "D-ID 無法使用上傳的音訊（格式、大小或長度）。",
            ["檢查音訊格式與大小", "重新產生開場／結尾旁白"] },
    DID_INVALID_IMAGE => { Did, 400, R::NEVER, P2,
        en: "D-ID rejected the presenter image", "D-ID could not find a usable face in the presenter image.",
            ["Use a clear frontal portrait (jpg/png)"],
        zh: "D-ID 拒絕主持人圖片", "D-ID 無法在主持人圖片中找到可用的臉部。",
            ["使用清晰的正面肖像（jpg/png）"] },
    DID_CONTENT_REJECTED => { Did, 400, R::NEVER, P2,
        en: "D-ID's content moderation rejected the clip", "D-ID's moderation refused the presenter image or the words of the intro/outro narration (ContentModerationError, or a talk ended \"rejected\"). The same content is refused again, so it is not retried; the details carry D-ID's description.",
            ["Use another presenter portrait", "Reword the intro/outro narration and regenerate it", "Choose \"continue without presenter\" for this project"],
        zh: "D-ID 內容審查拒絕了此影片", "D-ID 的內容審查拒絕了主持人圖片或開場／結尾旁白的內容（ContentModerationError，或影片狀態為 rejected）。相同內容會再次被拒，因此不重試；詳細資訊中附有 D-ID 的說明。",
            ["改用其他主持人肖像", "修改開場／結尾旁白的文字並重新產生", "為此專案選擇「不使用主持人繼續」"] },
    DID_SERVER_ERROR => { Did, 500, R::fixed(2, 30_000), P2,
        en: "D-ID server error", "D-ID answered with a server error. Retried twice, thirty seconds apart.",
            ["Retry later"],
        zh: "D-ID 伺服器錯誤", "D-ID 回應伺服器錯誤，系統會每 30 秒重試，共 2 次。",
            ["稍後再試"] },
    DID_RATE_LIMIT => { Did, 429, R::exponential(3, 5_000), P2,
        en: "D-ID rate limit", "Too many requests to D-ID. Retried with growing delays, honouring Retry-After.",
            ["Wait; the request is retried automatically"],
        zh: "D-ID 請求頻率過高", "送往 D-ID 的請求過多，系統會依 Retry-After 自動重試。",
            ["稍候，系統會自動重試"] },
    DID_NETWORK_ERROR => { Did, 503, R::exponential(4, 2_000), P2,
        en: "Cannot reach D-ID", "The connection to D-ID failed. Retried with growing delays.",
            ["Check the network connection"],
        zh: "無法連線至 D-ID", "與 D-ID 的連線失敗，系統會以遞增間隔重試。",
            ["檢查網路連線"] },
    DID_INVALID_RESPONSE => { Did, 502, R::fixed(1, 1_000), P2,
        en: "D-ID returned something unexpected", "D-ID's answer was malformed or missing a field. The first bytes are in the details.",
            ["Retry", "Report it with the trace id if it persists"],
        zh: "D-ID 回傳非預期內容", "D-ID 的回應格式錯誤或缺少欄位，詳細資訊中附有回應開頭。",
            ["重試", "若持續發生，請附上追蹤 ID 回報"] },

    // ---- Text-to-speech ----
    TTS_INVALID_API_KEY => { Tts, 401, R::NEVER, P0,
        en: "Text-to-Speech key rejected", "Google Cloud Text-to-Speech refused the key, or the API is not enabled for it.",
            ["Check the Text-to-Speech key", "Enable the Cloud Text-to-Speech API for the key's project"],
        zh: "語音合成金鑰無效", "Google Cloud Text-to-Speech 拒絕了金鑰，或該專案未啟用此 API。",
            ["檢查語音合成金鑰", "為金鑰所屬專案啟用 Cloud Text-to-Speech API"] },
    TTS_QUOTA_EXCEEDED => { Tts, 429, R::NEVER, P1,
        en: "Text-to-Speech quota exhausted", "The Text-to-Speech quota is used up.",
            ["Wait for the quota reset", "Raise the quota in the Google Cloud console"],
        zh: "語音合成配額已用盡", "語音合成配額已用完。",
            ["等待配額重置", "在 Google Cloud 主控台提高配額"] },
    TTS_RATE_LIMIT => { Tts, 429, R::exponential(4, 2_000), P2,
        en: "Text-to-Speech rate limit", "Too many synthesis requests per minute. Retried with growing delays.",
            ["Wait; the line is retried automatically"],
        zh: "語音合成請求頻率過高", "每分鐘語音合成請求過多，系統會以遞增間隔自動重試。",
            ["稍候，系統會自動重試"] },
    TTS_SERVER_ERROR => { Tts, 500, R::fixed(3, 5_000), P2,
        en: "Text-to-Speech server error", "The speech service answered with a server error. Retried three times, five seconds apart.",
            ["Retry later"],
        zh: "語音合成伺服器錯誤", "語音服務回應伺服器錯誤，系統會每 5 秒重試，共 3 次。",
            ["稍後再試"] },
    TTS_INVALID_INPUT => { Tts, 400, R::NEVER, P2,
        en: "Narration text rejected", "The speech service rejected the segment text (the cloud API takes at most 5,000 bytes per request).",
            ["Shorten or fix this segment's narration text"],
        zh: "旁白文字被拒絕", "語音服務拒絕了段落文字（雲端 API 每次最多 5,000 位元組）。",
            ["縮短或修正此段落的旁白文字"] },
    TTS_ENGINE_NOT_FOUND => { Tts, 500, R::NEVER, P0,
        en: "espeak-ng is not installed", "Local narration needs the espeak-ng program, which was not found on PATH.",
            ["Install espeak-ng (run `make deps` or `apt-get install espeak-ng`)", "Run `ytmaker doctor` to check"],
        zh: "未安裝 espeak-ng", "本機旁白需要 espeak-ng 程式，但在 PATH 中找不到。",
            ["安裝 espeak-ng（執行 `make deps` 或 `apt-get install espeak-ng`）", "執行 `ytmaker doctor` 檢查"] },
    TTS_ENGINE_FAILED => { Tts, 500, R::NEVER, P1,
        en: "espeak-ng failed", "espeak-ng exited with an error or produced no audio. Its stderr is in the details.",
            ["Check the details for espeak-ng's message", "Check that the voice is installed (`espeak-ng --voices`)"],
        zh: "espeak-ng 執行失敗", "espeak-ng 執行錯誤或未產生音訊，錯誤輸出附於詳細資訊。",
            ["查看詳細資訊中的 espeak-ng 訊息", "確認語音已安裝（`espeak-ng --voices`）"] },
    TTS_TIMEOUT => { Tts, 504, R::fixed(1, 2_000), P2,
        en: "Text-to-Speech timed out", "The speech service did not answer in time. Retried once.",
            ["Retry"],
        zh: "語音合成逾時", "語音服務未在時限內回應，系統會重試一次。",
            ["重試"] },
    TTS_NETWORK_ERROR => { Tts, 503, R::exponential(4, 2_000), P2,
        en: "Cannot reach Text-to-Speech", "The connection to the speech service failed. Retried with growing delays.",
            ["Check the network connection"],
        zh: "無法連線至語音合成服務", "與語音服務的連線失敗，系統會以遞增間隔重試。",
            ["檢查網路連線"] },
    TTS_INVALID_RESPONSE => { Tts, 502, R::fixed(1, 1_000), P2,
        en: "Text-to-Speech returned something unexpected", "The answer had no usable audio (malformed JSON, missing audioContent or undecodable audio). The first bytes are in the details.",
            ["Retry", "Report it with the trace id if it persists"],
        zh: "語音合成回傳非預期內容", "回應中沒有可用的音訊（JSON 錯誤、缺少 audioContent 或無法解碼），詳細資訊中附有回應開頭。",
            ["重試", "若持續發生，請附上追蹤 ID 回報"] },

    // ---- YouTube ----
    YOUTUBE_QUOTA_EXCEEDED => { Youtube, 403, R::NEVER, P1,
        en: "YouTube quota exhausted", "The YouTube Data API daily quota (10,000 units by default) is used up.",
            ["Wait for the daily reset (midnight Pacific time)", "Ask Google for a quota increase"],
        zh: "YouTube 配額已用盡", "YouTube Data API 每日配額（預設 10,000 單位）已用完。",
            ["等待每日重置（太平洋時間午夜）", "向 Google 申請提高配額"] },
    YOUTUBE_INVALID_TOKEN => { Youtube, 401, R::fixed(1, 0), P2,
        en: "YouTube token invalid", "YouTube refused the access token. It is refreshed once automatically.",
            ["Nothing to do; the token is refreshed automatically", "Re-link the account if it persists"],
        zh: "YouTube 權杖無效", "YouTube 拒絕了存取權杖，系統會自動更新一次。",
            ["無需操作，系統會自動更新權杖", "若持續發生，請重新連結帳號"] },
    YOUTUBE_TOKEN_EXPIRED => { Youtube, 401, R::fixed(1, 0), P2,
        en: "YouTube token expired", "The access token expired. It is refreshed once automatically.",
            ["Nothing to do; the token is refreshed automatically"],
        zh: "YouTube 權杖已過期", "存取權杖已過期，系統會自動更新一次。",
            ["無需操作，系統會自動更新權杖"] },
    YOUTUBE_REFRESH_FAILED => { Youtube, 401, R::NEVER, P0,
        en: "YouTube account must be re-linked", "The refresh token was refused (revoked or expired), so no new access token can be obtained.",
            ["Re-link the YouTube account (`ytmaker youtube login` or Settings → YouTube)"],
        zh: "需要重新連結 YouTube 帳號", "更新權杖被拒絕（已撤銷或過期），無法取得新的存取權杖。",
            ["重新連結 YouTube 帳號（`ytmaker youtube login` 或「設定 → YouTube」）"] },
    YOUTUBE_AUTH_REVOKED => { Youtube, 401, R::NEVER, P0,
        en: "YouTube refuses the linked account", "YouTube refused the access token even right after it was refreshed: ytmaker's access was revoked, or the Google account or channel can no longer be used. Retrying cannot help; the account must be linked again.",
            ["Re-link the YouTube account (`ytmaker youtube login` or Settings → YouTube)", "Check in the Google account's security settings that ytmaker still has access"],
        zh: "YouTube 拒絕已連結的帳號", "即使剛更新存取權杖，YouTube 仍拒絕：ytmaker 的存取權已被撤銷，或該 Google 帳號／頻道已無法使用。重試無效，必須重新連結帳號。",
            ["重新連結 YouTube 帳號（`ytmaker youtube login` 或「設定 → YouTube」）", "在 Google 帳號的安全性設定中確認 ytmaker 仍有存取權"] },
    YOUTUBE_UPLOAD_FAILED => { Youtube, 500, R::exponential(5, 2_000), P2,
        en: "YouTube upload interrupted", "The upload was interrupted. It resumes from the offset YouTube reports, without resending what arrived.",
            ["Nothing to do; the upload resumes automatically", "Check the network if it keeps failing"],
        zh: "YouTube 上傳中斷", "上傳中斷，系統會從 YouTube 回報的位置續傳，不會重送已收到的部分。",
            ["無需操作，系統會自動續傳", "若持續失敗，請檢查網路"] },
    YOUTUBE_VIDEO_TOO_LARGE => { Youtube, 400, R::NEVER, P2,
        en: "Video too large for YouTube", "The file exceeds what YouTube accepts for this account.",
            ["Lower the bitrate or the length", "Verify the account to allow longer videos"],
        zh: "影片超過 YouTube 上限", "檔案超過此帳號可上傳的限制。",
            ["降低位元率或縮短長度", "驗證帳號以允許較長的影片"] },
    YOUTUBE_INVALID_METADATA => { Youtube, 400, R::NEVER, P2,
        en: "YouTube rejected the metadata", "Title, description, tags, category or schedule were refused (e.g. title over 100 characters, publishAt without private).",
            ["Fix the title, description or tags named in the details"],
        zh: "YouTube 拒絕影片資訊", "標題、說明、標籤、類別或排程被拒絕（例如標題超過 100 字、排程未設為私人）。",
            ["修正詳細資訊中指出的標題、說明或標籤"] },
    YOUTUBE_NOT_LINKED => { Youtube, 400, R::NEVER, P2,
        en: "No YouTube account linked", "The project publishes to YouTube but no account is linked.",
            ["Link an account with `ytmaker youtube login` or in Settings → YouTube", "Choose the local publisher for this project"],
        zh: "尚未連結 YouTube 帳號", "此專案要發布到 YouTube，但尚未連結帳號。",
            ["用 `ytmaker youtube login` 或「設定 → YouTube」連結帳號", "為此專案改用本機發布"] },
    YOUTUBE_NETWORK_ERROR => { Youtube, 503, R::exponential(4, 2_000), P2,
        en: "Cannot reach YouTube", "The connection to YouTube failed. Retried with growing delays.",
            ["Check the network connection"],
        zh: "無法連線至 YouTube", "與 YouTube 的連線失敗，系統會以遞增間隔重試。",
            ["檢查網路連線"] },
    YOUTUBE_INVALID_RESPONSE => { Youtube, 502, R::fixed(1, 1_000), P2,
        en: "YouTube returned something unexpected", "YouTube's answer was malformed or missing a field. The first bytes are in the details.",
            ["Retry", "Report it with the trace id if it persists"],
        zh: "YouTube 回傳非預期內容", "YouTube 的回應格式錯誤或缺少欄位，詳細資訊中附有回應開頭。",
            ["重試", "若持續發生，請附上追蹤 ID 回報"] },

    YOUTUBE_RATE_LIMIT => { Youtube, 429, R::exponential(4, 5_000), P2,
        en: "YouTube rate limit", "YouTube asked to slow down (rateLimitExceeded). Retried with growing delays.",
            ["Nothing to do; it is retried automatically", "Upload fewer videos at once"],
        zh: "YouTube 請求過於頻繁", "YouTube 要求降低請求頻率（rateLimitExceeded），系統會以遞增間隔重試。",
            ["無需操作，系統會自動重試", "減少同時上傳的影片數"] },
    YOUTUBE_SERVER_ERROR => { Youtube, 500, R::fixed(3, 5_000), P2,
        en: "YouTube server error", "YouTube answered with a server error (5xx) on a metadata or thumbnail call.",
            ["Retry later"],
        zh: "YouTube 伺服器錯誤", "YouTube 在設定影片資訊或縮圖時回傳伺服器錯誤（5xx）。",
            ["稍後重試"] },
    YOUTUBE_TIMEOUT => { Youtube, 504, R::fixed(1, 2_000), P2,
        en: "YouTube did not answer in time", "A YouTube call got no answer within its timeout.",
            ["Retry", "Check the network if it persists"],
        zh: "YouTube 回應逾時", "YouTube 呼叫在時限內沒有回應。",
            ["重試", "若持續發生，請檢查網路"] },
    YOUTUBE_FORBIDDEN => { Youtube, 403, R::NEVER, P1,
        en: "YouTube refused the action", "The linked account may not do this: missing scope, channel not set up, or the daily upload limit reached (uploadLimitExceeded).",
            ["Re-link the account and grant the upload permission", "Open YouTube Studio once to set up the channel", "Wait a day if the upload limit was reached"],
        zh: "YouTube 拒絕此操作", "已連結的帳號無權執行：缺少權限範圍、頻道尚未建立，或已達每日上傳上限（uploadLimitExceeded）。",
            ["重新連結帳號並授予上傳權限", "先在 YouTube 工作室完成頻道設定", "若已達上傳上限，請隔天再試"] },
    YOUTUBE_LOGIN_FAILED => { Youtube, 400, R::NEVER, P1,
        en: "YouTube login did not complete", "The OAuth consent was denied, expired, or its answer did not match this login (state or code refused).",
            ["Run `ytmaker youtube login` again and approve the access", "Check the OAuth client id and secret"],
        zh: "YouTube 登入未完成", "OAuth 授權被拒、逾時，或回應與此次登入不符（state 或授權碼被拒）。",
            ["重新執行 `ytmaker youtube login` 並同意授權", "檢查 OAuth 用戶端 ID 與密鑰"] },

    GEMINI_REQUEST_REJECTED => { Gemini, 400, R::NEVER, P1,
        en: "Gemini refused the request", "The chosen model cannot do what the script needs (for example it has no JSON mode, or the article is over its input limit). The details carry Gemini's message.",
            ["Choose another Gemini model for the project", "Shorten the article"],
        zh: "Gemini 拒絕此請求", "所選模型無法完成腳本所需（例如不支援 JSON 模式，或文章超過輸入上限），詳細資訊中附有 Gemini 的訊息。",
            ["為此專案改選其他 Gemini 模型", "縮短文章"] },
    YOUTUBE_VIDEO_NOT_FOUND => { Youtube, 404, R::NEVER, P1,
        en: "YouTube video not found", "The uploaded video is gone or belongs to another channel than the linked account (e.g. it was deleted before its thumbnail was set).",
            ["Check the video in YouTube Studio", "Retry the project to upload it again after removing its upload record"],
        zh: "找不到 YouTube 影片", "已上傳的影片不存在，或屬於其他頻道（例如在設定縮圖前被刪除）。",
            ["在 YouTube 工作室確認影片", "移除上傳紀錄後重試專案以重新上傳"] },

    // ---- Keys ----
    PROVIDER_KEY_MISSING => { Config, 400, R::NEVER, P0,
        en: "API key missing", "The project uses a cloud provider whose API key is not stored. Nothing was called.",
            ["Store the key with `ytmaker keys set PROVIDER` or in Settings → API keys", "Choose the local provider for this capability"],
        zh: "缺少 API 金鑰", "專案使用的雲端服務尚未儲存 API 金鑰，未呼叫任何服務。",
            ["用 `ytmaker keys set 服務` 或「設定 → API 金鑰」儲存金鑰", "改用此功能的本機服務"] },
    SECRET_STORE_FAILED => { Storage, 500, R::NEVER, P0,
        en: "Key store unreadable", "The encrypted key store could not be read, decrypted or written. Keys are never stored in clear instead.",
            ["Check the permissions of the key store files named in the details", "Delete the store and set the keys again if its identity file was lost"],
        zh: "無法讀取金鑰庫", "加密的金鑰庫無法讀取、解密或寫入；系統不會改以明文儲存。",
            ["檢查詳細資訊中指出的金鑰庫檔案權限", "若身分檔遺失，請刪除金鑰庫並重新設定金鑰"] },

    // ---- Quotas ----
    QUOTA_INSUFFICIENT => { State, 429, R::NEVER, P1,
        en: "Not enough quota left", "The project would need more of a provider's quota than is left (details: provider, needed, remaining, resets_at). Nothing was started or called.",
            ["Wait for the quota to reset (resets_at in the details) and start the project again", "Raise the limit in the `[quotas]` section of the settings file if your plan allows more", "Choose the local provider for this capability"],
        zh: "剩餘配額不足", "此專案需要的服務配額超過目前剩餘量（詳細資訊：服務、所需、剩餘、重置時間），未啟動也未呼叫任何服務。",
            ["等待配額重置（詳細資訊中的 resets_at）後再啟動專案", "若方案允許，在設定檔的 `[quotas]` 區段提高上限", "改用此功能的本機服務"] },

    // ---- Media (FFmpeg) and images ----
    FFMPEG_NOT_FOUND => { Media, 500, R::NEVER, P0,
        en: "FFmpeg is not installed", "ffmpeg or ffprobe was not found on PATH (or at the configured path).",
            ["Install FFmpeg (run `make deps` or `apt-get install ffmpeg`)", "Run `ytmaker doctor` to check"],
        zh: "未安裝 FFmpeg", "在 PATH（或設定的路徑）中找不到 ffmpeg 或 ffprobe。",
            ["安裝 FFmpeg（執行 `make deps` 或 `apt-get install ffmpeg`）", "執行 `ytmaker doctor` 檢查"] },
    FFMPEG_EXECUTION_FAILED => { Media, 500, R::NEVER, P0,
        en: "FFmpeg failed", "An FFmpeg run exited with an error. The command's purpose, exit status and the tail of its stderr are in the details.",
            ["Read the FFmpeg stderr tail in the details", "Run `ytmaker doctor`", "Report it with the trace id"],
        zh: "FFmpeg 執行失敗", "FFmpeg 執行錯誤，用途、結束碼與錯誤輸出的結尾附於詳細資訊。",
            ["查看詳細資訊中的 FFmpeg 錯誤輸出", "執行 `ytmaker doctor`", "附上追蹤 ID 回報"] },
    MEDIA_INVALID => { Media, 500, R::NEVER, P1,
        en: "A media file is not usable", "ffprobe found a media file that is empty, unreadable or missing a stream it needs (e.g. narration audio with no samples).",
            ["Regenerate the asset named in the details"],
        zh: "媒體檔案無法使用", "ffprobe 發現媒體檔案為空、無法讀取或缺少必要的串流（例如旁白沒有聲音）。",
            ["重新產生詳細資訊中指出的素材"] },
    FONT_NOT_FOUND => { Image, 500, R::NEVER, P0,
        en: "Font not found", "The font needed for subtitles, title cards or the thumbnail is not installed. It is never substituted silently.",
            ["Install the CJK fonts (`make deps` or `apt-get install fonts-noto-cjk`)", "Set a font file that exists in the configuration"],
        zh: "找不到字型", "字幕、標題卡或縮圖所需的字型未安裝；系統不會自行替換字型。",
            ["安裝中日韓字型（`make deps` 或 `apt-get install fonts-noto-cjk`）", "在設定中指定存在的字型檔"] },
    IMAGE_RENDER_FAILED => { Image, 500, R::NEVER, P1,
        en: "Image could not be made", "A local image (title card, presenter portrait or thumbnail) could not be drawn or decoded.",
            ["See the details for the file and the reason", "Upload your own image for this segment"],
        zh: "無法產生圖片", "本機圖片（標題卡、主持人肖像或縮圖）無法繪製或解碼。",
            ["查看詳細資訊中的檔案與原因", "為此段落上傳自己的圖片"] },
    THUMBNAIL_TOO_LARGE => { Image, 500, R::NEVER, P2,
        en: "Thumbnail over 2 MB", "The thumbnail stays over YouTube's 2 MB limit even at the lowest quality we allow.",
            ["Use a simpler background image for the thumbnail"],
        zh: "縮圖超過 2 MB", "即使以允許的最低品質輸出，縮圖仍超過 YouTube 的 2 MB 限制。",
            ["為縮圖使用較簡單的背景圖片"] },
    PRESENTER_PORTRAIT_INVALID => { Image, 400, R::NEVER, P2,
        en: "Presenter portrait not usable", "The presenter portrait could not be read as a PNG or JPEG image.",
            ["Use a PNG or JPEG portrait", "Remove the portrait setting to use the built-in presenter"],
        zh: "主持人肖像無法使用", "主持人肖像無法讀取為 PNG 或 JPEG 圖片。",
            ["使用 PNG 或 JPEG 肖像", "移除肖像設定以使用內建主持人"] },

    // ---- Script ----
    SCRIPT_NO_CONTENT => { Script, 422, R::NEVER, P2,
        en: "No narratable text", "After removing markup and blank lines no sentence was left to narrate.",
            ["Check that the file holds the article text itself"],
        zh: "沒有可朗讀的內容", "去除標記與空行後，沒有可朗讀的句子。",
            ["確認檔案內容為文章本文"] },

    // ---- Storage, queue, file system ----
    DATABASE_ERROR => { Storage, 500, R::exponential(3, 500), P1,
        en: "Database error", "A database operation failed. The operation and the driver's message are in the details.",
            ["Check that the database file or server is reachable and writable", "Run `ytmaker doctor`"],
        zh: "資料庫錯誤", "資料庫操作失敗，操作與驅動程式訊息附於詳細資訊。",
            ["確認資料庫檔案或伺服器可存取且可寫入", "執行 `ytmaker doctor`"] },
    QUEUE_CONNECTION_FAILED => { Queue, 500, R::exponential(5, 1_000), P0,
        en: "Job queue unavailable", "The job queue's database could not be reached.",
            ["Check the queue/database server"],
        zh: "工作佇列無法使用", "無法連線至工作佇列的資料庫。",
            ["檢查佇列／資料庫伺服器"] },
    WORKER_KEPT_DYING => { Queue, 500, R::NEVER, P1,
        en: "The run's worker kept dying", "The run was started several times (details: attempts, abandoned_runs) and its worker process ended each time without finishing, so it is not started again by itself. The details name the last worker that died (last_worker) and the run's trace id.",
            ["Find the last worker's last log lines by the trace id (`ytmaker logs --trace TRACE_ID`) and see where it stopped", "Check the host's memory (the kernel's OOM killer in `dmesg` or `journalctl -k`) and free disk space", "Retry the project once the cause is fixed"],
        zh: "執行工作的程序一再終止", "此次執行已啟動多次（詳細資訊：attempts、abandoned_runs），每次執行它的工作程序都在完成前終止，因此不會再自動啟動。詳細資訊中指出最後一個終止的工作程序（last_worker）與此次執行的追蹤 ID。",
            ["以追蹤 ID 找出最後一個工作程序的最後幾行紀錄（`ytmaker logs --trace 追蹤ID`），查看它停在哪裡", "檢查主機記憶體（`dmesg` 或 `journalctl -k` 中的 OOM killer）與可用磁碟空間", "排除原因後重試專案"] },
    FILE_SYSTEM_ERROR => { FileSystem, 500, R::NEVER, P1,
        en: "File system error", "Reading or writing a file failed. The path, the operation and the OS error are in the details.",
            ["Check permissions on the data directory", "Check the disk"],
        zh: "檔案系統錯誤", "讀寫檔案失敗，路徑、操作與系統錯誤附於詳細資訊。",
            ["檢查資料目錄的權限", "檢查磁碟"] },
    DISK_SPACE_INSUFFICIENT => { FileSystem, 507, R::NEVER, P0,
        en: "Not enough disk space", "The data directory's disk has less free space than a render needs (at least 1 GB), or a write failed because the disk is full.",
            ["Free disk space (≥ 1 GB)", "Move the data directory (YTMAKER_DATA_DIR) to a larger disk"],
        zh: "磁碟空間不足", "資料目錄所在磁碟的可用空間不足以算圖（至少 1 GB），或因磁碟已滿而寫入失敗。",
            ["釋放磁碟空間（至少 1 GB）", "將資料目錄（YTMAKER_DATA_DIR）移到較大的磁碟"] },
    FILE_NOT_FOUND => { FileSystem, 404, R::NEVER, P2,
        en: "File not found", "A file that was named does not exist.",
            ["Check the path"],
        zh: "找不到檔案", "指定的檔案不存在。",
            ["檢查路徑"] },

    // ---- Input and configuration ----
    VALIDATION_ERROR => { Input, 422, R::NEVER, None,
        en: "Invalid input", "A value is outside its allowed range or format. The details name the field and the rule.",
            ["Fix the field named in the details"],
        zh: "輸入無效", "有數值超出允許範圍或格式錯誤，詳細資訊中指出欄位與規則。",
            ["修正詳細資訊中指出的欄位"] },
    INPUT_EMPTY => { Input, 422, R::NEVER, None,
        en: "The article is empty", "The input file or text holds no characters (or only white space).",
            ["Provide an article of 500–10,000 characters"],
        zh: "文章為空", "輸入的檔案或文字沒有內容（或只有空白）。",
            ["提供 500–10,000 字的文章"] },
    INPUT_TOO_SHORT => { Input, 422, R::NEVER, None,
        en: "The article is too short", "Articles must have at least 500 characters; the details give the count.",
            ["Provide an article of at least 500 characters"],
        zh: "文章太短", "文章至少需要 500 字，詳細資訊中附有實際字數。",
            ["提供至少 500 字的文章"] },
    INPUT_TOO_LONG => { Input, 422, R::NEVER, None,
        en: "The article is too long", "Articles may have at most 10,000 characters; the details give the count.",
            ["Shorten the article to 10,000 characters or split it into several projects"],
        zh: "文章太長", "文章最多 10,000 字，詳細資訊中附有實際字數。",
            ["將文章縮短至 10,000 字以內，或拆成多個專案"] },
    INPUT_NOT_UTF8 => { Input, 422, R::NEVER, None,
        en: "The article is not UTF-8 text", "The file is not valid UTF-8 (e.g. Big5 or UTF-16). The details give the byte offset of the first invalid byte.",
            ["Save the file as UTF-8 (e.g. `iconv -f BIG5 -t UTF-8`)"],
        zh: "文章不是 UTF-8 文字", "檔案不是有效的 UTF-8（例如 Big5 或 UTF-16），詳細資訊中附有第一個無效位元組的位置。",
            ["將檔案另存為 UTF-8（例如 `iconv -f BIG5 -t UTF-8`）"] },
    INPUT_BINARY => { Input, 422, R::NEVER, None,
        en: "The input is a binary file", "The file contains NUL bytes or control characters, so it is not a text article.",
            ["Provide a plain text (.txt) file"],
        zh: "輸入為二進位檔", "檔案含有 NUL 位元組或控制字元，不是純文字文章。",
            ["提供純文字（.txt）檔"] },
    CONFIG_UNREADABLE => { Config, 400, R::NEVER, None,
        en: "Configuration file cannot be read", "The configuration file is missing, unreadable or not valid TOML. The details give the file and the parser's message.",
            ["Fix the TOML syntax at the line named in the details", "Check the path given with --config"],
        zh: "無法讀取設定檔", "設定檔不存在、無法讀取或不是有效的 TOML，詳細資訊中附有檔案與解析訊息。",
            ["修正詳細資訊中指出的 TOML 語法錯誤", "檢查 --config 指定的路徑"] },
    CONFIG_INVALID => { Config, 422, R::NEVER, None,
        en: "Configuration value out of range", "A configuration value breaks its rule. The details list every field, its value and the rule.",
            ["Fix the fields listed in the details"],
        zh: "設定值超出範圍", "設定值不符合規則，詳細資訊中列出每個欄位、數值與規則。",
            ["修正詳細資訊中列出的欄位"] },
    INVALID_STATE_TRANSITION => { State, 409, R::NEVER, None,
        en: "Not allowed in the project's current state", "The project's status does not allow this action (e.g. starting a project that is already running).",
            ["Check the project's status first", "Pause or cancel before changing it"],
        zh: "專案目前狀態不允許此操作", "專案狀態不允許此操作（例如啟動已在執行的專案）。",
            ["先確認專案狀態", "先暫停或取消再進行變更"] },
    RUN_STOPPED => { State, 409, R::NEVER, None,
        en: "Stopped on request", "The run was paused or cancelled by the user after its current step. This is not a failure; nothing that was completed is lost.",
            ["Resume the project to continue"],
        zh: "已依要求停止", "使用者在目前步驟完成後暫停或取消了執行。這不是錯誤；已完成的內容都會保留。",
            ["繼續（resume）專案即可接著執行"] },
    PROJECT_NOT_FOUND => { State, 404, R::NEVER, None,
        en: "Project not found", "No project has this id.",
            ["List projects with `ytmaker projects list`"],
        zh: "找不到專案", "沒有此 ID 的專案。",
            ["以 `ytmaker projects list` 列出專案"] },
    ASSET_FILE_REMOVED => { State, 410, R::NEVER, None,
        en: "The file was removed by the retention policy", "This intermediate file (narration, image, presenter or segment clip) belonged to a finished project and was deleted by the retention setting. The details give when. The article, script, video, thumbnail and subtitles are always kept.",
            ["Download the final video, thumbnail or subtitles instead", "Choose \"keep forever\" under Settings → Retention to keep the intermediates of future projects"],
        zh: "檔案已依保留設定刪除", "此中間檔（旁白、圖片、主持人或段落影片）屬於已結束的專案，已依保留設定刪除，刪除時間附於詳細資訊。文章、腳本、影片、縮圖與字幕一律保留。",
            ["改為下載最終影片、縮圖或字幕", "在「設定 → 檔案保留」選擇「永久保留」，以保留之後專案的中間檔"] },

    // ---- API requests (the local server) ----
    NOT_FOUND => { Request, 404, R::NEVER, None,
        en: "Not found", "No route, template or file matches this request. The details name what was looked for.",
            ["Check the URL and the id", "List the resources with the matching GET route"],
        zh: "找不到資源", "沒有符合此請求的路由、範本或檔案，詳細資訊中指出所查找的項目。",
            ["檢查網址與 ID", "以對應的 GET 路由列出資源"] },
    METHOD_NOT_ALLOWED => { Request, 405, R::NEVER, None,
        en: "Method not allowed", "The route exists but does not accept this HTTP method.",
            ["See /api/v1/openapi.json for the methods of each route"],
        zh: "不允許的 HTTP 方法", "此路由存在，但不接受這個 HTTP 方法。",
            ["查看 /api/v1/openapi.json 中每個路由的方法"] },
    REQUEST_MALFORMED => { Request, 400, R::NEVER, None,
        en: "Malformed request", "The request body or query is not what the route expects (invalid JSON, wrong type, missing field, bad query value). The details give the parser's message.",
            ["Send JSON matching the schema in /api/v1/openapi.json", "Set Content-Type: application/json"],
        zh: "請求格式錯誤", "請求內容或查詢參數不符合路由的要求（JSON 無效、型別錯誤、缺少欄位、查詢值錯誤），詳細資訊中附有解析訊息。",
            ["依 /api/v1/openapi.json 的結構傳送 JSON", "設定 Content-Type: application/json"] },
    REQUEST_URI_TOO_LONG => { Request, 414, R::NEVER, None,
        en: "Request address too long", "The request's path and query are longer than the server reads. The details give the length and the limit in bytes.",
            ["Send long values in a JSON body instead of the query", "Check that the client does not repeat query parameters"],
        zh: "請求網址過長", "請求的路徑與查詢參數超過伺服器讀取的長度，詳細資訊中附有長度與位元組上限。",
            ["把較長的值放在 JSON 內容中傳送，而不是查詢參數", "確認用戶端沒有重複加上查詢參數"] },
    REQUEST_HEADERS_TOO_LARGE => { Request, 431, R::NEVER, None,
        en: "Request headers too large", "The request carries more headers, or more header bytes, than the server reads. The details give what was sent and the limits.",
            ["Remove unneeded headers or cookies from the client", "Send large values in the body"],
        zh: "請求標頭過大", "請求的標頭數量或位元組數超過伺服器讀取的上限，詳細資訊中附有實際數值與上限。",
            ["移除用戶端不需要的標頭或 Cookie", "把較大的值放在請求內容中傳送"] },
    PAYLOAD_TOO_LARGE => { Request, 413, R::NEVER, None,
        en: "Request too large", "The request body is larger than the server accepts. The details give the limit in bytes.",
            ["Send a smaller body (articles are at most 10,000 characters)"],
        zh: "請求內容過大", "請求內容超過伺服器接受的大小，詳細資訊中附有位元組上限。",
            ["傳送較小的內容（文章最多 10,000 字）"] },
    RANGE_NOT_SATISFIABLE => { Request, 416, R::NEVER, None,
        en: "Range not satisfiable", "The requested byte range lies outside the file. The details give the file size.",
            ["Request a range within the file size"],
        zh: "無法滿足的範圍請求", "要求的位元組範圍超出檔案大小，詳細資訊中附有檔案大小。",
            ["要求檔案大小以內的範圍"] },
    ORIGIN_FORBIDDEN => { Request, 403, R::NEVER, None,
        en: "Request from another site refused", "The request's Host or Origin header is not this server's own address, so it may come from another web site or a DNS-rebinding attack.",
            ["Open the UI at the address the server printed (e.g. http://127.0.0.1:8000)", "Call the API without a foreign Origin header"],
        zh: "拒絕來自其他網站的請求", "請求的 Host 或 Origin 標頭不是本伺服器的位址，可能來自其他網站或 DNS rebinding 攻擊。",
            ["以伺服器顯示的位址開啟介面（例如 http://127.0.0.1:8000）", "呼叫 API 時不要帶其他網站的 Origin 標頭"] },
    UNAUTHORIZED => { Request, 401, R::NEVER, None,
        en: "Access token missing or wrong", "The server was started with an access token (it must be when it listens on a non-loopback address) and requires it on every API request (Authorization: Bearer …, or ?access_token=… where headers cannot be sent).",
            ["Send the token given with --token or YTMAKER_SERVER_TOKEN", "In the web UI, enter that token on the sign-in screen, or open the sign-in address `ytmaker serve` printed in its terminal"],
        zh: "缺少或錯誤的存取權杖", "伺服器啟動時設定了存取權杖（綁定於非本機位址時必須設定），每個 API 請求都必須帶著它（Authorization: Bearer …，無法帶標頭時用 ?access_token=…）。",
            ["傳送以 --token 或 YTMAKER_SERVER_TOKEN 設定的權杖", "在網頁介面的登入畫面輸入該權杖，或開啟 `ytmaker serve` 在終端機印出的登入網址"] },
    SERVER_BIND_FAILED => { Config, 500, R::NEVER, P0,
        en: "The server cannot listen", "The address or port is in use or not allowed, or a non-loopback address was given without an access token.",
            ["Choose another port with --port", "Stop the other process using the port", "Give --token when binding to a non-loopback address"],
        zh: "伺服器無法監聽", "位址或連接埠已被占用或不允許，或綁定非本機位址時未提供存取權杖。",
            ["以 --port 選擇其他連接埠", "停止占用該連接埠的程式", "綁定非本機位址時提供 --token"] },
    WEB_UI_NOT_BUILT => { Config, 404, R::NEVER, None,
        en: "The web UI is not being served", "This server was started without a built web UI: no --ui-dir (or YTMAKER_UI_DIR) was given and there is no web/dist/index.html in the folder it was started from. The API works; only the pages are missing.",
            ["Build the UI with `make web` in the ytmaker repository", "Start `ytmaker serve` from the repository folder, or pass --ui-dir pointing at the built web/dist"],
        zh: "未提供網頁介面", "伺服器啟動時沒有已建置的網頁介面：未指定 --ui-dir（或 YTMAKER_UI_DIR），啟動資料夾中也沒有 web/dist/index.html。API 仍可使用，只是沒有網頁。",
            ["在 ytmaker 儲存庫中執行 `make web` 建置介面", "在儲存庫資料夾中啟動 `ytmaker serve`，或以 --ui-dir 指向建置好的 web/dist"] },

    // ---- Alerts ----
    ALERT_WEBHOOK_FAILED => { Config, 502, R::exponential(3, 1_000), P2,
        en: "Alert webhook did not accept the notice", "Posting an alert or the daily summary to the configured webhook failed (no answer, or an answer other than 2xx). It was retried with growing delays and then given up; the alert itself is still listed in the UI, the CLI and the log.",
            ["Check that [monitoring] webhook_url is right and its receiver (e.g. Slack) is reachable", "See the alert's delivery error with `ytmaker alerts --json`"],
        zh: "告警 Webhook 未接受通知", "將告警或每日摘要送往設定的 Webhook 失敗（無回應，或回應不是 2xx）。系統已以遞增間隔重試後放棄；告警本身仍列在介面、CLI 與日誌中。",
            ["確認 [monitoring] webhook_url 正確，且接收端（例如 Slack）可連線", "以 `ytmaker alerts --json` 查看該告警的傳送錯誤"] },

    // ---- Internal ----
    SERVER_PANICKED => { Internal, 500, R::NEVER, P0,
        en: "The server hit a bug", "A request handler panicked or could not encode its own data. This is a bug in ytmaker; the details say what failed.",
            ["Report it with the trace id", "Retry the request"],
        zh: "伺服器發生錯誤", "請求處理程式發生 panic 或無法編碼自身資料，這是 ytmaker 的錯誤，詳細資訊中說明失敗之處。",
            ["附上追蹤 ID 回報", "重試請求"] },
    WORKER_PANICKED => { Internal, 500, R::NEVER, P0,
        en: "A worker crashed", "A task of the pipeline panicked. This is a bug in ytmaker; the panic message is in the details.",
            ["Report it with the trace id and the details", "Retry the project; completed assets are kept"],
        zh: "工作執行緒當機", "管線中的工作發生 panic，這是 ytmaker 的錯誤，panic 訊息附於詳細資訊。",
            ["附上追蹤 ID 與詳細資訊回報", "重試專案；已完成的素材會保留"] },
}

impl ErrorCode {
    pub fn parse(raw: &str) -> Option<ErrorCode> {
        let wanted = raw.trim().to_ascii_uppercase();
        ErrorCode::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == wanted)
    }

    pub fn is_retryable(self) -> bool {
        self.spec().retry.is_retryable()
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The pipeline stage (or the step before it) where an error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Input,
    Script,
    Assets,
    Render,
    Thumbnail,
    Upload,
    System,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Input => "input",
            Stage::Script => "script",
            Stage::Assets => "assets",
            Stage::Render => "render",
            Stage::Thumbnail => "thumbnail",
            Stage::Upload => "upload",
            Stage::System => "system",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The one error type of ytmaker. The code is chosen where the failure is understood; `?` carries
/// it up unchanged, and the stage is added by the pipeline when it is not known lower down.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct YtError {
    pub code: ErrorCode,
    pub message: String,
    pub stage: Option<Stage>,
    pub details: Map<String, Value>,
}

pub type YtResult<T> = Result<T, YtError>;

impl YtError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        YtError {
            code,
            message: message.into(),
            stage: None,
            details: Map::new(),
        }
    }

    pub fn detail(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.details.insert(key.to_owned(), value.into());
        self
    }

    pub fn at_stage(mut self, stage: Stage) -> Self {
        self.stage.get_or_insert(stage);
        self
    }

    pub fn is_retryable(&self) -> bool {
        self.code.is_retryable()
    }

    /// Maps an I/O failure on `path` to the code that tells the user what to do: a missing file,
    /// a full disk, or any other file-system failure (permissions, read-only mount, …).
    pub fn io(op: &str, path: &std::path::Path, err: &std::io::Error) -> Self {
        const ENOSPC: i32 = 28;
        const EDQUOT: i32 = 122;
        let code = match err.kind() {
            std::io::ErrorKind::NotFound => ErrorCode::FILE_NOT_FOUND,
            std::io::ErrorKind::StorageFull => ErrorCode::DISK_SPACE_INSUFFICIENT,
            _ if matches!(err.raw_os_error(), Some(ENOSPC) | Some(EDQUOT)) => {
                ErrorCode::DISK_SPACE_INSUFFICIENT
            }
            _ => ErrorCode::FILE_SYSTEM_ERROR,
        };
        YtError::new(code, format!("cannot {op} {}: {err}", path.display()))
            .detail("path", path.display().to_string())
            .detail("operation", op)
            .detail("os_error", err.to_string())
    }

    /// A field that breaks a rule, named so the user can fix it.
    pub fn invalid_field(
        code: ErrorCode,
        field: &str,
        rule: &str,
        value: impl Into<Value>,
    ) -> Self {
        YtError::new(code, format!("{field}: {rule}"))
            .detail("field", field)
            .detail("rule", rule)
            .detail("value", value.into())
    }

    pub fn to_info(&self, trace_id: &TraceId, attempts: u32, lang: Lang) -> ErrorInfo {
        let spec = self.code.spec();
        ErrorInfo {
            stage: self.stage.unwrap_or(Stage::System),
            error_code: self.code,
            error_message: self.message.clone(),
            is_retryable: spec.retry.is_retryable(),
            details: self.details.clone(),
            solutions: spec
                .guide(lang)
                .solutions
                .iter()
                .map(|s| s.to_string())
                .collect(),
            timestamp: now_rfc3339(),
            trace_id: trace_id.clone(),
            attempts,
        }
    }
}

/// What a project records about its failure (SPEC §4 `error_info`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorInfo {
    pub stage: Stage,
    /// A code of the catalogue (GET /api/v1/system/errors).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub error_code: ErrorCode,
    pub error_message: String,
    pub is_retryable: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: Map<String, Value>,
    /// The catalogue's solutions, in the language of the run.
    pub solutions: Vec<String>,
    pub timestamp: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub trace_id: TraceId,
    pub attempts: u32,
}

/// RFC 3339 UTC with milliseconds, the one timestamp format of logs, events and `error_info`.
pub fn now_rfc3339() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_every_field_filled() {
        for &code in ErrorCode::ALL {
            let spec = code.spec();
            assert_eq!(spec.code, code);
            assert!(
                (400..600).contains(&spec.http_status),
                "{code}: http status {}",
                spec.http_status
            );
            for (lang, guide) in [("en", &spec.en), ("zh-TW", &spec.zh_tw)] {
                assert!(!guide.title.trim().is_empty(), "{code} {lang}: empty title");
                assert!(
                    guide.explanation.len() > 20,
                    "{code} {lang}: explanation too thin"
                );
                assert!(!guide.solutions.is_empty(), "{code} {lang}: no solutions");
                assert!(
                    guide.solutions.iter().all(|s| !s.trim().is_empty()),
                    "{code} {lang}: blank solution"
                );
            }
            assert_eq!(
                spec.en.solutions.len(),
                spec.zh_tw.solutions.len(),
                "{code}: solutions differ per language"
            );
            if spec.retry.is_retryable() {
                assert!(spec.retry.max_retries <= 5, "{code}: unbounded retries");
            }
            assert!(
                spec.priority != Priority::None
                    || matches!(
                        spec.category,
                        Category::Input | Category::Config | Category::State | Category::Request
                    ),
                "{code}: only the user's own input may go without an alert priority"
            );
        }
    }

    #[test]
    fn codes_are_unique_and_parse_back() {
        let names: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for &code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(&code.as_str().to_lowercase()), Some(code));
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                Value::String(code.as_str().into())
            );
        }
        assert_eq!(ErrorCode::parse("UNKNOWN_ERROR"), None);
    }

    #[test]
    fn spec_minimum_set_matches_the_spec_table() {
        use ErrorCode::*;
        let expect = [
            (GEMINI_QUOTA_EXCEEDED, 429, false),
            (GEMINI_INVALID_API_KEY, 401, false),
            (GEMINI_RATE_LIMIT, 429, true),
            (GEMINI_SERVER_ERROR, 500, true),
            (GEMINI_TIMEOUT, 504, true),
            (GEMINI_INVALID_RESPONSE, 502, true),
            (STABILITY_RATE_LIMIT, 429, true),
            (STABILITY_CONTENT_POLICY, 403, false),
            (DID_QUOTA_EXCEEDED, 402, false),
            (DID_SERVER_ERROR, 500, true),
            (TTS_ENGINE_NOT_FOUND, 500, false),
            (YOUTUBE_QUOTA_EXCEEDED, 403, false),
            (YOUTUBE_REFRESH_FAILED, 401, false),
            (FFMPEG_NOT_FOUND, 500, false),
            (DATABASE_ERROR, 500, true),
            (DISK_SPACE_INSUFFICIENT, 507, false),
            (INVALID_STATE_TRANSITION, 409, false),
        ];
        for (code, http, retryable) in expect {
            assert_eq!(code.spec().http_status, http, "{code}");
            assert_eq!(code.is_retryable(), retryable, "{code}");
        }
        assert_eq!(
            GEMINI_SERVER_ERROR.spec().retry,
            RetryPolicy::fixed(3, 5_000)
        );
        assert_eq!(DID_SERVER_ERROR.spec().retry, RetryPolicy::fixed(2, 30_000));
    }

    #[test]
    fn exponential_backoff_doubles_and_honours_a_longer_retry_after() {
        let p = ErrorCode::GEMINI_RATE_LIMIT.spec().retry;
        assert_eq!(p.delay_before(1, None), Duration::from_secs(10));
        assert_eq!(p.delay_before(2, None), Duration::from_secs(20));
        assert_eq!(p.delay_before(3, None), Duration::from_secs(40));
        assert_eq!(
            p.delay_before(1, Some(Duration::from_secs(30))),
            Duration::from_secs(30)
        );
        assert_eq!(
            p.delay_before(3, Some(Duration::from_secs(1))),
            Duration::from_secs(40)
        );
        let fixed = ErrorCode::STABILITY_SERVER_ERROR.spec().retry;
        assert_eq!(fixed.delay_before(3, None), Duration::from_secs(5));
    }

    #[test]
    fn io_errors_map_to_the_code_the_user_can_act_on() {
        let p = std::path::Path::new("/x/y");
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(YtError::io("read", p, &nf).code, ErrorCode::FILE_NOT_FOUND);
        let full = std::io::Error::from_raw_os_error(28);
        assert_eq!(
            YtError::io("write", p, &full).code,
            ErrorCode::DISK_SPACE_INSUFFICIENT
        );
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = YtError::io("write", p, &denied);
        assert_eq!(e.code, ErrorCode::FILE_SYSTEM_ERROR);
        assert_eq!(e.details["path"], "/x/y");
    }

    #[test]
    fn error_info_carries_trace_solutions_and_retryability() {
        let trace = TraceId::generate();
        let info = YtError::new(ErrorCode::DID_QUOTA_EXCEEDED, "no credits")
            .at_stage(Stage::Assets)
            .detail("credits_left", 0)
            .to_info(&trace, 1, Lang::En);
        assert_eq!(info.stage, Stage::Assets);
        assert!(!info.is_retryable);
        assert_eq!(info.trace_id, trace);
        assert_eq!(info.solutions.len(), 3);
        assert!(info.timestamp.ends_with('Z'));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(json["error_code"], "DID_QUOTA_EXCEEDED");
        assert_eq!(json["stage"], "assets");
    }
}
