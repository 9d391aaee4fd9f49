use std::sync::Arc;

use ytmaker_core::YtResult;
use ytmaker_core::config::{ProviderChoice, ProviderKind};
use ytmaker_providers::local::{
    EspeakNarrator, LocalPresenter, LocalPublisher, RuleBasedScriptWriter, TitleCardIllustrator,
};
use ytmaker_providers::{Illustrator, Narrator, Presenter, Publisher, ScriptWriter};
use ytmaker_render::Toolchain;

/// The provider chosen for each capability of one project. Built from the project's
/// configuration; a provider is never swapped for another during a run.
#[derive(Clone)]
pub struct Providers {
    pub script: Arc<dyn ScriptWriter>,
    pub narrator: Arc<dyn Narrator>,
    pub illustrator: Arc<dyn Illustrator>,
    pub presenter: Arc<dyn Presenter>,
    pub publisher: Arc<dyn Publisher>,
}

impl Providers {
    pub fn for_choice(choice: &ProviderChoice, tools: &Toolchain) -> YtResult<Providers> {
        let ProviderChoice {
            script,
            narration,
            images,
            avatar,
            publish,
        } = choice;
        Ok(Providers {
            script: match script {
                ProviderKind::Local => Arc::new(RuleBasedScriptWriter::new()),
                other => return Err(unwired(*other)),
            },
            narrator: match narration {
                ProviderKind::Local => Arc::new(EspeakNarrator::new(tools.clone())),
                other => return Err(unwired(*other)),
            },
            illustrator: match images {
                ProviderKind::Local => Arc::new(TitleCardIllustrator::new()),
                other => return Err(unwired(*other)),
            },
            presenter: match avatar {
                ProviderKind::Local => Arc::new(LocalPresenter::new(tools.clone())),
                other => return Err(unwired(*other)),
            },
            publisher: match publish {
                ProviderKind::Local => Arc::new(LocalPublisher::new()),
                other => return Err(unwired(*other)),
            },
        })
    }
}

fn unwired(kind: ProviderKind) -> ytmaker_core::YtError {
    ytmaker_core::YtError::new(
        ytmaker_core::ErrorCode::CONFIG_INVALID,
        format!("provider {} is not wired into the pipeline yet", kind.as_str()),
    )
}
