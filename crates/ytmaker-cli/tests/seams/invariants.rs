//! Quiescence, the finish phase, and the five invariants of issue 12 (plus liveness: once every
//! cause is removed, retrying finishes a project).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use serde_json::Value;
use ytmaker_fake_cloud::Api;

use crate::seams::actions::{Changed, Model, is_running_status};
use crate::seams::world::{DbAsset, DbEvent, KEYS, World, now_ms, tail};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// 1–5 as numbered in issue 12; 0 for liveness.
    pub invariant: u8,
    /// A short stable name of what broke, for grouping and shrinking.
    pub tag: &'static str,
    pub project: Option<usize>,
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.project.map(|p| format!(" p{p}")).unwrap_or_default();
        write!(
            f,
            "invariant {} [{}]{p}: {}",
            self.invariant, self.tag, self.message
        )
    }
}

fn v(invariant: u8, tag: &'static str, project: Option<usize>, message: String) -> Violation {
    Violation {
        invariant,
        tag,
        project,
        message,
    }
}

/// Waits until nothing runs: every CLI run ended, the server is up, no job is queued or running.
/// Returns liveness violations for what did not settle.
pub async fn settle(world: &mut World, model: &mut Model, limit: Duration) -> Vec<Violation> {
    let mut out = Vec::new();
    let started = Instant::now();
    while !world.live_clis().is_empty() {
        if started.elapsed() > limit {
            for i in world.live_clis() {
                out.push(v(
                    0,
                    "cli_never_ends",
                    Some(world.clis[i].project),
                    format!(
                        "`ytmaker {}` still runs after {} s",
                        world.clis[i].label,
                        limit.as_secs()
                    ),
                ));
            }
            world.kill_cli();
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for i in 0..world.clis.len() {
        if world.clis[i].exit.is_some() && !world.clis[i].killed {
            let line = format!(
                "  cli `{}` exit {:?}: {}",
                world.clis[i].label,
                world.clis[i].exit.flatten(),
                tail(world.cli_output(i).trim(), 300).replace('\n', " | ")
            );
            if !model.log.contains(&line) {
                model.log.push(line);
            }
        }
    }
    if !world.server_alive() {
        out.push(v(
            0,
            "server_died",
            None,
            "ytmaker serve ended by itself".into(),
        ));
        if let Err(e) = world.start_server().await {
            out.push(v(0, "server_restart", None, e));
            return out;
        }
    }
    loop {
        match world.live_jobs().await {
            Ok(0) => break,
            Ok(n) if started.elapsed() > limit => {
                out.push(v(
                    0,
                    "jobs_never_end",
                    None,
                    format!(
                        "{n} job(s) still queued or running after {} s",
                        limit.as_secs()
                    ),
                ));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                out.push(v(0, "database", None, e));
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A job of a killed runner still counts as running until another runner takes it over and
    // ends it, so nothing is left to wait for here but the last writes of the ending runs.
    tokio::time::sleep(Duration::from_millis(300)).await;
    if world.live_jobs().await.unwrap_or(0) > 0 {
        return Box::pin(settle(world, model, limit)).await;
    }
    out
}

/// Clears the faults, puts back every key, and continues every project that can be continued
/// (retry a FAILED one, resume a PAUSED or interrupted one, start a new one), until all are
/// COMPLETED or CANCELLED or three rounds have passed.
pub async fn finish(world: &mut World, model: &mut Model) -> Vec<Violation> {
    let mut out = Vec::new();
    world.cloud.clear_faults();
    for provider in std::mem::take(&mut model.removed_keys) {
        let value = KEYS
            .iter()
            .find(|(k, _)| *k == provider)
            .map_or("", |(_, v)| *v);
        let a = world
            .api(
                "PUT",
                &format!("/api/v1/keys/{provider}"),
                Some(serde_json::json!({ "value": value })),
            )
            .await;
        model
            .log
            .push(format!("  finish: put key {provider} -> {}", a.short()));
    }
    for round in 0..3 {
        let mut acted = false;
        for p in 0..model.projects.len() {
            let id = model.projects[p].id;
            let status = world
                .db_project(id)
                .await
                .map(|d| d.status)
                .unwrap_or_default();
            let action = match status.as_str() {
                "COMPLETED" | "CANCELLED" => continue,
                "FAILED" => "retry",
                "INITIALIZED" => "start",
                _ => "resume",
            };
            let a = world
                .api("POST", &format!("/api/v1/projects/{id}/{action}"), None)
                .await;
            model.log.push(format!(
                "  finish round {round}: p{p} {status} -> {action} -> {}",
                a.short()
            ));
            acted |= a.ok();
        }
        if !acted {
            break;
        }
        out.extend(settle(world, model, Duration::from_secs(300)).await);
    }
    for p in 0..model.projects.len() {
        let id = model.projects[p].id;
        if let Ok(d) = world.db_project(id).await
            && d.status != "COMPLETED"
            && d.status != "CANCELLED"
        {
            let code = d
                .error_info
                .as_ref()
                .map(|e| e["error_code"].as_str().unwrap_or("").to_owned())
                .unwrap_or_default();
            if code == "DISK_SPACE_INSUFFICIENT" {
                out.push(v(
                    0,
                    "environment_disk_full",
                    Some(p),
                    "the machine's disk is full: the run was refused (rightly); this case says nothing"
                        .into(),
                ));
                continue;
            }
            out.push(v(
                0,
                "not_finished",
                Some(p),
                format!(
                    "with every fault cleared and every key back, the project ends {} {code}",
                    d.status
                ),
            ));
        }
    }
    out
}

/// Invariants 3, 4 and 5: checked whenever the system is quiescent.
pub async fn check_quiescent(world: &World, model: &Model) -> Vec<Violation> {
    let mut out = Vec::new();
    for (p, proj) in model.projects.iter().enumerate() {
        let id = proj.id;
        let (db, events, jobs) = match (
            world.db_project(id).await,
            world.db_events(id).await,
            world.db_jobs(id).await,
        ) {
            (Ok(d), Ok(e), Ok(j)) => (d, e, j),
            (d, e, j) => {
                out.push(v(
                    0,
                    "database",
                    Some(p),
                    format!("{:?} {:?} {:?}", d.err(), e.err(), j.err()),
                ));
                continue;
            }
        };
        let info_code = db
            .error_info
            .as_ref()
            .and_then(|i| i["error_code"].as_str())
            .map(str::to_owned);
        let info_trace = db
            .error_info
            .as_ref()
            .and_then(|i| i["trace_id"].as_str())
            .map(str::to_owned);

        // 3. Every failure reaches the project.
        if db.status == "FAILED" {
            match (&info_code, events.iter().rev().find(|e| e.kind == "error")) {
                (None, _) => out.push(v(
                    3,
                    "failed_without_error_info",
                    Some(p),
                    "FAILED with no error_info".into(),
                )),
                (Some(_), None) => out.push(v(
                    3,
                    "failed_without_error_event",
                    Some(p),
                    format!("FAILED ({info_code:?}) but no `error` event is stored"),
                )),
                (Some(code), Some(e)) => {
                    let event_code = e.payload["error_code"].as_str().unwrap_or("");
                    let event_trace = e.payload["trace_id"]
                        .as_str()
                        .map(str::to_owned)
                        .or(e.trace_id.clone());
                    if event_code != code || event_trace != info_trace {
                        out.push(v(
                            3,
                            "error_event_disagrees",
                            Some(p),
                            format!(
                                "error_info {code} trace {info_trace:?}; last error event {event_code} trace {event_trace:?}"
                            ),
                        ));
                    }
                }
            }
        }
        // A start paused while still queued leaves the project INITIALIZED on purpose.
        let paused_in_queue = jobs.last().is_some_and(|j| j.state == "stopped");
        if proj.start_accepted && db.status == "INITIALIZED" && !paused_in_queue {
            out.push(v(
                3,
                "start_accepted_then_silent",
                Some(p),
                format!(
                    "a start was accepted, nothing runs, and the project is INITIALIZED with error_info {info_code:?} and {} events; jobs: {}",
                    events.len(),
                    jobs_text(&jobs)
                ),
            ));
        }
        // A failed job whose code is not the one the FAILED project shows: the last run's failure
        // never reached the project, which still shows an older one.
        if let Some(last) = jobs.last()
            && last.state == "failed"
            && db.status == "FAILED"
            && last.last_error.is_some()
            && last.last_error != info_code
        {
            out.push(v(
                3,
                "job_failure_not_recorded",
                Some(p),
                format!(
                    "its last job failed with {:?} but error_info still shows {info_code:?}",
                    last.last_error
                ),
            ));
        }
        // A failed job whose project still shows the status it had (INITIALIZED, PAUSED, a running
        // one): the failure never reached the project. (COMPLETED or CANCELLED: something ran
        // or ended it afterwards.)
        if let Some(last) = jobs.last()
            && last.state == "failed"
            && !matches!(db.status.as_str(), "FAILED" | "COMPLETED" | "CANCELLED")
        {
            out.push(v(
                3,
                "job_failed_project_not",
                Some(p),
                format!(
                    "its last job failed ({:?}) but the project is {}",
                    last.last_error, db.status
                ),
            ));
        }

        // 4. No running status without a live lease.
        if is_running_status(&db.status) {
            let live = jobs
                .iter()
                .any(|j| j.state == "running" && j.lease_expires_ms.is_some_and(|t| t > now_ms()));
            if !live {
                out.push(v(
                    4,
                    "running_without_lease",
                    Some(p),
                    format!(
                        "{} with nothing running it; jobs: {}",
                        db.status,
                        jobs_text(&jobs)
                    ),
                ));
            }
        }

        // 4 (one runner): two runs of one project at the same time, seen in the event log: the
        // asset and stage events of two runs (trace ids) interleave, each inside the other's span.
        if let Some((a, b)) = concurrent_runs(&events) {
            out.push(v(
                4,
                "two_runners_at_once",
                Some(p),
                format!("the runs {a} and {b} made assets of this project at the same time"),
            ));
        }

        // 5. REST, WebSocket and database agree.
        let rest = world
            .api("GET", &format!("/api/v1/projects/{id}"), None)
            .await;
        if !rest.ok() {
            out.push(v(5, "rest_unreadable", Some(p), rest.short()));
            continue;
        }
        let rest_status = rest.body["status"].as_str().unwrap_or("").to_owned();
        let rest_code = rest.body["error_info"]["error_code"]
            .as_str()
            .map(str::to_owned);
        let rest_job = rest.body["job"].as_str().map(str::to_owned);
        let db_job = jobs
            .iter()
            .find(|j| j.state == "queued" || j.state == "running")
            .map(|j| j.state.clone());
        if rest_status != db.status || rest_code != info_code || rest_job != db_job {
            out.push(v(
                5,
                "rest_vs_database",
                Some(p),
                format!(
                    "REST {rest_status} {rest_code:?} job {rest_job:?}; database {} {info_code:?} job {db_job:?}",
                    db.status
                ),
            ));
        }
        match world.ws_snapshot(id).await {
            Ok(snap) => {
                let ws_status = snap["state"]["status"].as_str().unwrap_or("").to_owned();
                let ws_code = snap["state"]["error"]["error_code"]
                    .as_str()
                    .map(str::to_owned);
                if snap["type"] != "snapshot" || ws_status != db.status {
                    out.push(v(
                        5,
                        "websocket_status",
                        Some(p),
                        format!(
                            "WebSocket snapshot says {ws_status:?}, database {}",
                            db.status
                        ),
                    ));
                } else if db.status == "FAILED" && ws_code != info_code {
                    out.push(v(
                        5,
                        "websocket_error",
                        Some(p),
                        format!("WebSocket error {ws_code:?}, error_info {info_code:?}"),
                    ));
                }
            }
            Err(e) => out.push(v(5, "websocket_unreadable", Some(p), e)),
        }
    }
    out
}

/// Two trace ids whose asset/stage events interleave so that each has an event strictly inside
/// the other's first-to-last span: the two runs were in progress at once. A run taken over after
/// a kill (same job, same trace, later) does not count: the killed one wrote nothing meanwhile.
fn concurrent_runs(events: &[DbEvent]) -> Option<(String, String)> {
    let mut spans: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for e in events
        .iter()
        .filter(|e| e.kind == "asset" || e.kind == "stage")
    {
        if let Some(t) = e.trace_id.as_deref() {
            spans.entry(t).or_default().push(e.seq);
        }
    }
    let inside = |seqs: &[i64], first: i64, last: i64| seqs.iter().any(|s| *s > first && *s < last);
    let traces: Vec<(&str, &Vec<i64>)> = spans.iter().map(|(t, s)| (*t, s)).collect();
    for (i, (a, sa)) in traces.iter().enumerate() {
        for (b, sb) in &traces[i + 1..] {
            let (fa, la) = (sa[0], sa[sa.len() - 1]);
            let (fb, lb) = (sb[0], sb[sb.len() - 1]);
            if inside(sa, fb, lb) && inside(sb, fa, la) {
                return Some(((*a).to_owned(), (*b).to_owned()));
            }
        }
    }
    None
}

fn jobs_text(jobs: &[crate::seams::world::DbJob]) -> String {
    if jobs.is_empty() {
        return "none".into();
    }
    jobs.iter()
        .map(|j| {
            format!(
                "{}{}{}",
                j.state,
                j.last_error
                    .as_ref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default(),
                j.lease_owner
                    .as_ref()
                    .map(|o| format!(" by {o}"))
                    .unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn made_after(events: &[DbEvent], kind: &str, index: Option<i64>, seq: i64) -> bool {
    events.iter().any(|e| {
        e.seq > seq
            && e.kind == "asset"
            && e.payload["kind"] == kind
            && e.payload["status"] == "COMPLETED"
            && match index {
                Some(i) => e.payload["index"].as_i64() == Some(i),
                None => true,
            }
    })
}

fn asset<'a>(assets: &'a [DbAsset], kind: &str, index: i64) -> Option<&'a DbAsset> {
    assets.iter().find(|a| a.kind == kind && a.index == index)
}

/// Invariant 1 for every COMPLETED project: its outputs were made after every change the system
/// accepted for it, and the published video is the final video asset.
pub async fn check_outputs(world: &World, model: &Model) -> Vec<Violation> {
    let mut out = Vec::new();
    let videos = world.cloud.state().youtube.videos();
    for (p, proj) in model.projects.iter().enumerate() {
        let id = proj.id;
        let (Ok(db), Ok(events), Ok(assets)) = (
            world.db_project(id).await,
            world.db_events(id).await,
            world.db_assets(id).await,
        ) else {
            out.push(v(0, "database", Some(p), "cannot read the project".into()));
            continue;
        };
        if db.status != "COMPLETED" {
            continue;
        }
        let presenter = db.configuration["presenter"]["enabled"].as_bool() != Some(false);
        let background = db.configuration["thumbnail"]["background_segment"]
            .as_i64()
            .unwrap_or(0);
        let segments = db
            .script
            .as_ref()
            .and_then(|s| s["segments"].as_array().map(Vec::len))
            .unwrap_or(0) as i64;
        let lines = segments + 2;
        let position = |seg: i64| seg + i64::from(presenter);
        let missing = |what: String, change: &str, step: usize, tag: &'static str| {
            v(
                1,
                tag,
                Some(p),
                format!("{what} was not made again after step {step} ({change})"),
            )
        };
        for (n, c) in proj.changes.iter().enumerate() {
            let later = &proj.changes[n + 1..];
            let seg_of = |w: &Changed| match w {
                Changed::Description { seg, .. }
                | Changed::Upload { seg, .. }
                | Changed::Regenerate { seg } => Some(i64::from(*seg)),
                _ => None,
            };
            let later_upload = |seg: i64| {
                later.iter().any(|l| {
                    matches!(l.what, Changed::Upload { .. }) && seg_of(&l.what) == Some(seg)
                })
            };
            let later_same_seg = |seg: i64| later.iter().any(|l| seg_of(&l.what) == Some(seg));
            let mut video = false;
            match &c.what {
                Changed::Description { seg, text } => {
                    let seg = i64::from(*seg);
                    video = true;
                    if !later_upload(seg) && !made_after(&events, "image", Some(seg), c.seq) {
                        out.push(missing(
                            format!("image {seg}"),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                    if !made_after(&events, "segment_clip", Some(position(seg)), c.seq) {
                        out.push(missing(
                            format!("segment clip {}", position(seg)),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                    if seg == background && !made_after(&events, "thumbnail", None, c.seq) {
                        out.push(missing(
                            "the thumbnail".into(),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                    let shown = db
                        .script
                        .as_ref()
                        .and_then(|s| s["segments"][seg as usize]["image_description"].as_str());
                    // A rewritten script keeps the edit by index (as it keeps an upload), unless
                    // it no longer has that segment, which the run reports in a warn log.
                    let gone = seg >= segments;
                    if !later_same_seg(seg) && !gone && shown != Some(text.as_str()) {
                        out.push(v(
                            1,
                            "edit_lost_from_script",
                            Some(p),
                            format!(
                                "segment {seg}'s description is {shown:?}, not the edit of step {}",
                                c.step
                            ),
                        ));
                    }
                }
                Changed::Upload { seg, hash } => {
                    let seg = i64::from(*seg);
                    video = true;
                    let current = asset(&assets, "image", seg);
                    if !later_same_seg(seg)
                        && (current.and_then(|a| a.content_hash.as_ref()) != hash.as_ref()
                            || current.map(|a| &a.metadata["source"])
                                != Some(&Value::from("user_upload")))
                    {
                        out.push(v(
                            1,
                            "upload_not_used",
                            Some(p),
                            format!(
                                "image {seg} is not the image uploaded at step {} (hash {:?} vs {:?})",
                                c.step,
                                current.and_then(|a| a.content_hash.clone()),
                                hash
                            ),
                        ));
                    }
                    if !made_after(&events, "segment_clip", Some(position(seg)), c.seq) {
                        out.push(missing(
                            format!("segment clip {}", position(seg)),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                    if seg == background && !made_after(&events, "thumbnail", None, c.seq) {
                        out.push(missing(
                            "the thumbnail".into(),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                }
                Changed::Regenerate { seg } => {
                    let seg = i64::from(*seg);
                    if !later_upload(seg) && !made_after(&events, "image", Some(seg), c.seq) {
                        out.push(missing(
                            format!("image {seg}"),
                            &c.label,
                            c.step,
                            "edit_not_applied",
                        ));
                    }
                }
                Changed::Images => {
                    for seg in 0..segments {
                        let uploaded = asset(&assets, "image", seg)
                            .is_some_and(|a| a.metadata["source"] == "user_upload");
                        if !uploaded && !made_after(&events, "image", Some(seg), c.seq) {
                            out.push(missing(
                                format!("image {seg}"),
                                &c.label,
                                c.step,
                                "config_not_applied",
                            ));
                        }
                    }
                }
                Changed::Narration => {
                    video = true;
                    for line in 0..lines {
                        let spoken = presenter || (line != 0 && line != lines - 1);
                        if spoken && !made_after(&events, "audio", Some(line), c.seq) {
                            out.push(missing(
                                format!("narration line {line}"),
                                &c.label,
                                c.step,
                                "config_not_applied",
                            ));
                        }
                    }
                }
                Changed::Subtitles => {
                    video = true;
                    for pos in 0..segments + if presenter { 2 } else { 0 } {
                        if !made_after(&events, "segment_clip", Some(pos), c.seq) {
                            out.push(missing(
                                format!("segment clip {pos}"),
                                &c.label,
                                c.step,
                                "config_not_applied",
                            ));
                        }
                    }
                }
                Changed::KenBurns => {
                    video = true;
                    for seg in 0..segments {
                        if !made_after(&events, "segment_clip", Some(position(seg)), c.seq) {
                            out.push(missing(
                                format!("segment clip {}", position(seg)),
                                &c.label,
                                c.step,
                                "config_not_applied",
                            ));
                        }
                    }
                }
                Changed::Thumbnail => {
                    if !made_after(&events, "thumbnail", None, c.seq) {
                        out.push(missing(
                            "the thumbnail".into(),
                            &c.label,
                            c.step,
                            "config_not_applied",
                        ));
                    }
                }
                Changed::Script => {
                    if !made_after(&events, "script", None, c.seq) {
                        out.push(missing(
                            "the script".into(),
                            &c.label,
                            c.step,
                            "config_not_applied",
                        ));
                    }
                }
                Changed::Logo => {
                    video = true;
                    for pos in 0..segments + if presenter { 2 } else { 0 } {
                        if !made_after(&events, "segment_clip", Some(pos), c.seq) {
                            out.push(missing(
                                format!("segment clip {pos}"),
                                &c.label,
                                c.step,
                                "config_not_applied",
                            ));
                        }
                    }
                    if !made_after(&events, "thumbnail", None, c.seq) {
                        out.push(missing(
                            "the thumbnail".into(),
                            &c.label,
                            c.step,
                            "config_not_applied",
                        ));
                    }
                }
                Changed::NoPresenter => {
                    video = true;
                    if presenter {
                        out.push(v(
                            1,
                            "no_presenter_lost",
                            Some(p),
                            format!(
                                "presenter.enabled is true after the choice of step {}",
                                c.step
                            ),
                        ));
                    }
                }
            }
            if video && !made_after(&events, "final_video", None, c.seq) {
                out.push(missing(
                    "the final video".into(),
                    &c.label,
                    c.step,
                    "video_not_remade",
                ));
            }
        }
        // What was published is the final video asset.
        let final_hash = asset(&assets, "final_video", -1).and_then(|a| a.content_hash.clone());
        match db.youtube_video_id.as_ref() {
            None => out.push(v(
                1,
                "not_published",
                Some(p),
                "COMPLETED with no YouTube video id".into(),
            )),
            Some(video_id) => match videos.iter().find(|x| &x.id == video_id) {
                None => out.push(v(
                    1,
                    "published_video_missing",
                    Some(p),
                    format!("the fake YouTube has no video {video_id}"),
                )),
                Some(x) if Some(&x.sha256) != final_hash.as_ref() => out.push(v(
                    1,
                    "published_old_video",
                    Some(p),
                    format!(
                        "YouTube video {video_id} is {} but the final video asset is {final_hash:?}",
                        &x.sha256[..12]
                    ),
                )),
                Some(_) => {}
            },
        }
        let completed_at = events
            .iter()
            .rev()
            .find(|e| e.kind == "complete")
            .map(|e| e.seq);
        if let Some(last) = proj.changes.last()
            && completed_at.is_none_or(|s| s < last.seq)
        {
            out.push(v(
                1,
                "completed_before_change",
                Some(p),
                format!("no `complete` event after the change of step {}", last.step),
            ));
        }
    }
    out
}

fn successes(world: &World, api: Api, endpoint: &str) -> u32 {
    world
        .cloud
        .calls()
        .iter()
        .filter(|c| {
            c.api == api
                && c.endpoint == endpoint
                && (200..300).contains(&c.status)
                && c.fault.as_deref().is_none_or(|f| f == "latency")
        })
        .count() as u32
}

/// Invariant 2: no paid call is made twice for the same inputs, from the fake cloud's own record.
pub async fn check_payments(world: &World, model: &Model) -> Vec<Violation> {
    let mut out = Vec::new();
    let state = world.cloud.state();
    let kills_images: u32 = model.kills.iter().map(|k| k.images).sum();
    let kills_audio: u32 = model.kills.iter().map(|k| k.audio).sum();
    let kills_gemini: u32 = model.kills.iter().map(|k| k.gemini).sum();

    // Stability: the same request (prompt and every setting) paid twice.
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for r in ytmaker_fake_cloud::stability::StabilityState::requests(&state.stability) {
        let key = format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            r.prompt, r.negative_prompt, r.aspect_ratio, r.seed, r.style_preset, r.output_format
        );
        *seen.entry(key).or_default() += 1;
    }
    let dups: u32 = seen.values().map(|n| n - 1).sum();
    let regenerates: u32 = model.projects.iter().map(|p| p.regenerates).sum();
    if dups > regenerates + kills_images {
        let twice: Vec<String> = seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, n)| format!("{n}× {}", k.chars().take(90).collect::<String>()))
            .collect();
        out.push(v(
            2,
            "stability_paid_twice",
            None,
            format!(
                "{dups} repeated image request(s), {regenerates} asked by a regenerate, {kills_images} excused by a kill in flight: {}",
                twice.join("; ")
            ),
        ));
    }

    // YouTube: one video uploaded twice.
    let mut uploads: BTreeMap<String, u32> = BTreeMap::new();
    for video in state.youtube.videos() {
        *uploads.entry(video.sha256.clone()).or_default() += 1;
    }
    if let Some((sha, n)) = uploads.iter().find(|(_, n)| **n > 1) {
        out.push(v(
            2,
            "youtube_uploaded_twice",
            None,
            format!("the same video ({}) was uploaded {n} times", &sha[..12]),
        ));
    }

    // D-ID: two talks per presenter version (intro and outro); a new narration may need new ones.
    let talk_budget: u32 = model
        .projects
        .iter()
        .map(|p| 2 * (1 + p.narration_changes))
        .sum();
    let talks = state.did.talks_created();
    if talks > talk_budget {
        out.push(v(
            2,
            "did_talk_paid_twice",
            None,
            format!(
                "{talks} D-ID talks created; at most {talk_budget} were needed (2 per project and narration change); DidReplyLost injected {} time(s); kills: [{}]",
                model
                    .faults_injected
                    .iter()
                    .filter(|f| matches!(f, crate::seams::actions::FaultKind::DidReplyLost))
                    .count(),
                model
                    .kills
                    .iter()
                    .map(|k| format!("step {} {}", k.step, k.what))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }

    // Gemini and Google TTS: counted against what the accepted changes can require.
    let mut gemini_budget = kills_gemini;
    let mut tts_budget = kills_audio;
    for proj in &model.projects {
        gemini_budget += 1 + proj.script_changes + proj.narration_changes;
        let segments = world
            .db_project(proj.id)
            .await
            .ok()
            .and_then(|d| d.script)
            .and_then(|s| s["segments"].as_array().map(Vec::len))
            .unwrap_or(0) as u32;
        tts_budget += (segments + 2) * (1 + proj.narration_changes);
    }
    let scripts = successes(world, Api::Gemini, "generateContent");
    if scripts > gemini_budget {
        out.push(v(
            2,
            "gemini_paid_twice",
            None,
            format!("{scripts} scripts written; at most {gemini_budget} were needed"),
        ));
    }
    let spoken = successes(world, Api::GoogleTts, "synthesize");
    if spoken > tts_budget {
        out.push(v(
            2,
            "tts_paid_twice",
            None,
            format!("{spoken} narration lines synthesized; at most {tts_budget} were needed"),
        ));
    }
    out
}
