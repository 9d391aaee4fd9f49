//! Ken Burns frames made in Rust: the image is decoded, scaled and converted to YUV once, and
//! every frame is a sub-pixel bilinear warp of those planes straight into yuv420p.

use image::RgbImage;
use std::io::Write;
use std::path::Path;
use ytmaker_core::YtResult;
use ytmaker_core::config::{FRAME_HEIGHT, FRAME_WIDTH};

use crate::motion::{Motion, Viewport};
use crate::picture::decode_rgb;

const W: usize = FRAME_WIDTH as usize;
const H: usize = FRAME_HEIGHT as usize;
/// One 1920×1080 yuv420p frame: full-size luma, quarter-size Cb and Cr.
pub(crate) const FRAME_BYTES: usize = W * H * 3 / 2;

/// Sub-pixel precision of the warp: positions are resolved to 1/256 pixel, far below what a
/// slow zoom moves per frame (≈ 0.05–1 px), so motion is smooth, never stepped.
const WEIGHT_ONE: u32 = 256;

struct Plane {
    width: usize,
    height: usize,
    data: Vec<u8>,
}

/// A segment image ready to be warped, and the move to apply to it.
pub(crate) struct KenBurnsSource {
    y: Plane,
    u: Plane,
    v: Plane,
    motion: Motion,
    frames: u32,
}

impl KenBurnsSource {
    pub(crate) fn load(image: &Path, motion: Motion, frames: u32) -> YtResult<KenBurnsSource> {
        Ok(KenBurnsSource::from_rgb(
            &decode_rgb(image)?,
            motion,
            frames,
        ))
    }

    /// Converts the image to BT.709 limited-range YUV 4:2:0 (the colour the clip is tagged
    /// with) and scales the planes, once, to cover the frame at the move's largest scale.
    pub(crate) fn from_rgb(image: &RgbImage, motion: Motion, frames: u32) -> KenBurnsSource {
        let (w, h) = (
            f64::from(image.width().max(1)),
            f64::from(image.height().max(1)),
        );
        let factor =
            (f64::from(FRAME_WIDTH) / w).max(f64::from(FRAME_HEIGHT) / h) * motion.max_scale();
        // Even sizes give the chroma planes exactly half the luma size.
        let even = |v: f64| (((v - 1e-6).ceil() as usize).max(2) + 1) & !1;
        let (sw, sh) = (even(w * factor), even(h * factor));
        let (y, u, v) = rgb_to_yuv420(image);
        KenBurnsSource {
            y: resample(&y, sw, sh),
            u: resample(&u, sw / 2, sh / 2),
            v: resample(&v, sw / 2, sh / 2),
            motion,
            frames,
        }
    }

    pub(crate) fn viewport(&self, frame: u32) -> Viewport {
        self.motion.viewport(
            frame,
            self.frames,
            self.y.width as u32,
            self.y.height as u32,
        )
    }

    /// Draws the frame seen through `view` into `out` (yuv420p, [`FRAME_BYTES`] long).
    pub(crate) fn render(&self, view: Viewport, out: &mut [u8], scratch: &mut Scratch) {
        let (luma, chroma) = out.split_at_mut(W * H);
        let (cb, cr) = chroma.split_at_mut(W * H / 4);
        warp(&self.y, view, luma, W, H, scratch);
        // Chroma planes are the same picture at half resolution in both axes.
        let half = Viewport {
            left: view.left / 2.0,
            top: view.top / 2.0,
            step: view.step,
        };
        warp(&self.u, half, cb, W / 2, H / 2, scratch);
        warp(&self.v, half, cr, W / 2, H / 2, scratch);
    }

    /// Writes every frame to `sink` in order. A frame whose viewport equals the previous one
    /// (a still image) is written again without being warped again.
    pub(crate) fn write_frames(&self, mut sink: impl Write) -> std::io::Result<()> {
        let mut frame = vec![0u8; FRAME_BYTES];
        let mut scratch = Scratch::default();
        let mut shown = None;
        for i in 0..self.frames {
            let view = self.viewport(i);
            if shown != Some(view) {
                self.render(view, &mut frame, &mut scratch);
                shown = Some(view);
            }
            sink.write_all(&frame)?;
        }
        sink.flush()
    }
}

/// Buffers reused from frame to frame so the warp allocates nothing per frame.
#[derive(Default)]
pub(crate) struct Scratch {
    columns: Vec<Tap>,
    rows: Vec<Tap>,
    blended: Vec<u16>,
}

