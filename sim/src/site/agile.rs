//! Jira Software's boards: one scrum board (showing the project's three sprints) and one
//! kanban board per project, and for projects `i % 3 == 0` a second scrum board, the team
//! board, that holds only stories and bugs and shows the project's active and future sprints:
//! those two sprints are on two boards. Which sprints an issue is in is what its Sprint field
//! says ([`Site::sprint_membership`]).

use crate::rng::{RngExt, stream, topic};
use crate::site::Site;
use crate::site::fields::{Custom, Kind};
use crate::site::projects::{Project, Sprint};
use crate::site::reference::{BUG, EPIC, STORY};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BoardKind {
    Scrum,
    Kanban,
}

impl BoardKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BoardKind::Scrum => "scrum",
            BoardKind::Kanban => "kanban",
        }
    }
}

pub(crate) struct Board {
    pub id: u64,
    pub name: String,
    pub kind: BoardKind,
    /// Index of the project the board is located in (and whose issues it shows).
    pub project: usize,
    /// The saved filter behind the board.
    pub filter_id: u64,
    /// Ids of the sprints the board shows (scrum boards only), closed, active, then future.
    pub sprints: Vec<u64>,
    /// Only issues of these types; `None`: every issue of the project.
    pub issue_types: Option<&'static [u8]>,
}

/// Issue types on a team board.
const TEAM_TYPES: &[u8] = &[STORY, BUG];

/// Filter ids of boards are this plus the board id.
pub(crate) const BOARD_FILTER_BASE: u64 = 10000;

pub(crate) fn generate(projects: &[Project]) -> Vec<Board> {
    let n = projects.len() as u64;
    let mut boards = Vec::new();
    for (p, project) in projects.iter().enumerate() {
        let id = p as u64 + 1;
        boards.push(Board {
            id,
            name: format!("{} board", project.key),
            kind: BoardKind::Scrum,
            project: p,
            filter_id: BOARD_FILTER_BASE + id,
            sprints: project.sprints.iter().map(|s| s.id).collect(),
            issue_types: None,
        });
        let id = n + p as u64 + 1;
        boards.push(Board {
            id,
            name: format!("{} Kanban", project.key),
            kind: BoardKind::Kanban,
            project: p,
            filter_id: BOARD_FILTER_BASE + id,
            sprints: Vec::new(),
            issue_types: None,
        });
    }
    let mut next = 2 * n;
    for (p, project) in projects.iter().enumerate().filter(|(p, _)| p % 3 == 0) {
        next += 1;
        boards.push(Board {
            id: next,
            name: format!("{} team board", project.key),
            kind: BoardKind::Scrum,
            project: p,
            filter_id: BOARD_FILTER_BASE + next,
            sprints: project.sprints.iter().skip(1).map(|s| s.id).collect(),
            issue_types: Some(TEAM_TYPES),
        });
    }
    boards.sort_by_key(|b| b.id);
    boards
}

impl Site {
    /// A board the account may see, by id.
    pub fn board(&self, id: u64) -> Option<&Board> {
        self.boards
            .iter()
            .find(|b| b.id == id && !self.board_hidden(b))
    }

    /// Whether the board's filter is not shared with the account
    /// (`SimConfig::hidden_boards_every`): Jira shows it to the account nowhere.
    pub fn board_hidden(&self, board: &Board) -> bool {
        self.hidden_boards_every != 0 && board.id.is_multiple_of(self.hidden_boards_every)
    }

    /// The boards the account may see.
    pub fn visible_boards(&self) -> impl Iterator<Item = &Board> {
        self.boards.iter().filter(|b| !self.board_hidden(b))
    }

    /// A sprint by id, with the index of its project.
    pub fn sprint(&self, id: u64) -> Option<(usize, &Sprint)> {
        self.projects
            .iter()
            .enumerate()
            .find_map(|(p, project)| project.sprints.iter().find(|s| s.id == id).map(|s| (p, s)))
    }

    /// The sprints (indexes into its project's sprints) an issue's Sprint field holds: none for
    /// epics and about a third of the others, the closed sprint (sometimes also the active one)
    /// for done issues, the active or the future one for the rest.
    pub fn sprint_membership(&self, index: usize) -> Vec<usize> {
        let Some(field) = self
            .fields
            .iter()
            .find(|f| f.kind == Kind::Custom(Custom::Sprint))
        else {
            return Vec::new();
        };
        let issue = &self.issues[index];
        let sprints = self.projects[issue.project as usize].sprints.len();
        // The same stream, drawn in the same order, as the field's rendered value.
        let mut rng = stream(
            self.seed,
            &[topic::FIELD, index as u64, field.custom_number()],
        );
        if rng.random_bool(0.35) || issue.issue_type == EPIC || sprints < 2 {
            return Vec::new();
        }
        if issue.is_done() {
            let count = if rng.random_bool(0.3) { 2 } else { 1 };
            (0..count.min(sprints)).collect()
        } else {
            vec![rng.random_range(1..sprints)]
        }
    }

    /// Indexes of the issues in a sprint, in key order.
    pub fn sprint_issues(&self, sprint_id: u64) -> Vec<usize> {
        let Some((p, _)) = self.sprint(sprint_id) else {
            return Vec::new();
        };
        let Some(k) = self.projects[p]
            .sprints
            .iter()
            .position(|s| s.id == sprint_id)
        else {
            return Vec::new();
        };
        self.live_project_issues(p)
            .filter(|&i| self.sprint_membership(i).contains(&k))
            .collect()
    }

    /// Indexes of the issues on a board, in key order.
    pub fn board_issues(&self, board: &Board) -> Vec<usize> {
        self.live_project_issues(board.project)
            .filter(|&i| {
                board
                    .issue_types
                    .is_none_or(|types| types.contains(&self.issues[i].issue_type))
            })
            .collect()
    }

    /// Indexes of the epics a board lists: its project's, kanban boards included.
    pub fn board_epics(&self, board: &Board) -> Vec<usize> {
        self.live_project_issues(board.project)
            .filter(|&i| self.issues[i].issue_type == EPIC)
            .collect()
    }

    /// Sprints of the site, each once (the rows of the `sprints` stream).
    pub fn distinct_board_sprints(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .visible_boards()
            .flat_map(|b| b.sprints.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::site::Site;

    #[test]
    fn boards_share_a_sprint_and_sprints_hold_issues() {
        let site = Site::generate(&SimConfig::default());
        assert_eq!(site.boards.len(), 7);
        let shared = site.boards[0].sprints[1];
        assert_eq!(
            site.boards
                .iter()
                .filter(|b| b.sprints.contains(&shared))
                .count(),
            2
        );
        assert_eq!(site.distinct_board_sprints().len(), 9);
        for id in site.distinct_board_sprints() {
            assert!(!site.sprint_issues(id).is_empty(), "sprint {id}");
        }
    }
}
