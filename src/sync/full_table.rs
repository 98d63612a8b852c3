//! Full-table streams: a versioned pass over a stream's rows. Targets that honour
//! ACTIVATE_VERSION replace the table once the pass is complete; a pass cut short activates
//! nothing.

use std::io::Write;

use chrono::Utc;
use serde_json::{Value, json};

use super::rows::{Bound, Reader, bound_by, walk};
use super::{Emitter, Run};
use crate::error::Result;
use crate::singer::{Message, time_extracted};
use crate::streams::{PROJECTS_STREAM, Source, StreamDef};

pub(super) async fn sync<W: Write>(
    run: &mut Run<'_, '_, W>,
    emitter: &mut Emitter<'_>,
) -> Result<()> {
    let name = emitter.name();
    let def = emitter.stream.def;
    let version = Utc::now().timestamp_millis();
    // With project filters a project-level stream holds the kept projects only: activating its
    // version would drop every other project's rows from the target (another partition's, or
    // those of a run without the filters). Its rows are upserted instead, without a version.
    let partial = run.config.filters.narrows_projects() && read_per_project(def);
    let versioned = (!partial).then_some(version);
    let first_ever = run
        .bookmark(name)
        .and_then(|b| b.get("version").cloned())
        .is_none();
    if first_ever && !partial {
        run.write(&Message::ActivateVersion {
            stream: name,
            version,
        })?;
    }
    // A parent of other streams keeps what its children bind, so they need not read it again.
    let binds = def.child_binds();
    let is_parent = !binds.is_empty();
    let mut children_bind: Vec<Bound> = Vec::new();
    let reader = Reader {
        client: run.client,
        config: run.config,
        projects: run.projects,
    };
    let out = run.out;
    let mut on_page = |bound: &Bound, rows: Vec<Value>| {
        let extracted = time_extracted(Utc::now());
        let mut out = out.borrow_mut();
        for row in rows {
            if is_parent {
                children_bind.push(bound_by(&binds, bound, &row));
            }
            out.emit(emitter, row, versioned, &extracted)?;
        }
        Ok(())
    };
    walk(reader, &mut run.parents, def, &mut on_page).await?;
    if is_parent {
        run.parents.store(name, children_bind);
    }
    // A pass that read less than Jira has would delete the rest from the target.
    let short = run.parents.short.contains(name);
    if short && !partial {
        tracing::warn!(
            stream = name,
            "the pass read less than Jira has: its version is not activated, so the target keeps \
             the rows it left out"
        );
    }
    if !partial && !short {
        run.write(&Message::ActivateVersion {
            stream: name,
            version,
        })?;
    }
    run.commit_bookmark(name, json!({"version": version}))
}

/// Whether `def` is `projects` or read per project (`versions`, `components`, a project's
/// roles, …): the streams the project filters narrow.
fn read_per_project(def: &StreamDef) -> bool {
    def.name == PROJECTS_STREAM
        || match def.source {
            Source::PerParent(per) => per
                .parents
                .iter()
                .filter_map(|parent| StreamDef::find(parent.stream))
                .any(read_per_project),
            _ => false,
        }
}
