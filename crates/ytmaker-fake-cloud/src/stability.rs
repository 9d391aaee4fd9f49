//! Stability AI: the v2beta Stable Image Core endpoint (`POST /v2beta/stable-image/generate/core`,
//! multipart/form-data in, image bytes out) and the v1 balance (`GET /v1/user/balance`).
//!
//! Errors use the body each API version documents: v2beta answers
//! `{"id", "name", "errors": [..]}`, v1 answers `{"id", "name", "message"}`.
//!
//! `error_response` reasons, by status: 400 `bad_request`; 401 `unauthorized`; 402 `credits`;
//! 403 `content_moderation`; 413 `payload_too_large`; 422 `invalid_language`; 429 `rate`;
//! 5xx `internal_error`. Status 200 with reason `content_filtered` answers what the real API
//! sends when the finished image failed moderation: a 200 with a blurred image and
//! `finish-reason: CONTENT_FILTERED`. It is a fault reason rather than a flag in the state so that
//! `after`/`times` choose which calls get it, like every other fault.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::{State, lock};

pub const GENERATE: &str = "generate";
pub const BALANCE: &str = "balance";

const GENERATE_PATH: &str = "/v2beta/stable-image/generate/core";
const BALANCE_PATH: &str = "/v1/user/balance";

/// What a new fake account holds; Stable Image Core costs 3 credits an image.
pub const STARTING_CREDITS: f64 = 10_000.0;
pub const CREDITS_PER_IMAGE: f64 = 3.0;

const MAX_PROMPT_CHARS: usize = 10_000;
const MAX_SEED: u64 = 4_294_967_294;
const STYLE_PRESETS: [&str; 17] = [
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

/// The form fields of one generate request, as received (absent fields are `None`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GenerateRequest {
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub aspect_ratio: Option<String>,
    pub seed: Option<String>,
    pub style_preset: Option<String>,
    pub output_format: Option<String>,
    /// The `accept` header.
    pub accept: Option<String>,
}

#[derive(Default)]
pub struct StabilityState {
    requests: Mutex<Vec<GenerateRequest>>,
    credits_spent: Mutex<f64>,
}

impl StabilityState {
    /// Every generate request that got past the key check, in order.
    pub fn requests(&self) -> Vec<GenerateRequest> {
        lock(&self.requests).clone()
    }

    pub fn credits(&self) -> f64 {
        STARTING_CREDITS - *lock(&self.credits_spent)
    }
}

pub(crate) fn endpoint_of(method: &str, path: &str) -> Option<&'static str> {
    match (method, path) {
        ("POST", GENERATE_PATH) => Some(GENERATE),
        ("GET", BALANCE_PATH) => Some(BALANCE),
        _ => None,
    }
}

/// Stability's documented error answers; `reason` picks the variant (see the module docs).
pub(crate) fn error_response(endpoint: &str, status: u16, reason: Option<&str>) -> Response {
    if status == 200 && endpoint == GENERATE && reason == Some("content_filtered") {
        return content_filtered_image();
    }
    let (name, text) = match status {
        400 => ("bad_request", "prompt: is required"),
        401 => ("unauthorized", "authorization: invalid or missing API key"),
        402 => (
            "payment_required",
            "You lack sufficient credits to make this request. Please purchase more credits at \
             https://platform.stability.ai/account/credits and try again.",
        ),
        403 => (
            "content_moderation",
            "Your request was flagged by our content moderation system, as a result your request \
             was denied and you were not charged.",
        ),
        413 => (
            "payload_too_large",
            "body: payloads cannot be larger than 10MiB in size",
        ),
        422 => (
            "invalid_language",
            "English is the only supported language for this service.",
        ),
        429 => (
            "rate_limit_exceeded",
            "You have exceeded the rate limit of 150 requests within a 10 second period, and have \
             been timed out for 60 seconds.",
        ),
        500..=599 => (
            "internal_error",
            "An unexpected server error has occurred, please try again later.",
        ),
        _ => ("error", "the request failed"),
    };
    error_body(endpoint, status, name, text)
}

fn error_body(endpoint: &str, status: u16, name: &str, text: &str) -> Response {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let body = if endpoint == BALANCE {
        json!({ "id": id, "name": name, "message": text })
    } else {
        json!({ "id": id, "name": name, "errors": [text] })
    };
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        axum::Json(body),
    )
        .into_response()
}

pub(crate) fn routes() -> Router<Arc<State>> {
    Router::new()
        .route(GENERATE_PATH, post(generate))
        .route(BALANCE_PATH, get(balance))
}

/// The key of `authorization: Bearer KEY`, unless it is missing or one the fake refuses.
fn accepted_key(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .is_some_and(|key| !key.is_empty() && !key.starts_with("invalid"))
}

