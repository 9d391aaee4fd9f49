//! Render benchmark (SPEC §10): a synthetic project of the given length — presenter intro and
//! outro, one title-card image per ~12 s segment, Chinese subtitles, narration — rendered the way
//! the pipeline does it (clips two at a time, then assemble), timed against the plain still-image
//! libx264 encode of the same length on the same machine.
//!
//! `cargo run --release -p ytmaker-render --example bench_render -- 300`
//! prints `render_s=… baseline_s=… ratio=…`. With `-- 300 --logo` every clip also gets the
//! default logo overlay (a 400×200 half-transparent PNG), to measure what the overlay costs.

use ab_glyph::{FontRef, PxScale};
use image::{Rgb, RgbImage, Rgba, RgbaImage};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tracing::Instrument;
use ytmaker_core::config::{KenBurnsSettings, LogoSettings, RenderSettings, SubtitleStyle};
use ytmaker_core::{YtError, YtResult};
use ytmaker_render::{
    AssembleJob, Cue, LogoOverlay, Motion, PresenterClipJob, SegmentClipJob, Timeline, Toolchain,
    assemble, cues_for_line, render_presenter_clip, render_segment_clip, resolve_font, run_ffmpeg,
};

const NARRATION: &str = "人工智慧正在改變我們生活與工作的方式。從自動駕駛到醫療診斷，\
    機器學習的應用越來越廣泛，也帶來了新的機會與挑戰。我們應該如何面對這個轉變？";
const PRESENTER_S: f64 = 8.0;
const SEGMENT_S: f64 = 12.0;
const PARALLEL_CLIPS: usize = 2;

enum Clip {
    Presenter { source: PathBuf },
    Segment { image: PathBuf, motion: Motion },
}

struct Line {
    clip: Clip,
    frames: u32,
    cues: Vec<Cue>,
    logo: Option<PathBuf>,
    out: PathBuf,
}

#[tokio::main]
async fn main() -> YtResult<()> {
    let seconds: f64 = match std::env::args().nth(1) {
        Some(arg) => arg.parse().map_err(|_| {
            YtError::new(
                ytmaker_core::ErrorCode::VALIDATION_ERROR,
                "usage: bench_render SECONDS",
            )
        })?,
        None => 60.0,
    };
    let tools = Toolchain::locate()?;
    let dir = std::env::temp_dir().join(format!("ytmaker-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|err| YtError::io("create", &dir, &err))?;

    // Line lengths: presenter intro and outro, segments of ~12 s (varied a little, as real
    // narration is) filling the rest.
    let segments = ((seconds - 2.0 * PRESENTER_S) / SEGMENT_S).round().max(1.0) as usize;
    let segment_s = (seconds - 2.0 * PRESENTER_S) / segments as f64;
    let mut durations = vec![PRESENTER_S];
    durations.extend((0..segments).map(|i| segment_s + [0.37, -0.41, 0.13, -0.09][i % 4]));
    durations.push(PRESENTER_S);
    let timeline = Timeline::from_durations(&durations);

    println!(
        "preparing {segments} segments, {} s",
        durations.iter().sum::<f64>()
    );
    let font_face = resolve_font("Noto Sans CJK TC", true)?;
    let font_data =
        std::fs::read(&font_face.path).map_err(|err| YtError::io("read", &font_face.path, &err))?;
    let font = FontRef::try_from_slice_and_index(&font_data, font_face.index).map_err(|err| {
        YtError::new(
            ytmaker_core::ErrorCode::IMAGE_RENDER_FAILED,
            format!("font: {err}"),
        )
    })?;
    let presenter = dir.join("presenter.mp4");
    let presenter_args: Vec<OsString> = [
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size=512x512:rate=25:duration={PRESENTER_S}"),
        "-pix_fmt",
        "yuv420p",
    ]
    .iter()
    .map(OsString::from)
    .chain([presenter.clone().into_os_string()])
    .collect();
    run_ffmpeg(&tools, "bench presenter", &presenter_args, &|_| {}).await?;
    let logo = if std::env::args().any(|arg| arg == "--logo") {
        let path = dir.join("logo.png");
        RgbaImage::from_fn(400, 200, |x, y| {
            Rgba([
                200,
                (x % 256) as u8,
                (y % 256) as u8,
                if x < 200 { 255 } else { 128 },
            ])
        })
        .save(&path)
        .map_err(|err| {
            YtError::new(
                ytmaker_core::ErrorCode::IMAGE_RENDER_FAILED,
                format!("logo: {err}"),
            )
        })?;
        Some(path)
    } else {
        None
    };

    let mut narration = Vec::new();
    let mut lines = Vec::new();
    let ken_burns = KenBurnsSettings::default();
    for (i, (entry, duration)) in timeline.entries.iter().zip(&durations).enumerate() {
        let wav = dir.join(format!("line{i:03}.wav"));
        let args: Vec<OsString> = [
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency=300:sample_rate=22050:duration={duration}"),
        ]
        .iter()
        .map(OsString::from)
        .chain([wav.clone().into_os_string()])
        .collect();
        run_ffmpeg(&tools, "bench narration", &args, &|_| {}).await?;
        narration.push(wav);
        let clip = if i == 0 || i == durations.len() - 1 {
            Clip::Presenter {
                source: presenter.clone(),
            }
        } else {
            let image = dir.join(format!("card{i:03}.png"));
            title_card(&font, i, &image)?;
            Clip::Segment {
                image,
                motion: Motion::for_segment(&ken_burns, i as u32 - 1),
            }
        };
        let cues = cues_for_line(
            NARRATION,
            0.0,
            *duration,
            SubtitleStyle::default().max_line_chars,
        );
        lines.push(Line {
            clip,
            frames: entry.frames,
            cues,
            logo: logo.clone(),
            out: dir.join(format!("clip{i:03}.mp4")),
        });
    }

    let started = Instant::now();
    let cpu_before = cpu_seconds();
    let tools = Arc::new(tools);
    let permits = Arc::new(Semaphore::new(PARALLEL_CLIPS));
    let mut tasks = Vec::new();
    let clips: Vec<PathBuf> = lines.iter().map(|l| l.out.clone()).collect();
    for line in lines {
        let (tools, permits) = (tools.clone(), permits.clone());
        tasks.push(tokio::spawn(
            async move {
                let _permit = permits.acquire_owned().await.map_err(|err| {
                    YtError::new(ytmaker_core::ErrorCode::WORKER_PANICKED, err.to_string())
                })?;
                render_line(&tools, &line).await
            }
            .instrument(tracing::Span::current()),
        ));
    }
    for task in tasks {
        task.await.map_err(|err| {
            YtError::new(ytmaker_core::ErrorCode::WORKER_PANICKED, err.to_string())
        })??;
    }
    let clips_s = started.elapsed().as_secs_f64();
    let out = dir.join("final.mp4");
    assemble(
        &tools,
        &AssembleJob {
            clips: &clips,
            narration: &narration,
            work_dir: &dir,
            out: &out,
        },
        &|_| {},
    )
    .await?;
    let render_s = started.elapsed().as_secs_f64();
    let render_cpu_s = cpu_seconds() - cpu_before;

    let still = dir.join("card001.png");
    let baseline_out = dir.join("baseline.mp4");
    let total = format!("{:.3}", durations.iter().sum::<f64>());
    let baseline_args: Vec<OsString> = [
        "-loop",
        "1",
        "-framerate",
        "30",
        "-i",
        &still.to_string_lossy(),
        "-t",
        &total,
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
    ]
    .iter()
    .map(OsString::from)
    .chain([baseline_out.into_os_string()])
    .collect();
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    run_ffmpeg(&tools, "bench baseline", &baseline_args, &|_| {}).await?;
    let baseline_s = started.elapsed().as_secs_f64();
    let baseline_cpu_s = cpu_seconds() - cpu_before;

    println!(
        "render_s={render_s:.1} baseline_s={baseline_s:.1} ratio={:.2} (clips {clips_s:.1} s, assemble {:.1} s, video {total} s)",
        render_s / baseline_s,
        render_s - clips_s
    );
    // CPU time is steadier than wall time when other work shares the machine.
    println!(
        "render_cpu_s={render_cpu_s:.1} baseline_cpu_s={baseline_cpu_s:.1} cpu_ratio={:.2}",
        render_cpu_s / baseline_cpu_s
    );
    if std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&dir).map_err(|err| YtError::io("remove", &dir, &err))?;
    } else {
        println!("kept {}", dir.display());
    }
    Ok(())
}

