//! A small float canvas for the local images (title cards, presenter frames): gradients, soft
//! anti-aliased discs and rings, blurred shadows, and text laid out and rasterised with ab_glyph.
//!
//! Colours are sRGB components in 0..1, blended in float and rounded to 8 bit once at the end.

use ab_glyph::{Font, FontVec, GlyphId, PxScale, ScaleFont, point};
use image::imageops::FilterType;
use image::{DynamicImage, GrayImage, Rgb, Rgb32FImage, RgbImage, RgbaImage};
use ytmaker_core::{ErrorCode, YtError, YtResult};

use crate::text::is_cjk;

pub(crate) type Color = [f32; 3];

pub(crate) fn hsl(hue_deg: f32, saturation: f32, lightness: f32) -> Color {
    let h = hue_deg.rem_euclid(360.0) / 60.0;
    let c = (1.0 - (2.0 * lightness - 1.0).abs()) * saturation;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let (r, g, b) = match h as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = lightness - c / 2.0;
    [r + m, g + m, b + m]
}

pub(crate) fn rgb(hex: u32) -> Color {
    [
        ((hex >> 16) & 0xff) as f32 / 255.0,
        ((hex >> 8) & 0xff) as f32 / 255.0,
        (hex & 0xff) as f32 / 255.0,
    ]
}