/// Where one output pixel samples the source along one axis: between `index` and `index + 1`,
/// `weight`/256 of the way.
#[derive(Clone, Copy)]
struct Tap {
    index: u32,
    weight: u32,
}

fn taps(start: f64, step: f64, count: usize, source_len: usize, out: &mut Vec<Tap>) {
    let last = (source_len - 1) as f64;
    out.clear();
    out.extend((0..count).map(|i| {
        let at = (start + (i as f64 + 0.5) * step - 0.5).clamp(0.0, last);
        let index = (at as usize).min(source_len - 2);
        Tap {
            index: index as u32,
            weight: ((at - index as f64) * f64::from(WEIGHT_ONE)).round() as u32,
        }
    }));
}

/// Bilinear warp of one plane, separably: each output row first blends its two source rows
/// over the span of columns the frame needs (contiguous, so the compiler vectorises it), then
/// picks and blends column pairs from that blended row. Fixed-point throughout.
fn warp(
    source: &Plane,
    view: Viewport,
    out: &mut [u8],
    out_w: usize,
    out_h: usize,
    scratch: &mut Scratch,
) {
    let Scratch {
        columns,
        rows,
        blended,
    } = scratch;
    taps(view.left, view.step, out_w, source.width, columns);
    taps(view.top, view.step, out_h, source.height, rows);
    let first = columns[0].index as usize;
    let span = columns[out_w - 1].index as usize + 2 - first;
    blended.resize(span, 0);
    for (row, out_row) in rows.iter().zip(out.chunks_exact_mut(out_w)) {
        let top = &source.data[row.index as usize * source.width + first..][..span];
        let bottom = &source.data[(row.index as usize + 1) * source.width + first..][..span];
        let (wb, wt) = (row.weight as u16, (WEIGHT_ONE - row.weight) as u16);
        for ((b, &t), &u) in blended.iter_mut().zip(top).zip(bottom) {
            *b = u16::from(t) * wt + u16::from(u) * wb;
        }
        for (o, column) in out_row.iter_mut().zip(columns.iter()) {
            let i = column.index as usize - first;
            let (left, right) = (u32::from(blended[i]), u32::from(blended[i + 1]));
            let sum = left * (WEIGHT_ONE - column.weight) + right * column.weight;
            *o = ((sum + WEIGHT_ONE * WEIGHT_ONE / 2) / (WEIGHT_ONE * WEIGHT_ONE)) as u8;
        }
    }
}

/// BT.709 limited range, 16.16 fixed point; chroma from the mean of each 2×2 block (an odd
/// last column or row is paired with itself).
fn rgb_to_yuv420(image: &RgbImage) -> (Plane, Plane, Plane) {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let raw = image.as_raw();
    let mut y = Vec::with_capacity(w * h);
    for px in raw.chunks_exact(3) {
        let (r, g, b) = (i32::from(px[0]), i32::from(px[1]), i32::from(px[2]));
        y.push(((11966 * r + 40254 * g + 4064 * b + (16 << 16) + (1 << 15)) >> 16) as u8);
    }
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let (mut u, mut v) = (Vec::with_capacity(cw * ch), Vec::with_capacity(cw * ch));
    for cy in 0..ch {
        let (upper, lower) = (
            &raw[2 * cy * w * 3..][..w * 3],
            &raw[(2 * cy + 1).min(h - 1) * w * 3..][..w * 3],
        );
        for cx in 0..cw {
            let (left, right) = (2 * cx * 3, (2 * cx + 1).min(w - 1) * 3);
            let sum = |c: usize| {
                i32::from(upper[left + c])
                    + i32::from(upper[right + c])
                    + i32::from(lower[left + c])
                    + i32::from(lower[right + c])
            };
            let (r, g, b) = (sum(0), sum(1), sum(2));
            // Sums of four pixels: a further /4, hence the shift by 18.
            u.push(
                ((-6597 * r - 22187 * g + 28784 * b + (128 << 18) + (1 << 17)) >> 18).clamp(0, 255)
                    as u8,
            );
            v.push(
                ((28784 * r - 26147 * g - 2637 * b + (128 << 18) + (1 << 17)) >> 18).clamp(0, 255)
                    as u8,
            );
        }
    }
    (
        Plane {
            width: w,
            height: h,
            data: y,
        },
        Plane {
            width: cw,
            height: ch,
            data: u,
        },
        Plane {
            width: cw,
            height: ch,
            data: v,
        },
    )
}

/// Fixed-point weights of the resampler: 1.0 is 1 << 14.
const RESAMPLE_ONE: i32 = 1 << 14;