/// CPU seconds used by this process and its finished children (the ffmpeg runs), from
/// `/proc/self/stat` (utime, stime, cutime, cstime; Linux clock ticks are 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<f64> = after_name
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    // After the name come the state (not a number) and ppid…cmajflt: utime is the 11th number.
    fields
        .get(10..14)
        .map_or(f64::NAN, |t| t.iter().sum::<f64>() / 100.0)
}

async fn render_line(tools: &Toolchain, line: &Line) -> YtResult<()> {
    let (style, render) = (SubtitleStyle::default(), RenderSettings::default());
    let logo_settings = LogoSettings::default();
    let logo = line.logo.as_deref().map(|file| LogoOverlay {
        file,
        settings: &logo_settings,
    });
    match &line.clip {
        Clip::Presenter { source } => {
            let job = PresenterClipJob {
                source,
                frames: line.frames,
                cues: &line.cues,
                style: &style,
                render: &render,
                logo,
                out: &line.out,
            };
            render_presenter_clip(tools, &job, &|_| {}).await
        }
        Clip::Segment { image, motion } => {
            let job = SegmentClipJob {
                image,
                frames: line.frames,
                motion: *motion,
                cues: &line.cues,
                style: &style,
                render: &render,
                logo,
                out: &line.out,
            };
            render_segment_clip(tools, &job, &|_| {}).await
        }
    }
}

/// A 1920×1080 card like the local image provider draws: a gradient, a few shapes and a key
/// phrase in large type, the kind of mostly flat picture that compresses well.
fn title_card(font: &FontRef<'_>, index: usize, path: &Path) -> YtResult<()> {
    let hue = (index * 47 % 255) as u8;
    let mut card = RgbImage::from_fn(1920, 1080, |x, y| {
        Rgb([
            hue / 2 + (x * 60 / 1920) as u8,
            40 + (y * 80 / 1080) as u8,
            255 - hue / 2,
        ])
    });
    imageproc::drawing::draw_filled_circle_mut(&mut card, (1500, 300), 220, Rgb([255, 200, 80]));
    imageproc::drawing::draw_filled_rect_mut(
        &mut card,
        imageproc::rect::Rect::at(160, 700).of_size(1600, 24),
        Rgb([240, 240, 240]),
    );
    imageproc::drawing::draw_text_mut(
        &mut card,
        Rgb([255, 255, 255]),
        160,
        420,
        PxScale::from(150.0),
        font,
        &format!("第 {index} 段：關鍵重點"),
    );
    card.save(path).map_err(|err| {
        YtError::new(
            ytmaker_core::ErrorCode::IMAGE_RENDER_FAILED,
            err.to_string(),
        )
    })
}
