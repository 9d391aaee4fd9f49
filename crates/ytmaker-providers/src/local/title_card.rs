//! Local images: a title card per segment (SPEC §3) — a gradient whose hues follow the segment,
//! soft shapes, the segment's key phrase large and centred in a CJK font, and its number.
//!
//! Cards are 2560×1440: the renderer's Ken Burns motion zooms into and pans across them, so they
//! carry headroom over 1920×1080, and everything that must stay visible (text, number) sits in the
//! central 1500×800 that any zoom up to 1.25 with a pan keeps in frame.

use std::sync::Arc;

use ab_glyph::FontVec;
use async_trait::async_trait;
use image::RgbImage;
use tokio::sync::OnceCell;
use ytmaker_core::{ErrorCode, YtError, YtResult};

use super::paint::{Canvas, hsl, mix};
use super::stable_hash;
use crate::atomic;
use crate::{Illustrator, ImageAsset, ImageRequest};

pub const CARD_WIDTH: u32 = 2560;
pub const CARD_HEIGHT: u32 = 1440;
/// The family cards are drawn in unless told otherwise (bold face).
pub const DEFAULT_CARD_FONT: &str = "Noto Sans CJK TC";

const TEXT_MAX_WIDTH: f32 = 1500.0;
const TEXT_MAX_HEIGHT: f32 = 640.0;
const TEXT_MAX_LINES: usize = 3;
const TEXT_SIZES: [f32; 12] = [
    200.0, 186.0, 172.0, 160.0, 148.0, 136.0, 124.0, 114.0, 104.0, 96.0, 88.0, 80.0,
];

pub struct TitleCardIllustrator {
    family: String,
    /// Loaded on first use and kept: a CJK collection is ~20 MB.
    font: OnceCell<Arc<FontVec>>,
}

impl Default for TitleCardIllustrator {
    fn default() -> Self {
        Self::new()
    }
}

impl TitleCardIllustrator {
    pub fn new() -> Self {
        Self::with_font_family(DEFAULT_CARD_FONT)
    }

    /// Cards in another installed family; a family that is not installed is `FONT_NOT_FOUND` when
    /// the first card is drawn (never a substitute).
    pub fn with_font_family(family: impl Into<String>) -> Self {
        TitleCardIllustrator {
            family: family.into(),
            font: OnceCell::new(),
        }
    }

    async fn font(&self) -> YtResult<Arc<FontVec>> {
        self.font
            .get_or_try_init(|| load_font(self.family.clone()))
            .await
            .cloned()
    }

    /// Draws the card for segment `index` with `key_phrase` (empty: background and number only,
    /// e.g. for previews). The colours follow `index` and a hash of `seed` — the key phrase itself
    /// for real cards.
    pub async fn render_card(
        &self,
        index: u32,
        seed: &str,
        key_phrase: &str,
    ) -> YtResult<RgbImage> {
        let font = self.font().await?;
        let (seed, phrase) = (seed.to_owned(), key_phrase.trim().to_owned());
        blocking("draw a title card", move || {
            draw_card(&font, index, &seed, &phrase)
        })
        .await
    }
}

async fn load_font(family: String) -> YtResult<Arc<FontVec>> {
    let lookup = family.clone();
    let face = blocking("look up a font", move || {
        ytmaker_render::resolve_font(&lookup, true)
    })
    .await?;
    let bytes = tokio::fs::read(&face.path)
        .await
        .map_err(|e| YtError::io("read font", &face.path, &e))?;
    let font = FontVec::try_from_vec_and_index(bytes, face.index).map_err(|e| {
        YtError::new(
            ErrorCode::IMAGE_RENDER_FAILED,
            format!("cannot parse the font file {}: {e}", face.path.display()),
        )
        .detail("family", family.as_str())
        .detail("path", face.path.display().to_string())
        .detail("index", face.index)
    })?;
    tracing::debug!(family = family.as_str(), path = %face.path.display(), index = face.index, "title card font loaded");
    Ok(Arc::new(font))
}

/// Runs CPU-bound drawing off the async threads.
pub(crate) async fn blocking<T: Send + 'static>(
    what: &str,
    f: impl FnOnce() -> YtResult<T> + Send + 'static,
) -> YtResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        YtError::new(
            ErrorCode::WORKER_PANICKED,
            format!("{what}: the drawing task failed: {e}"),
        )
        .detail("task", what)
    })?
}

/// A deterministic stream of numbers in 0..1 from a seed (SplitMix64), for shape placement.
struct Shuffle(u64);

impl Shuffle {
    fn next(&mut self) -> f32 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 40) as f32 / (1u64 << 24) as f32
    }

    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.next()
    }
}

/// The soft background is painted at a quarter of the card's size and enlarged: it has no
/// detail a larger canvas would show, and a quarter is 16 times less work.
const BACKGROUND_SCALE: f32 = 0.25;

