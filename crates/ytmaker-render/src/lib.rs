//! ytmaker-render: everything between finished assets and finished files — segment clips with
//! Ken Burns motion and burned-in subtitles, presenter clips, the final MP4, SRT captions and the
//! thumbnail. It runs FFmpeg and draws images; it never calls the network or the database.
//!
//! # What goes in, what comes out
//!
//! The pipeline measures each narration line, builds a [`Timeline`] (frame-exact placement of
//! intro, segments and outro), cuts each line into subtitle [`Cue`]s, renders one clip per line
//! ([`render_segment_clip`] for images, [`render_presenter_clip`] for the presenter), then
//! [`assemble`]s the clips and the narration into the final video, and draws the thumbnail with
//! [`make_thumbnail`]. Every FFmpeg process starts in [`run_ffmpeg`] (or its crate-internal
//! variants next to it), which logs each run exactly once and turns a failure into
//! `FFMPEG_EXECUTION_FAILED` with the stderr tail.
//!
//! # Invariants
//!
//! - Every clip is H.264 High, yuv420p, BT.709 tagged, 1920×1080, 30 fps, time base 1/15360,
//!   encoded with the same x264 settings, and exactly as many frames as the timeline says; this
//!   is what lets [`assemble`] join them with `-c:v copy`. Each output frame is encoded once.
//! - Fonts are never substituted: subtitle and thumbnail families are checked with
//!   [`resolve_font`] (`fc-list`, which lists matches only) and a missing one is
//!   `FONT_NOT_FOUND`.
//! - Dropping any render future kills its FFmpeg process (`kill_on_drop`); a frame writer thread
//!   then sees a broken pipe and stops.
//!
//! # Design of the segment clip, and why (SPEC §10)
//!
//! A segment clip is one x264 pass over frames made in Rust: the image is decoded once,
//! converted once to BT.709 YUV 4:2:0, and scaled once (Catmull-Rom, fixed point) to cover the
//! frame at the move's largest zoom; each frame is then a bilinear warp of those planes with
//! 1/256-pixel precision straight into a yuv420p buffer ([`frames`]), written from a blocking
//! thread into ffmpeg's stdin (`-f rawvideo … -i pipe:0 -vf ass=… -c:v libx264`). The pipe is
//! the back-pressure: the writer blocks while x264 is busy, so at most a pipe's worth of frames
//! is in flight and memory stays flat. A still move warps once and writes the same buffer again.
//!
//! The alternatives measured on this 2-core machine (20 s of 1080p30, `veryfast`):
//! - `zoompan` over a 4K upscale: ≈ 3.5× slower than one x264 pass, single-threaded.
//! - `scale=…:eval=frame` + `crop`: cheap, but the crop moves in whole pixels, which judders on a
//!   slow zoom (a 12 s zoom to 1.15 moves the edge ≈ 0.4 px per frame).
//! - The Rust warp: one frame costs ≈ 5 ms of one core (of which the horizontal gather is ≈ 90 %),
//!   against ≈ 22 ms of x264 per frame of moving content at `veryfast`, so the clip is
//!   encoder-bound. The source preparation costs ≈ 40 ms per clip (it was ≈ 430 ms with the
//!   `image` crate's floating-point resize, hence the fixed-point resampler).
//!
//! Subtitles are burned by libass (`ass` filter) from an `.ass` script per clip written next to
//! the clip: libass shapes CJK and mixed text properly, caches glyphs, and blends only the
//! subtitle's box, so it costs next to nothing per frame. Clips render in parallel (the pipeline
//! bounds them by cores); x264 keeps its default thread count, since its frame threads fill the
//! cores the other clip leaves idle, e.g. while the last clip of a render runs alone.
//!
//! Measured with `examples/bench_render.rs` (release; presenter intro and outro, 12 s segments,
//! subtitles, two clips at a time, then assembly; baseline is `ffmpeg -loop 1 -framerate 30 -i
//! still.png -t N -c:v libx264 -preset veryfast -pix_fmt yuv420p` in the same run):
//!
//! | video | render | baseline | ratio |
//! |---|---|---|---|
//! | 60 s | MEASURE60 |
//! | 300 s | MEASURE300 |

mod assemble;
mod clip;
mod fonts;
mod frames;
mod motion;
mod picture;
mod probe;
mod run;
mod subtitles;
mod thumbnail;
mod timeline;
mod tools;

pub use assemble::{AssembleJob, assemble};
pub use clip::{PresenterClipJob, SegmentClipJob, render_presenter_clip, render_segment_clip};
pub use fonts::{FontFace, resolve_font};
pub use motion::Motion;
pub use probe::{AudioStream, MediaInfo, VideoStream, probe};
pub use run::run_ffmpeg;
pub use subtitles::{Cue, cues_for_line, write_srt};
pub use thumbnail::{ThumbnailJob, make_thumbnail};
pub use timeline::{Timeline, TimelineEntry};
pub use tools::Toolchain;