pub(crate) fn mix(a: Color, b: Color, t: f32) -> Color {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn smoothstep(edge0: f32, edge1: f32, x: f32) -> f32 {
    let t = ((x - edge0) / (edge1 - edge0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// A coverage mask (0 = none, 255 = full), e.g. rasterised text, with its position on the canvas.
pub(crate) struct Mask {
    pub x: i32,
    pub y: i32,
    pub image: GrayImage,
}

impl Mask {
    /// A blurred copy grown by a margin that holds the blur, for soft shadows and glows.
    pub fn blurred(&self, sigma: f32) -> Mask {
        let margin = (sigma * 3.0).ceil() as u32;
        let (w, h) = self.image.dimensions();
        let gw = w + 2 * margin;
        let mut grown = GrayImage::new(gw, h + 2 * margin);
        for (row, src) in self.image.as_raw().chunks_exact(w as usize).enumerate() {
            let at = ((row as u32 + margin) * gw + margin) as usize;
            grown.as_mut()[at..at + w as usize].copy_from_slice(src);
        }
        // DynamicImage's blur is compiled (optimised) inside the image crate.
        let image = DynamicImage::ImageLuma8(grown)
            .fast_blur(sigma)
            .into_luma8();
        Mask {
            x: self.x - margin as i32,
            y: self.y - margin as i32,
            image,
        }
    }
}

/// A float RGB canvas. Heavy whole-image work (resizing, blurring) goes through `DynamicImage`,
/// whose code is compiled optimised inside the image crate; the loops here touch only the pixels
/// a shape covers.
pub(crate) struct Canvas {
    pub width: u32,
    pub height: u32,
    px: Rgb32FImage,
}

impl Canvas {
    /// A canvas painted by `paint(x, y)` for each pixel (e.g. a gradient).
    pub fn from_fn(width: u32, height: u32, paint: impl Fn(f32, f32) -> Color) -> Canvas {
        let px = Rgb32FImage::from_fn(width, height, |x, y| {
            Rgb(paint(x as f32 + 0.5, y as f32 + 0.5))
        });
        Canvas { width, height, px }
    }

    /// The canvas scaled to `width`×`height` (bilinear): soft backgrounds are painted small and
    /// enlarged.
    pub fn resized(self, width: u32, height: u32) -> Canvas {
        let px = DynamicImage::ImageRgb32F(self.px)
            .resize_exact(width, height, FilterType::Triangle)
            .into_rgb32f();
        Canvas { width, height, px }
    }

    fn blend_px(&mut self, x: i32, y: i32, color: Color, alpha: f32) {
        if x < 0 || y < 0 || x >= self.width as i32 || y >= self.height as i32 || alpha <= 0.0 {
            return;
        }
        let i = 3 * (y as usize * self.width as usize + x as usize);
        let a = alpha.min(1.0);
        let p = &mut self.px.as_mut()[i..i + 3];
        for k in 0..3 {
            p[k] += (color[k] - p[k]) * a;
        }
    }
    /// Calls `coverage(dx, dy)` for each pixel of the box around (cx, cy) and blends `color` by it.
    fn blend_shape(
        &mut self,
        cx: f32,
        cy: f32,
        reach: f32,
        color: Color,
        alpha: f32,
        coverage: impl Fn(f32) -> f32,
    ) {
        let (x0, x1) = (
            (cx - reach).floor().max(0.0) as i32,
            (cx + reach).ceil().min(self.width as f32) as i32,
        );
        let (y0, y1) = (
            (cy - reach).floor().max(0.0) as i32,
            (cy + reach).ceil().min(self.height as f32) as i32,
        );
        for y in y0..y1 {
            for x in x0..x1 {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let c = coverage(d);
                if c > 0.0 {
                    self.blend_px(x, y, color, alpha * c);
                }
            }
        }
    }

    /// A disc with an anti-aliased edge softened over `feather` pixels.
    pub fn disc(&mut self, cx: f32, cy: f32, radius: f32, color: Color, alpha: f32, feather: f32) {
        let f = feather.max(1.0);
        self.blend_shape(cx, cy, radius + f, color, alpha, |d| {
            1.0 - smoothstep(radius - f, radius + 0.5, d)
        });
    }

    /// A ring of `width` pixels centred on `radius`.
    pub fn ring(&mut self, cx: f32, cy: f32, radius: f32, width: f32, color: Color, alpha: f32) {
        let half = width / 2.0;
        self.blend_shape(cx, cy, radius + half + 1.0, color, alpha, |d| {
            (half + 0.5 - (d - radius).abs()).clamp(0.0, 1.0)
        });
    }

    /// A glow: a ring faded out over `spread` pixels on both sides.
    pub fn glow(&mut self, cx: f32, cy: f32, radius: f32, spread: f32, color: Color, alpha: f32) {
        self.blend_shape(cx, cy, radius + spread, color, alpha, |d| {
            let t = 1.0 - ((d - radius).abs() / spread).min(1.0);
            t * t
        });
    }

    /// An axis-aligned rectangle with rounded ends (a "pill").
    pub fn pill(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, color: Color, alpha: f32) {
        let r = (y1 - y0) / 2.0;
        let cy = (y0 + y1) / 2.0;
        for y in y0.floor() as i32..y1.ceil() as i32 {
            for x in (x0 - 1.0).floor() as i32..(x1 + 1.0).ceil() as i32 {
                let px = (x as f32 + 0.5).clamp(x0 + r, x1 - r);
                let d = ((x as f32 + 0.5 - px).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                let c = (r + 0.5 - d).clamp(0.0, 1.0);
                self.blend_px(x, y, color, alpha * c);
            }
        }
    }

    pub fn fill_mask(&mut self, mask: &Mask, dx: i32, dy: i32, color: Color, alpha: f32) {
        let w = mask.image.width() as usize;
        for (i, &c) in mask.image.as_raw().iter().enumerate() {
            if c > 0 {
                let (x, y) = ((i % w) as i32, (i / w) as i32);
                self.blend_px(
                    mask.x + dx + x,
                    mask.y + dy + y,
                    color,
                    alpha * c as f32 / 255.0,
                );
            }
        }
    }

    /// Paints `image` (with its alpha) at (x, y), keeping only what lies inside the disc (cx, cy, r).
    pub fn draw_image_in_disc(
        &mut self,
        image: &RgbaImage,
        x: i32,
        y: i32,
        cx: f32,
        cy: f32,
        radius: f32,
    ) {
        for (ix, iy, p) in image.enumerate_pixels() {
            let (px, py) = (x + ix as i32, y + iy as i32);
            let d = ((px as f32 + 0.5 - cx).powi(2) + (py as f32 + 0.5 - cy).powi(2)).sqrt();
            let inside = (radius + 0.5 - d).clamp(0.0, 1.0);
            let color = [
                p[0] as f32 / 255.0,
                p[1] as f32 / 255.0,
                p[2] as f32 / 255.0,
            ];
            self.blend_px(px, py, color, inside * p[3] as f32 / 255.0);
        }
    }

    /// Multiplies every pixel by `factor(x, y)` (e.g. a vignette).
    pub fn shade(&mut self, factor: impl Fn(f32, f32) -> f32) {
        let w = self.width as usize;
        for (i, p) in self.px.as_mut().chunks_exact_mut(3).enumerate() {
            let f = factor((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
            for c in p {
                *c *= f;
            }
        }
    }

    /// To 8 bit (rounded, by the image crate's optimised conversion).
    pub fn into_rgb8(self) -> RgbImage {
        DynamicImage::ImageRgb32F(self.px).to_rgb8()
    }
}

/// Text laid out in centred lines.
pub(crate) struct TextBlock {
    lines: Vec<(Vec<GlyphId>, f32)>,
    scale: PxScale,
    pub line_height: f32,
    pub width: f32,
    pub height: f32,
}

/// A piece of text that a line break may not split: a CJK character with any punctuation that
/// must stay with it (no line starts with "，" or "」", none ends with "「"), or a Latin word with
/// its following space.
fn atoms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending_open = String::new();
    let mut latin = String::new();
    let no_line_start = |c: char| "，。、：；！？」』）》〉,.!?:;)]%…".contains(c);
    let no_line_end = |c: char| "「『（《〈([".contains(c);
    for c in text.chars() {
        if no_line_end(c) {
            if !latin.is_empty() {
                out.push(std::mem::take(&mut latin));
            }
            pending_open.push(c);
            continue;
        }
        if no_line_start(c) {
            if !latin.is_empty() {
                latin.push(c);
            } else if let Some(last) = out.last_mut() {
                last.push(c);
            } else {
                pending_open.push(c);
            }
            continue;
        }
        if is_cjk(c) || c.is_whitespace() {
            if !latin.is_empty() {
                out.push(std::mem::take(&mut latin));
            }
            if c.is_whitespace() {
                if let Some(last) = out.last_mut() {
                    last.push(' ');
                }
                continue;
            }
            out.push(format!("{}{c}", std::mem::take(&mut pending_open)));
            continue;
        }
        if latin.is_empty() {
            latin.push_str(&std::mem::take(&mut pending_open));
        }
        latin.push(c);
    }
    if !latin.is_empty() {
        out.push(latin);
    }
    if !pending_open.is_empty() {
        out.push(pending_open);
    }
    out
}

/// Every glyph `text` needs, or IMAGE_RENDER_FAILED naming the first character the font lacks
/// (a missing glyph would be drawn as an empty box; that is never done silently).
fn glyphs(font: &FontVec, text: &str) -> YtResult<Vec<GlyphId>> {
    text.chars()
        .map(|c| {
            let id = font.glyph_id(c);
            if id.0 == 0 && !c.is_whitespace() {
                Err(YtError::new(
                    ErrorCode::IMAGE_RENDER_FAILED,
                    format!("the font has no glyph for '{c}'"),
                )
                .detail("character", c.to_string())
                .detail("codepoint", format!("U+{:04X}", c as u32)))
            } else {
                Ok(id)
            }
        })
        .collect()
}

fn measure(font: &FontVec, scale: PxScale, ids: &[GlyphId]) -> f32 {
    let scaled = font.as_scaled(scale);
    let mut width = 0.0;
    let mut prev: Option<GlyphId> = None;
    for &id in ids {
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    width
}

/// Wraps `atoms` greedily into lines no wider than `max_width`.
fn wrap(font: &FontVec, scale: PxScale, atoms: &[(String, f32)], max_width: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut width = 0.0;
    for (atom, w) in atoms {
        let visible_w = measure_str(font, scale, atom.trim_end());
        if !current.is_empty() && width + visible_w > max_width {
            lines.push(current.trim_end().to_owned());
            current.clear();
            width = 0.0;
        }
        current.push_str(atom);
        width += w;
    }
    if !current.trim().is_empty() {
        lines.push(current.trim_end().to_owned());
    }
    lines
}

fn measure_str(font: &FontVec, scale: PxScale, s: &str) -> f32 {
    let ids: Vec<GlyphId> = s.chars().map(|c| font.glyph_id(c)).collect();
    measure(font, scale, &ids)
}

/// Lays `text` out at the largest size from `sizes` (descending) that fits `max_width` ×
/// `max_height` in at most `max_lines` lines, with lines balanced in length (two lines of seven
/// characters, not twelve and two). `None` when even the smallest size does not fit.
pub(crate) fn layout(
    font: &FontVec,
    text: &str,
    sizes: &[f32],
    max_width: f32,
    max_height: f32,
    max_lines: usize,
) -> YtResult<Option<TextBlock>> {
    glyphs(font, text)?;
    let pieces = atoms(text);
    for &size in sizes {
        let scale = PxScale::from(size);
        let measured: Vec<(String, f32)> = pieces
            .iter()
            .map(|a| (a.clone(), measure_str(font, scale, a)))
            .collect();
        if measured
            .iter()
            .any(|(a, _)| measure_str(font, scale, a.trim_end()) > max_width)
        {
            continue;
        }
        let greedy = wrap(font, scale, &measured, max_width);
        let n = greedy.len();
        let line_height = size * 1.25;
        if n > max_lines || n as f32 * line_height > max_height {
            continue;
        }
        // Narrow the width while the line count stays the same: balanced lines.
        let (mut lo, mut hi) = (max_width / n as f32 * 0.8, max_width);
        for _ in 0..20 {
            let mid = (lo + hi) / 2.0;
            if wrap(font, scale, &measured, mid).len() <= n
                && measured
                    .iter()
                    .all(|(a, _)| measure_str(font, scale, a.trim_end()) <= mid)
            {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let wrapped = wrap(font, scale, &measured, hi);
        let lines: Vec<(Vec<GlyphId>, f32)> = wrapped
            .iter()
            .map(|l| {
                let ids: Vec<GlyphId> = l.chars().map(|c| font.glyph_id(c)).collect();
                let w = measure(font, scale, &ids);
                (ids, w)
            })
            .collect();
        let width = lines.iter().map(|(_, w)| *w).fold(0.0, f32::max);
        let height = lines.len() as f32 * line_height;
        return Ok(Some(TextBlock {
            lines,
            scale,
            line_height,
            width,
            height,
        }));
    }
    Ok(None)
}

impl TextBlock {
    /// Rasterises the block centred on `cx`, its top at `top`, into a coverage mask.
    pub fn rasterise(&self, font: &FontVec, cx: f32, top: f32) -> Mask {
        let scaled = font.as_scaled(self.scale);
        // The glyphs' ink fits in the line boxes plus a little for descenders and overhangs.
        let pad = (self.line_height * 0.5).ceil();
        let x0 = (cx - self.width / 2.0 - pad).floor();
        let y0 = (top - pad).floor();
        let (w, h) = (
            (self.width + 2.0 * pad).ceil() as u32 + 1,
            (self.height + 2.0 * pad).ceil() as u32 + 1,
        );
        let mut coverage = vec![0.0f32; (w * h) as usize];
        // Centre the ascent+descent box inside each line box.
        let glyph_box = scaled.ascent() - scaled.descent();
        let baseline_offset = (self.line_height - glyph_box) / 2.0 + scaled.ascent();
        for (i, (ids, line_w)) in self.lines.iter().enumerate() {
            let mut x = cx - line_w / 2.0;
            let baseline = top + i as f32 * self.line_height + baseline_offset;
            let mut prev: Option<GlyphId> = None;
            for &id in ids {
                if let Some(p) = prev {
                    x += scaled.kern(p, id);
                }
                let glyph = id.with_scale_and_position(self.scale, point(x, baseline));
                if let Some(outline) = font.outline_glyph(glyph) {
                    let b = outline.px_bounds();
                    outline.draw(|gx, gy, cov| {
                        let px = (b.min.x - x0) as i32 + gx as i32;
                        let py = (b.min.y - y0) as i32 + gy as i32;
                        if px >= 0 && py >= 0 && (px as u32) < w && (py as u32) < h {
                            let c = &mut coverage[(py as u32 * w + px as u32) as usize];
                            *c = (*c + cov).min(1.0);
                        }
                    });
                }
                x += scaled.h_advance(id);
                prev = Some(id);
            }
        }
        let mut image = GrayImage::new(w, h);
        for (o, c) in image.as_mut().iter_mut().zip(&coverage) {
            *o = (c * 255.0).round() as u8;
        }
        Mask {
            x: x0 as i32,
            y: y0 as i32,
            image,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_keep_punctuation_with_its_character() {
        assert_eq!(atoms("颱風，「來了」"), vec!["颱", "風，", "「來", "了」"]);
        assert_eq!(atoms("The LED lamp."), vec!["The ", "LED ", "lamp."]);
        assert_eq!(atoms("使用LED燈"), vec!["使", "用", "LED", "燈"]);
    }

    #[test]
    fn hsl_primaries() {
        let close = |a: Color, b: Color| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5);
        assert!(close(hsl(0.0, 1.0, 0.5), [1.0, 0.0, 0.0]));
        assert!(close(hsl(120.0, 1.0, 0.5), [0.0, 1.0, 0.0]));
        assert!(close(hsl(240.0, 1.0, 0.5), [0.0, 0.0, 1.0]));
        assert!(close(rgb(0xff8000), [1.0, 128.0 / 255.0, 0.0]));
    }
}