/// One output sample's taps along an axis: `count` source indexes from `first` (clamped at the
/// edges) and their weights.
struct Kernel {
    taps: usize,
    indexes: Vec<usize>,
    weights: Vec<i32>,
}

/// Catmull-Rom weights for resampling `from` samples to `to`, widened when shrinking so a
/// large photo is filtered, not decimated.
fn kernel(from: usize, to: usize) -> Kernel {
    let ratio = from as f64 / to as f64;
    let stretch = ratio.max(1.0);
    let radius = 2.0 * stretch;
    let taps = (2.0 * radius).ceil() as usize + 1;
    let (mut indexes, mut weights) = (Vec::with_capacity(to * taps), Vec::with_capacity(to * taps));
    for i in 0..to {
        let centre = (i as f64 + 0.5) * ratio - 0.5;
        let first = (centre - radius).floor() as isize + 1;
        let raw: Vec<f64> = (0..taps)
            .map(|t| catmull_rom(((first + t as isize) as f64 - centre) / stretch))
            .collect();
        let total: f64 = raw.iter().sum();
        let mut fixed: Vec<i32> = raw
            .iter()
            .map(|w| (w / total * f64::from(RESAMPLE_ONE)).round() as i32)
            .collect();
        // Rounding must not change the sum, or flat areas would shift brightness.
        let centre_tap = ((centre.round() as isize - first).clamp(0, taps as isize - 1)) as usize;
        fixed[centre_tap] += RESAMPLE_ONE - fixed.iter().sum::<i32>();
        indexes
            .extend((0..taps).map(|t| (first + t as isize).clamp(0, from as isize - 1) as usize));
        weights.extend(fixed);
    }
    Kernel {
        taps,
        indexes,
        weights,
    }
}

fn catmull_rom(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.5 * x * x * x - 2.5 * x * x + 1.0
    } else if x < 2.0 {
        -0.5 * x * x * x + 2.5 * x * x - 4.0 * x + 2.0
    } else {
        0.0
    }
}