async fn balance(AxumState(state): AxumState<Arc<State>>, headers: HeaderMap) -> Response {
    if !accepted_key(&headers) {
        return error_body(BALANCE, 401, "unauthorized", "Incorrect API key provided");
    }
    axum::Json(json!({ "credits": state.stability.credits() })).into_response()
}

async fn generate(
    AxumState(state): AxumState<Arc<State>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    if !accepted_key(&headers) {
        return error_response(GENERATE, 401, None);
    }
    let bad = |text: &str| error_body(GENERATE, 400, "bad_request", text);
    let Ok(mut multipart) = multipart else {
        return bad("content-type: must be multipart/form-data");
    };
    let mut request = GenerateRequest {
        accept: headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        ..GenerateRequest::default()
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return bad(&format!("body: cannot read the multipart body: {e}")),
        };
        let name = field.name().unwrap_or_default().to_owned();
        let Ok(value) = field.text().await else {
            return bad(&format!("{name}: must be text"));
        };
        let slot = match name.as_str() {
            "prompt" => &mut request.prompt,
            "negative_prompt" => &mut request.negative_prompt,
            "aspect_ratio" => &mut request.aspect_ratio,
            "seed" => &mut request.seed,
            "style_preset" => &mut request.style_preset,
            "output_format" => &mut request.output_format,
            // Core ignores fields it does not know, as the real endpoint does.
            _ => continue,
        };
        *slot = Some(value);
    }
    lock(&state.stability.requests).push(request.clone());

    let params = match validate(&request) {
        Ok(params) => params,
        Err(text) => return bad(&text),
    };
    {
        let mut spent = lock(&state.stability.credits_spent);
        if STARTING_CREDITS - *spent < CREDITS_PER_IMAGE {
            drop(spent);
            return error_response(GENERATE, 402, Some("credits"));
        }
        *spent += CREDITS_PER_IMAGE;
    }
    let seed = if params.seed == 0 {
        // Like the real API, seed 0 means "pick one"; the chosen seed is reported back.
        u64::from(uuid::Uuid::new_v4().as_u128() as u32) % MAX_SEED + 1
    } else {
        params.seed
    };
    let prompt = request.prompt.clone().unwrap_or_default();
    let format = params.format;
    let encoded = tokio::task::spawn_blocking(move || {
        render(params.width, params.height, &prompt, seed, format)
    })
    .await;
    let bytes = match encoded {
        Ok(Ok(bytes)) => bytes,
        _ => return error_response(GENERATE, 500, None),
    };
    let wants_json = request
        .accept
        .as_deref()
        .is_some_and(|a| a.starts_with("application/json"));
    image_answer(bytes, format, seed, "SUCCESS", wants_json)
}

struct Params {
    width: u32,
    height: u32,
    seed: u64,
    format: image::ImageFormat,
}

/// The checks the real endpoint makes, with its messages' `field: problem` shape.
fn validate(request: &GenerateRequest) -> Result<Params, String> {
    let prompt = request.prompt.as_deref().unwrap_or_default();
    if prompt.trim().is_empty() {
        return Err("prompt: is required".into());
    }
    if prompt.chars().count() > MAX_PROMPT_CHARS {
        return Err(format!(
            "prompt: must be at most {MAX_PROMPT_CHARS} characters"
        ));
    }
    if request
        .negative_prompt
        .as_deref()
        .is_some_and(|n| n.chars().count() > MAX_PROMPT_CHARS)
    {
        return Err(format!(
            "negative_prompt: must be at most {MAX_PROMPT_CHARS} characters"
        ));
    }
    let ratio = request.aspect_ratio.as_deref().unwrap_or("1:1");
    let (width, height) = size_for(ratio).ok_or_else(|| {
        format!(
            "aspect_ratio: must be one of 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21 (got {ratio})"
        )
    })?;
    let seed = match request.seed.as_deref() {
        None => 0,
        Some(text) => text
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= MAX_SEED)
            .ok_or_else(|| format!("seed: must be a number from 0 to {MAX_SEED}"))?,
    };
    if let Some(preset) = request.style_preset.as_deref()
        && !STYLE_PRESETS.contains(&preset)
    {
        return Err(format!("style_preset: unknown preset {preset}"));
    }
    let format = match request.output_format.as_deref().unwrap_or("png") {
        "png" => image::ImageFormat::Png,
        "jpeg" => image::ImageFormat::Jpeg,
        // The real API also offers webp; the fake has no webp encoder and says so.
        "webp" => return Err("output_format: webp is not rendered by the fake cloud".into()),
        other => {
            return Err(format!(
                "output_format: must be jpeg, png or webp (got {other})"
            ));
        }
    };
    Ok(Params {
        width,
        height,
        seed,
        format,
    })
}

