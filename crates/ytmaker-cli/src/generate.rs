//! `ytmaker generate`: an article file to a finished project in the foreground, under the same
//! lease as a worker (one way to run a project: `ytmaker_pipeline::run_leased`).

use super::*;

pub(crate) async fn generate(
    settings: &Settings,
    trace: &TraceId,
    file: &Path,
    providers: Option<ytmaker_core::config::ProviderChoice>,
    name: Option<String>,
    config: Option<&Path>,
) -> ExitCode {
    let store = match open_store(settings).await {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let name = name.unwrap_or_else(|| {
        file.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    tracing::info!(file = %file.display(), providers = ?providers, "generate requested");

    // Input and set-up problems still leave a project row that says what happened.
    let prepared = async {
        let bytes = std::fs::read(file)
            .map_err(|e| YtError::io("read the article", file, &e).at_stage(Stage::Input))?;
        let text =
            ytmaker_core::article::decode_article(&bytes).map_err(|e| e.at_stage(Stage::Input))?;
        let mut configuration =
            load_project_config(settings, config).map_err(|e| e.at_stage(Stage::Input))?;
        if let Some(choice) = providers {
            configuration.providers = choice;
        }
        ytmaker_pipeline::logos::check_config_logo(&settings.data, &configuration)
            .await
            .map_err(|e| e.at_stage(Stage::Input))?;
        let tools = Toolchain::locate().map_err(|e| e.at_stage(Stage::System))?;
        Ok::<_, YtError>((text, configuration, tools))
    }
    .await;
    let (text, configuration, tools) = match prepared {
        Ok(p) => p,
        Err(err) => {
            // What could be read of the input is kept on the refused project for the user to see;
            // an unreadable file is the error itself, so there is nothing more to keep.
            let content = match std::fs::read(file) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(_) => String::new(),
            };
            let project =
                record_refused_project(&store, &name, content, &err, trace, settings.lang).await;
            return report::fail(&err, trace, project, settings.lang, exit_code_for(err.code));
        }
    };
    let project = match store
        .create_project(&NewProject {
            name,
            content: text,
            configuration,
        })
        .await
    {
        Ok(p) => p,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let dir = settings.data.project(project.id);
    if let Err(err) = save_input(&dir, &project.content).await {
        if let Err(store_err) =
            record_failure_outside_run(&store, project.id, &err, trace, settings.lang).await
        {
            tracing::error!(error_code = %store_err.code, "could not record the failure: {}", store_err.message);
        }
        return report::fail(
            &err,
            trace,
            Some(project.id),
            settings.lang,
            exit_code_for(err.code),
        );
    }
    eprintln!("project {} created (trace id {trace})", project.id);
    run_project(settings, &store, tools, &project, trace).await
}

async fn save_input(dir: &ytmaker_store::ProjectDir, content: &str) -> YtResult<()> {
    tokio::fs::create_dir_all(dir.root())
        .await
        .map_err(|e| YtError::io("create", dir.root(), &e))?;
    let input = dir.input();
    tokio::fs::write(&input, content)
        .await
        .map_err(|e| YtError::io("write", &input, &e))
}

/// Creates a FAILED project for input that was refused before any stage could run.
async fn record_refused_project(
    store: &Store,
    name: &str,
    content: String,
    err: &YtError,
    trace: &TraceId,
    lang: Lang,
) -> Option<Uuid> {
    let new = NewProject {
        name: name.to_owned(),
        content,
        configuration: Default::default(),
    };
    let project = match store.create_project(&new).await {
        Ok(p) => p,
        Err(store_err) => {
            tracing::error!(error_code = %store_err.code, "could not record the refused project: {}", store_err.message);
            return None;
        }
    };
    match record_failure_outside_run(store, project.id, err, trace, lang).await {
        Ok(()) => Some(project.id),
        Err(store_err) => {
            tracing::error!(error_code = %store_err.code, "could not record the refused project: {}", store_err.message);
            Some(project.id)
        }
    }
}

async fn record_failure_outside_run(
    store: &Store,
    id: Uuid,
    err: &YtError,
    trace: &TraceId,
    lang: Lang,
) -> YtResult<()> {
    let details = serde_json::Value::Object(err.details.clone()).to_string();
    tracing::error!(project_id = %id, error_code = %err.code, details = details.as_str(), "{}", err.message);
    store.fail_project(id, &err.to_info(trace, 1, lang)).await
}

pub(crate) async fn run_project(
    settings: &Settings,
    store: &Store,
    tools: Toolchain,
    project: &Project,
    trace: &TraceId,
) -> ExitCode {
    let fail = |err: &YtError| {
        report::fail(
            err,
            trace,
            Some(project.id),
            settings.lang,
            exit_code_for(err.code),
        )
    };
    // A run that cannot work (a missing key or file, a short quota) is refused before anything
    // runs, as the server refuses a start (it keeps its status and can be run once fixed).
    let prepared = async {
        let access = ytmaker_pipeline::CloudAccess::from_env(&settings.data)?;
        let check = ytmaker_pipeline::control::StartCheck {
            quotas: ytmaker_pipeline::quota::QuotaCheck {
                cloud: access.clone(),
                limits: settings::load_quota_limits(settings)?,
            },
            data: settings.data.clone(),
            tools: tools.clone(),
        };
        ytmaker_pipeline::control::check_ready(&check, store, project, trace).await?;
        let ctx = ytmaker_pipeline::WorkerContext {
            store: store.clone(),
            data: settings.data.clone(),
            tools: tools.clone(),
            lang: settings.lang,
            wakeup: ytmaker_pipeline::control::Wakeup::default(),
            cloud: access.clone(),
            retry_delay_scale: DelayScale::from_env()?,
        };
        Ok::<_, YtError>((access, ctx, worker_config(1)?.lease))
    }
    .await;
    let (access, ctx, lease) = match prepared {
        Ok(p) => p,
        Err(err) => return fail(&err),
    };
    // The same lease as the server's workers: while this process runs the project, a worker or
    // another CLI is refused, and a pause or cancel asked of the server reaches this run.
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    let ended = ytmaker_pipeline::run_in_foreground(
        &ctx,
        lease,
        &ytmaker_pipeline::foreground_runner_name(),
        project.id,
        trace,
        Arc::new(bars::StageBars::new()),
        interrupt,
    )
    .await;
    access.flush_call_records().await;
    match ended {
        Ok(ytmaker_pipeline::LeasedEnd::Completed(outcome)) => {
            print_outcome(project.id, &outcome, trace);
            ExitCode::SUCCESS
        }
        Ok(ytmaker_pipeline::LeasedEnd::Paused) => {
            eprintln!(
                "\nproject {} is PAUSED. Continue with: ytmaker projects resume {}",
                project.id, project.id
            );
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Ok(ytmaker_pipeline::LeasedEnd::Cancelled) => {
            eprintln!("\nproject {} was CANCELLED", project.id);
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Ok(ytmaker_pipeline::LeasedEnd::LeaseGone) => fail(&YtError::new(
            ErrorCode::QUEUE_CONNECTION_FAILED,
            "this run lost its lease on the project (the database could not be reached to \
             renew it, or another runner took it over) and stopped without writing more; \
             continue with `ytmaker projects resume`",
        )),
        Ok(ytmaker_pipeline::LeasedEnd::Ended(status)) => fail(
            &YtError::new(
                ErrorCode::INVALID_STATE_TRANSITION,
                format!("the project is {status} already: another run finished it first"),
            )
            .detail("status", status.as_str()),
        ),
        Ok(ytmaker_pipeline::LeasedEnd::Failed(err)) | Err(err) => fail(&err),
    }
}

fn print_outcome(id: Uuid, o: &RunOutcome, trace: &TraceId) {
    println!("project    {id}");
    println!("video      {}", o.video.display());
    println!("thumbnail  {}", o.thumbnail.display());
    println!("subtitles  {}", o.subtitles.display());
    println!("published  {}", o.location);
    println!("trace id   {trace}");
}