/// Separable resampling of one plane: rows first, then columns (the column pass runs over
/// contiguous rows, which the compiler vectorises).
fn resample(source: &Plane, width: usize, height: usize) -> Plane {
    if (source.width, source.height) == (width, height) {
        return Plane {
            width,
            height,
            data: source.data.clone(),
        };
    }
    let across = kernel(source.width, width);
    let mut rows = vec![0u8; width * source.height];
    for (src_row, out_row) in source
        .data
        .chunks_exact(source.width)
        .zip(rows.chunks_exact_mut(width))
    {
        let taps = across
            .indexes
            .chunks_exact(across.taps)
            .zip(across.weights.chunks_exact(across.taps));
        for (out, (indexes, weights)) in out_row.iter_mut().zip(taps) {
            let sum: i32 = indexes
                .iter()
                .zip(weights)
                .map(|(&i, &w)| i32::from(src_row[i]) * w)
                .sum();
            *out = ((sum + RESAMPLE_ONE / 2) >> 14).clamp(0, 255) as u8;
        }
    }
    let down = kernel(source.height, height);
    let mut data = vec![0u8; width * height];
    let mut sums = vec![0i32; width];
    let taps = down
        .indexes
        .chunks_exact(down.taps)
        .zip(down.weights.chunks_exact(down.taps));
    for (out_row, (indexes, weights)) in data.chunks_exact_mut(width).zip(taps) {
        sums.fill(RESAMPLE_ONE / 2);
        for (&i, &w) in indexes.iter().zip(weights) {
            for (sum, &px) in sums.iter_mut().zip(&rows[i * width..][..width]) {
                *sum += i32::from(px) * w;
            }
        }
        for (out, &sum) in out_row.iter_mut().zip(&sums) {
            *out = (sum >> 14).clamp(0, 255) as u8;
        }
    }
    Plane {
        width,
        height,
        data,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_convert_to_bt709_limited_range() {
        let (y, u, v) = rgb_to_yuv420(&RgbImage::from_pixel(4, 2, image::Rgb([255, 255, 255])));
        assert_eq!((y.data[0], u.data[0], v.data[0]), (235, 128, 128));
        let (y, u, v) = rgb_to_yuv420(&RgbImage::from_pixel(4, 2, image::Rgb([0, 0, 0])));
        assert_eq!((y.data[0], u.data[0], v.data[0]), (16, 128, 128));
        // BT.709 pure red: Y 63, Cb 102, Cr 240.
        let (y, u, v) = rgb_to_yuv420(&RgbImage::from_pixel(4, 2, image::Rgb([255, 0, 0])));
        assert_eq!((y.data[0], u.data[0], v.data[0]), (63, 102, 240));
    }

    #[test]
    fn resampling_keeps_flat_areas_flat_and_filters_when_shrinking() {
        let flat = Plane {
            width: 37,
            height: 21,
            data: vec![200; 37 * 21],
        };
        for (w, h) in [(80, 50), (12, 7)] {
            let out = resample(&flat, w, h);
            assert_eq!((out.width, out.height), (w, h));
            assert!(out.data.iter().all(|&v| v == 200));
        }
        // One-pixel stripes shrunk 3× average out to grey instead of aliasing to black or white.
        let stripes = Plane {
            width: 300,
            height: 4,
            data: (0..1200)
                .map(|i| if i % 2 == 0 { 16 } else { 235 })
                .collect(),
        };
        let out = resample(&stripes, 100, 4);
        assert!(
            out.data[10..90].iter().all(|&v| v.abs_diff(126) <= 8),
            "{:?}",
            &out.data[..20]
        );
    }

    /// Brightness-weighted centre of the white bar in the middle luma row.
    fn bar_centre(frame: &[u8]) -> f64 {
        let row = &frame[(H / 2) * W..][..W];
        let (mut mass, mut moment) = (0.0, 0.0);
        for (x, &luma) in row.iter().enumerate() {
            // Signed: the resampler's undershoot beside the bar counts too, as the warp moves it.
            let m = f64::from(luma) - 16.0;
            mass += m;
            moment += m * x as f64;
        }
        moment / mass
    }

    #[test]
    fn a_slow_pan_moves_by_even_sub_pixel_steps() {
        // A 16:9 image with one thin white bar; a 1 s pan at 1.0116 moves the view by ≈ 22 px
        // over 30 frames: ≈ 0.77 px per frame, where whole-pixel stepping would visibly judder.
        let image = RgbImage::from_fn(1920, 1080, |x, _| {
            if (900..904).contains(&x) {
                image::Rgb([255; 3])
            } else {
                image::Rgb([0; 3])
            }
        });
        let source = KenBurnsSource::from_rgb(&image, Motion::PanRight { zoom: 1.0116 }, 30);
        let mut luma = vec![0u8; W * H];
        let mut scratch = Scratch::default();
        let centres: Vec<f64> = (0..30)
            .map(|i| {
                warp(&source.y, source.viewport(i), &mut luma, W, H, &mut scratch);
                bar_centre(&luma)
            })
            .collect();
        let mean = (centres[0] - centres[29]) / 29.0;
        assert!((0.7..0.85).contains(&mean), "mean step {mean}");
        for (i, pair) in centres.windows(2).enumerate() {
            // Whole-pixel stepping would show steps of 0 and 1 px; bilinear sampling keeps every
            // step within a few hundredths of a pixel of the mean.
            let step = pair[0] - pair[1];
            assert!(
                (step - mean).abs() < 0.02,
                "frame {i}: step {step}, mean {mean}"
            );
        }
    }

    #[test]
    fn a_slow_zoom_changes_scale_smoothly_and_monotonically() {
        let image = RgbImage::from_fn(1280, 720, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        let source = KenBurnsSource::from_rgb(&image, Motion::ZoomIn { to: 1.15 }, 300);
        let views: Vec<Viewport> = (0..300).map(|i| source.viewport(i)).collect();
        let moves: Vec<f64> = views
            .windows(2)
            .map(|pair| pair[1].left - pair[0].left)
            .collect();
        for (pair, moved) in views.windows(2).zip(&moves) {
            assert!(pair[1].step < pair[0].step);
            assert!(
                *moved > 0.0 && *moved < 1.0,
                "the view's edge moves by {moved} px per frame"
            );
        }
        for pair in moves.windows(2) {
            assert!(
                (pair[1] / pair[0] - 1.0).abs() < 0.01,
                "speed changes smoothly: {pair:?}"
            );
        }
    }

    #[test]
    fn a_still_is_written_as_identical_frames() {
        let image = RgbImage::from_pixel(64, 36, image::Rgb([10, 200, 30]));
        let source = KenBurnsSource::from_rgb(&image, Motion::Still, 3);
        let mut sink = Vec::new();
        source.write_frames(&mut sink).unwrap();
        assert_eq!(sink.len(), 3 * FRAME_BYTES);
        assert_eq!(sink[..FRAME_BYTES], sink[FRAME_BYTES..2 * FRAME_BYTES]);
    }
}