/// Output size per aspect ratio. The docs give Core's output as about 1.5 megapixels without a
/// table of sizes; these keep each ratio exact at roughly that size.
fn size_for(ratio: &str) -> Option<(u32, u32)> {
    Some(match ratio {
        "16:9" => (1536, 864),
        "1:1" => (1152, 1152),
        "21:9" => (1680, 720),
        "2:3" => (960, 1440),
        "3:2" => (1440, 960),
        "4:5" => (1024, 1280),
        "5:4" => (1280, 1024),
        "9:16" => (864, 1536),
        "9:21" => (720, 1680),
        _ => return None,
    })
}

/// A gradient whose colours come from the prompt and seed, so different requests give
/// different images and the same request gives the same image.
fn render(
    width: u32,
    height: u32,
    prompt: &str,
    seed: u64,
    format: image::ImageFormat,
) -> Result<Vec<u8>, image::ImageError> {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for byte in prompt.bytes() {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let [r0, g0, b0, r1, g1, b1, ..] = hash.to_le_bytes();
    let mix = |a: u8, b: u8, t: u32, span: u32| -> u8 {
        let (a, b) = (u32::from(a), u32::from(b));
        ((a * (span - t) + b * t) / span) as u8
    };
    let span = (width + height).max(1);
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        let t = x + y;
        image::Rgb([
            mix(r0, r1, t, span),
            mix(g0, g1, t, span),
            mix(b0, b1, t, span),
        ])
    });
    encode(&img, format)
}

fn encode(img: &image::RgbImage, format: image::ImageFormat) -> Result<Vec<u8>, image::ImageError> {
    let mut bytes = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut bytes), format)?;
    Ok(bytes)
}

/// What Stability sends for an image its moderation blurred after generating it.
fn content_filtered_image() -> Response {
    let (width, height) = (1536, 864);
    let blurred = image::RgbImage::from_pixel(width, height, image::Rgb([128, 128, 128]));
    match encode(&blurred, image::ImageFormat::Png) {
        Ok(bytes) => image_answer(bytes, image::ImageFormat::Png, 1, "CONTENT_FILTERED", false),
        Err(_) => error_response(GENERATE, 500, None),
    }
}

fn image_answer(
    bytes: Vec<u8>,
    format: image::ImageFormat,
    seed: u64,
    finish_reason: &'static str,
    as_json: bool,
) -> Response {
    let mime = match format {
        image::ImageFormat::Jpeg => "image/jpeg",
        _ => "image/png",
    };
    let request_id = uuid::Uuid::new_v4().simple().to_string();
    let mut response = if as_json {
        // With `accept: application/json` the image is base64 in the body and the finish reason
        // and seed move from the headers into it.
        use base64::Engine;
        let body = json!({
            "image": base64::engine::general_purpose::STANDARD.encode(&bytes),
            "finish_reason": finish_reason,
            "seed": seed,
        });
        let mut response = axum::Json(body).into_response();
        if let Ok(v) = HeaderValue::from_str(&format!("application/json; type={mime}")) {
            response.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        response
    } else {
        let mut response = ([(header::CONTENT_TYPE, mime)], bytes).into_response();
        let headers = response.headers_mut();
        headers.insert("finish-reason", HeaderValue::from_static(finish_reason));
        headers.insert("seed", HeaderValue::from(seed));
        response
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_follows_the_documented_fields() {
        let ok = GenerateRequest {
            prompt: Some("a lighthouse".into()),
            aspect_ratio: Some("16:9".into()),
            seed: Some("42".into()),
            style_preset: Some("cinematic".into()),
            output_format: Some("png".into()),
            ..GenerateRequest::default()
        };
        let params = validate(&ok).unwrap();
        assert_eq!((params.width, params.height, params.seed), (1536, 864, 42));

        let broken = [
            GenerateRequest {
                prompt: None,
                ..ok.clone()
            },
            GenerateRequest {
                aspect_ratio: Some("16:10".into()),
                ..ok.clone()
            },
            GenerateRequest {
                seed: Some("4294967295".into()),
                ..ok.clone()
            },
            GenerateRequest {
                style_preset: Some("vaporwave".into()),
                ..ok.clone()
            },
            GenerateRequest {
                prompt: Some("x".repeat(MAX_PROMPT_CHARS + 1)),
                ..ok.clone()
            },
        ];
        for request in broken {
            assert!(validate(&request).is_err(), "{request:?}");
        }
    }

    #[test]
    fn pixels_depend_on_prompt_and_seed() {
        let a = render(32, 18, "a", 1, image::ImageFormat::Png).unwrap();
        let b = render(32, 18, "b", 1, image::ImageFormat::Png).unwrap();
        let c = render(32, 18, "a", 2, image::ImageFormat::Png).unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(a, render(32, 18, "a", 1, image::ImageFormat::Png).unwrap());
    }
}
