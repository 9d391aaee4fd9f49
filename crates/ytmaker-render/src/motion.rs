//! Ken Burns motion: which part of the image each frame shows.

use ytmaker_core::config::{FRAME_HEIGHT, FRAME_WIDTH, KenBurnsMode, KenBurnsSettings};

/// The camera move over one segment's image. Scales are relative to the image scaled to just
/// cover the 1920×1080 frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Motion {
    /// From 1 to `to`, centred.
    ZoomIn {
        to: f64,
    },
    /// From `from` to 1, centred.
    ZoomOut {
        from: f64,
    },
    /// At `zoom`, from the right edge of the image to the left.
    PanLeft {
        zoom: f64,
    },
    /// At `zoom`, from the left edge of the image to the right.
    PanRight {
        zoom: f64,
    },
    Still,
}

impl Motion {
    /// The motion for a segment; `Auto` cycles zoom in, pan right, zoom out, pan left so
    /// neighbouring segments never repeat a move.
    pub fn for_segment(settings: &KenBurnsSettings, segment_index: u32) -> Motion {
        let zoom = settings.zoom;
        match settings.mode {
            KenBurnsMode::Auto => match segment_index % 4 {
                0 => Motion::ZoomIn { to: zoom },
                1 => Motion::PanRight { zoom },
                2 => Motion::ZoomOut { from: zoom },
                _ => Motion::PanLeft { zoom },
            },
            KenBurnsMode::ZoomIn => Motion::ZoomIn { to: zoom },
            KenBurnsMode::ZoomOut => Motion::ZoomOut { from: zoom },
            KenBurnsMode::PanLeft => Motion::PanLeft { zoom },
            KenBurnsMode::PanRight => Motion::PanRight { zoom },
            KenBurnsMode::Still => Motion::Still,
        }
    }

    /// The largest scale the move reaches; the source is prepared at this scale so the tightest
    /// frame samples it one to one and is never blurred by upscaling a second time. Scales
    /// below 1 would show past the image's edges, so they count as 1.
    pub(crate) fn max_scale(self) -> f64 {
        match self {
            Motion::ZoomIn { to: s }
            | Motion::ZoomOut { from: s }
            | Motion::PanLeft { zoom: s }
            | Motion::PanRight { zoom: s } => s.max(1.0),
            Motion::Still => 1.0,
        }
    }

    /// The part of a `source_w`×`source_h` image that frame `frame` of `frames` shows.
    ///
    /// Zooms interpolate the scale geometrically (constant speed as the eye sees it), pans move
    /// at constant speed; both are continuous in the frame number, so consecutive frames differ
    /// by fractions of a pixel and the warp samples between pixels instead of jumping.
    pub(crate) fn viewport(
        self,
        frame: u32,
        frames: u32,
        source_w: u32,
        source_h: u32,
    ) -> Viewport {
        let t = if frames > 1 {
            f64::from(frame) / f64::from(frames - 1)
        } else {
            0.0
        };
        let (sw, sh) = (f64::from(source_w), f64::from(source_h));
        // Source pixels per output pixel when the image just covers the frame.
        let cover_step = (sw / f64::from(FRAME_WIDTH)).min(sh / f64::from(FRAME_HEIGHT));
        let (scale, pan) = match self {
            Motion::ZoomIn { to } => (to.max(1.0).powf(t), None),
            Motion::ZoomOut { from } => (from.max(1.0).powf(1.0 - t), None),
            Motion::PanRight { zoom } => (zoom.max(1.0), Some(t)),
            Motion::PanLeft { zoom } => (zoom.max(1.0), Some(1.0 - t)),
            Motion::Still => (1.0, None),
        };
        let step = cover_step / scale;
        let (view_w, view_h) = (
            f64::from(FRAME_WIDTH) * step,
            f64::from(FRAME_HEIGHT) * step,
        );
        let left = match pan {
            Some(at) => (sw - view_w) * at,
            None => (sw - view_w) / 2.0,
        };
        Viewport {
            left,
            top: (sh - view_h) / 2.0,
            step,
        }
    }
}

/// A frame's window on the source image, in source pixels: output pixel (x, y) shows the
/// source around (left + (x + ½)·step − ½, top + (y + ½)·step − ½).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Viewport {
    pub left: f64,
    pub top: f64,
    pub step: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_cycles_the_four_moves() {
        let settings = KenBurnsSettings::default();
        let moves: Vec<Motion> = (0..5).map(|i| Motion::for_segment(&settings, i)).collect();
        assert_eq!(
            moves,
            [
                Motion::ZoomIn { to: 1.15 },
                Motion::PanRight { zoom: 1.15 },
                Motion::ZoomOut { from: 1.15 },
                Motion::PanLeft { zoom: 1.15 },
                Motion::ZoomIn { to: 1.15 }
            ]
        );
        let still = KenBurnsSettings {
            mode: KenBurnsMode::Still,
            zoom: 1.3,
        };
        assert_eq!(Motion::for_segment(&still, 2), Motion::Still);
    }

    #[test]
    fn viewports_stay_inside_the_source_and_end_where_the_move_says() {
        let (w, h) = (2208, 1242); // a 16:9 image prepared for zoom 1.15
        for motion in [
            Motion::ZoomIn { to: 1.15 },
            Motion::ZoomOut { from: 1.15 },
            Motion::PanLeft { zoom: 1.15 },
            Motion::PanRight { zoom: 1.15 },
            Motion::Still,
        ] {
            for frame in 0..90 {
                let v = motion.viewport(frame, 90, w, h);
                assert!(v.left >= -1e-9 && v.top >= -1e-9, "{motion:?} {v:?}");
                assert!(
                    v.left + 1920.0 * v.step <= f64::from(w) + 1e-9,
                    "{motion:?} {v:?}"
                );
                assert!(
                    v.top + 1080.0 * v.step <= f64::from(h) + 1e-9,
                    "{motion:?} {v:?}"
                );
            }
        }
        let first = Motion::ZoomIn { to: 1.15 }.viewport(0, 90, w, h);
        let last = Motion::ZoomIn { to: 1.15 }.viewport(89, 90, w, h);
        assert!((first.step - 1.15).abs() < 1e-3 && (last.step - 1.0).abs() < 1e-3);
        let right = Motion::PanRight { zoom: 1.15 }.viewport(89, 90, w, h);
        assert!((right.left + 1920.0 * right.step - f64::from(w)).abs() < 1e-9);
    }
}
