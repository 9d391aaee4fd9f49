//! Scripted faults: which calls fail, and how.

use serde::{Deserialize, Serialize};

/// A rule: the calls to `api` (and `endpoint`, when given) after the first `after` matching ones
/// get `action`, `times` times (forever when unset).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub api: Api,
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default)]
    pub after: u32,
    #[serde(default)]
    pub times: Option<u32>,
    pub action: FaultAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Api {
    Gemini,
    /// The OpenAI-compatible chat APIs (both flavours: `/v1` and `/ollama/v1`).
    OpenaiCompatible,
    GoogleTts,
    Stability,
    Did,
    Youtube,
    Oauth,
}

impl Api {
    pub fn as_str(self) -> &'static str {
        match self {
            Api::Gemini => "gemini",
            Api::OpenaiCompatible => "openai_compatible",
            Api::GoogleTts => "google_tts",
            Api::Stability => "stability",
            Api::Did => "did",
            Api::Youtube => "youtube",
            Api::Oauth => "oauth",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultAction {
    /// An error answer in the provider's own format. `reason` picks among the provider's
    /// documented errors of that status (e.g. `daily_quota` or `rate` for a Gemini 429); each
    /// provider module lists the reasons it knows.
    Error {
        status: u16,
        #[serde(default)]
        reason: Option<String>,
        #[serde(default)]
        retry_after_s: Option<u64>,
    },
    /// Answer normally, after a delay.
    Latency { ms: u64 },
    /// Never answer (until the client gives up).
    Hang,
    /// 200 with a body cut in the middle of its JSON.
    MalformedJson,
    /// An HTML error page, as a proxy or load balancer sends.
    Html { status: u16 },
    /// Close the connection without an answer. On an upload chunk, after half the chunk arrived
    /// (and was kept, as a real resumable-upload server keeps what it received).
    Drop,
    /// Handle the call as usual — the provider does the work and keeps it (a D-ID talk is
    /// created and charged) — then close the connection without sending the answer: a reply
    /// lost on its way back, which the client cannot tell from a call that never arrived.
    DropReply,
    /// Handle the call as usual, then never send the answer (until the client gives up).
    HangReply,
}

impl Fault {
    pub fn new(api: Api, endpoint: Option<&str>, action: FaultAction) -> Self {
        Fault {
            api,
            endpoint: endpoint.map(str::to_owned),
            after: 0,
            times: None,
            action,
        }
    }

    pub fn error(api: Api, endpoint: Option<&str>, status: u16, reason: Option<&str>) -> Self {
        Fault::new(
            api,
            endpoint,
            FaultAction::Error {
                status,
                reason: reason.map(str::to_owned),
                retry_after_s: None,
            },
        )
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    pub fn retry_after(mut self, seconds: u64) -> Self {
        if let FaultAction::Error { retry_after_s, .. } = &mut self.action {
            *retry_after_s = Some(seconds);
        }
        self
    }

    fn matches(&self, api: Api, endpoint: &str) -> bool {
        self.api == api && self.endpoint.as_deref().is_none_or(|e| e == endpoint)
    }
}

/// The faults in force, with how often each has matched and fired.
#[derive(Default)]
pub(crate) struct FaultBook {
    rules: Vec<(Fault, u32, u32)>,
}

impl FaultBook {
    pub fn add(&mut self, fault: Fault) {
        self.rules.push((fault, 0, 0));
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The action for this call, if a rule fires. Every matching rule counts the call.
    pub fn fire(&mut self, api: Api, endpoint: &str) -> Option<FaultAction> {
        let mut chosen = None;
        for (fault, seen, fired) in &mut self.rules {
            if !fault.matches(api, endpoint) {
                continue;
            }
            *seen += 1;
            let due = *seen > fault.after && fault.times.is_none_or(|t| *fired < t);
            if due && chosen.is_none() {
                *fired += 1;
                chosen = Some(fault.action.clone());
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_and_times_select_the_calls() {
        let mut book = FaultBook::default();
        book.add(
            Fault::error(Api::Did, Some("talks.create"), 402, None)
                .after(2)
                .times(1),
        );
        let fired: Vec<bool> = (0..5)
            .map(|_| book.fire(Api::Did, "talks.create").is_some())
            .collect();
        assert_eq!(fired, [false, false, true, false, false]);
        assert!(book.fire(Api::Did, "credits").is_none());
        assert!(book.fire(Api::Stability, "talks.create").is_none());
    }
}