fn draw_card(font: &FontVec, index: u32, seed: &str, phrase: &str) -> YtResult<RgbImage> {
    let (w, h) = (CARD_WIDTH as f32, CARD_HEIGHT as f32);
    let mut rng = Shuffle(stable_hash(format!("{index}\u{0}{seed}").as_bytes()));
    // Neighbouring segments get clearly different hues (golden-angle steps), the text hash varies
    // them further; saturation and lightness stay where white text reads well.
    let hue = (index as f32 * 137.5 + rng.range(0.0, 40.0)).rem_euclid(360.0);
    let hue2 = hue + rng.range(25.0, 55.0);
    let dark = hsl(hue, 0.55, 0.20);
    let light = hsl(hue2, 0.60, 0.38);
    let k = BACKGROUND_SCALE;
    let (bw, bh) = ((w * k) as u32, (h * k) as u32);
    let mut background = Canvas::from_fn(bw, bh, |x, y| {
        mix(
            dark,
            light,
            (x / (w * k) * 0.65 + (1.0 - y / (h * k)) * 0.35).clamp(0.0, 1.0),
        )
    });

    // Soft, large, low-contrast bokeh discs and a few thin rings: texture without clutter.
    for _ in 0..6 {
        let (cx, cy, r) = (
            rng.range(0.0, w),
            rng.range(0.0, h),
            rng.range(160.0, 520.0),
        );
        let tint = hsl(hue2 + rng.range(-20.0, 40.0), 0.5, 0.72);
        background.disc(
            cx * k,
            cy * k,
            r * k,
            tint,
            rng.range(0.05, 0.10),
            r * 0.45 * k,
        );
    }
    for _ in 0..3 {
        let (cx, cy, r) = (
            rng.range(0.0, w),
            rng.range(0.0, h),
            rng.range(260.0, 760.0),
        );
        background.ring(
            cx * k,
            cy * k,
            r * k,
            rng.range(3.0, 7.0) * k * 2.0,
            [1.0, 1.0, 1.0],
            rng.range(0.05, 0.10),
        );
    }
    // Vignette: the centre, where the text is, stays brightest.
    background.shade(|x, y| {
        let (dx, dy) = (
            (x - w * k / 2.0) / (w * k / 2.0),
            (y - h * k / 2.0) / (h * k / 2.0),
        );
        1.0 - 0.35 * ((dx * dx + dy * dy) / 2.0).min(1.0)
    });
    let mut canvas = background.resized(CARD_WIDTH, CARD_HEIGHT);

    let block = if phrase.is_empty() {
        None
    } else {
        let laid = super::paint::layout(
            font,
            phrase,
            &TEXT_SIZES,
            TEXT_MAX_WIDTH,
            TEXT_MAX_HEIGHT,
            TEXT_MAX_LINES,
        )?;
        Some(laid.ok_or_else(|| {
            YtError::new(
                ErrorCode::IMAGE_RENDER_FAILED,
                "the key phrase does not fit on the title card even at the smallest size",
            )
            .detail("key_phrase", phrase)
            .detail("chars", phrase.chars().count())
        })?)
    };

    let text_height = block.as_ref().map_or(0.0, |b| b.height);
    let badge_r = 58.0;
    let gap = 70.0;
    // Badge, text and accent bar are centred as one group.
    let group = 2.0 * badge_r + gap + text_height + 90.0;
    let top = (h - group) / 2.0;
    let badge_cy = top + badge_r;
    let text_top = top + 2.0 * badge_r + gap;
    let cx = w / 2.0;

    canvas.disc(cx, badge_cy, badge_r, [1.0, 1.0, 1.0], 0.16, 1.0);
    canvas.ring(cx, badge_cy, badge_r, 4.0, [1.0, 1.0, 1.0], 0.55);
    let number = format!("{:02}", index + 1);
    if let Some(n) = super::paint::layout(font, &number, &[64.0], 2.0 * badge_r, 2.0 * badge_r, 1)?
    {
        let mask = n.rasterise(font, cx, badge_cy - n.height / 2.0);
        canvas.fill_mask(&mask, 0, 0, [1.0, 1.0, 1.0], 0.95);
    }

    if let Some(block) = &block {
        let mask = block.rasterise(font, cx, text_top);
        let shadow = mask.blurred(14.0);
        canvas.fill_mask(&shadow, 0, 12, [0.0, 0.0, 0.0], 0.55);
        canvas.fill_mask(&mask, 0, 0, [1.0, 1.0, 1.0], 1.0);
        let bar_y = text_top + block.height + 50.0;
        canvas.pill(
            cx - 110.0,
            bar_y,
            cx + 110.0,
            bar_y + 12.0,
            hsl(hue2 + 20.0, 0.85, 0.72),
            0.95,
        );
    }
    Ok(canvas.into_rgb8())
}

#[async_trait]
impl Illustrator for TitleCardIllustrator {
    fn id(&self) -> &'static str {
        "title-card"
    }

    async fn illustrate(&self, req: &ImageRequest<'_>) -> YtResult<ImageAsset> {
        let phrase = req.segment.key_phrase.trim();
        if phrase.is_empty() {
            return Err(YtError::new(
                ErrorCode::IMAGE_RENDER_FAILED,
                "the segment has no key phrase to put on its title card",
            )
            .detail("segment_index", req.segment.index));
        }
        let started = std::time::Instant::now();
        let card = self.render_card(req.segment.index, phrase, phrase).await?;
        let png = blocking("encode a title card", move || {
            let mut bytes = Vec::new();
            card.write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .map_err(|e| {
                YtError::new(
                    ErrorCode::IMAGE_RENDER_FAILED,
                    format!("cannot encode the title card as PNG: {e}"),
                )
            })?;
            Ok(bytes)
        })
        .await?;
        let path =
            atomic::write_file(&req.out_dir.join(format!("{}.png", req.file_stem)), &png).await?;
        tracing::info!(
            provider = "title-card",
            segment_index = req.segment.index,
            duration_ms = started.elapsed().as_millis() as u64,
            "title card drawn"
        );
        Ok(ImageAsset {
            path,
            width: CARD_WIDTH,
            height: CARD_HEIGHT,
        })
    }
}
