//! `ytmaker projects …`: list, show, pause, resume, retry, cancel and delete from the terminal.

use super::*;

pub(crate) async fn projects(
    settings: &Settings,
    trace: &TraceId,
    action: ProjectsAction,
) -> ExitCode {
    let store = match open_store(settings).await {
        Ok(s) => s,
        Err(err) => return report::fail(&err, trace, None, settings.lang, exit_code_for(err.code)),
    };
    let result: YtResult<ExitCode> = async {
        match action {
            ProjectsAction::List { status, limit } => {
                let status = match status {
                    Some(raw) => Some(ProjectStatus::parse(&raw.to_ascii_uppercase()).ok_or_else(
                        || {
                            YtError::invalid_field(
                                ErrorCode::VALIDATION_ERROR,
                                "status",
                                "a project status such as FAILED or COMPLETED",
                                raw.as_str(),
                            )
                        },
                    )?),
                    None => None,
                };
                let rows = store
                    .list_projects(&ProjectFilter {
                        status,
                        limit,
                        offset: 0,
                        ..Default::default()
                    })
                    .await?;
                println!(
                    "{:<36}  {:<22}  {:<26}  {:<24}  name",
                    "id", "status", "error", "updated"
                );
                for p in rows {
                    let code = p.error_code.map(|c| c.to_string()).unwrap_or_default();
                    println!(
                        "{:<36}  {:<22}  {:<26}  {:<24}  {}",
                        p.id, p.status, code, p.updated_at, p.name
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Show { id } => {
                let project = store.find_project(&id).await?;
                let assets = store.assets(project.id).await?;
                report::show_project(&project, &assets, &settings.data);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Resume { id } => {
                continue_project(settings, &store, trace, &id, false).await
            }
            ProjectsAction::Retry { id } => {
                continue_project(settings, &store, trace, &id, true).await
            }
            ProjectsAction::EditImage {
                id,
                segment,
                description,
                prompt,
            } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::edit_segment_image(
                    &store,
                    &settings.data,
                    project.id,
                    segment,
                    &description,
                    prompt.as_deref(),
                    trace,
                )
                .await?;
                println!("project {}: segment {segment} has a new image description; `projects retry` makes its image", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::SetImage { id, segment, file } => {
                let project = store.find_project(&id).await?;
                let bytes = std::fs::read(&file).map_err(|e| YtError::io("read", &file, &e))?;
                let (w, h) = ytmaker_pipeline::edits::replace_segment_image(
                    &store,
                    &settings.data,
                    project.id,
                    segment,
                    &bytes,
                    trace,
                )
                .await?;
                println!("project {}: segment {segment} uses your {w}×{h} image", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::RegenerateImage { id, segment } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::regenerate_segment_image(&store, project.id, segment, trace)
                    .await?;
                println!("project {}: segment {segment}'s image is made again by the next resume/retry", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::NoPresenter { id } => {
                let project = store.find_project(&id).await?;
                ytmaker_pipeline::edits::continue_without_presenter(&store, project.id, trace)
                    .await?;
                println!("project {}: the video is finished without the presenter", project.id);
                Ok(ExitCode::SUCCESS)
            }
            ProjectsAction::Cancel { id } => {
                let project = store.find_project(&id).await?;
                let outcome = ytmaker_pipeline::control::stop(
                    &store,
                    project.id,
                    ytmaker_pipeline::control::Action::Cancel,
                    trace,
                )
                .await?;
                match outcome.result {
                    "requested" => println!(
                        "project {}: cancel requested; the worker running it stops now",
                        project.id
                    ),
                    _ => println!("project {} is CANCELLED", project.id),
                }
                Ok(ExitCode::SUCCESS)
            }
        }
    }
    .await;
    result.unwrap_or_else(|err| {
        report::fail(&err, trace, None, settings.lang, exit_code_for(err.code))
    })
}

/// `projects resume` / `projects retry`: runs the project here, from its checkpoints.
async fn continue_project(
    settings: &Settings,
    store: &Store,
    trace: &TraceId,
    id: &str,
    retry: bool,
) -> YtResult<ExitCode> {
    let project = store.find_project(id).await?;
    let verb = if retry { "retried" } else { "resumed" };
    if project.status.is_terminal() || (retry && project.status != ProjectStatus::Failed) {
        return Err(YtError::new(
            ErrorCode::INVALID_STATE_TRANSITION,
            format!("a {} project cannot be {verb}", project.status),
        )
        .detail("from", project.status.as_str()));
    }
    // A server's worker or another CLI holding its lease is named in the refusal
    // (`run_in_foreground`): running it here too would do the work twice.
    let tools = Toolchain::locate()?;
    eprintln!(
        "resuming project {} from {} (trace id {trace})",
        project.id, project.status
    );
    Ok(crate::generate::run_project(settings, store, tools, &project, trace).await)
}
