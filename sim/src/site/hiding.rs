//! Issues hidden for a while, as Jira hides them without deleting them: a project archived
//! (Cloud) or moved to the trash and restored, or issue security that keeps the account out and
//! is later lifted. While hidden, an issue is gone from every answer (searches, `GET
//! /issue/{id}` answers 404); shown again, it comes back as it was, its `updated` unchanged, and
//! no audit record says it went.

use crate::site::Site;
use crate::site::issues::FIRST_ISSUE_ID;

impl Site {
    /// Hides the live issue with this id; false when there is none.
    pub fn hide_issue(&mut self, id: &str) -> bool {
        self.set_hidden(id, true)
    }

    /// Shows again the hidden issue with this id; false when there is none.
    pub fn show_issue(&mut self, id: &str) -> bool {
        self.set_hidden(id, false)
    }

    fn set_hidden(&mut self, id: &str, hidden: bool) -> bool {
        let Some(index) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| id.checked_sub(FIRST_ISSUE_ID))
            .and_then(|index| usize::try_from(index).ok())
        else {
            return false;
        };
        let Some(issue) = self.issues.get_mut(index) else {
            return false;
        };
        if issue.deleted.is_some() || issue.hidden == hidden {
            return false;
        }
        issue.hidden = hidden;
        // Searches are run again; nothing else about the issue changes.
        self.version += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use crate::config::SimConfig;
    use crate::site::Site;

    #[test]
    fn a_hidden_issue_is_gone_until_shown_again_unchanged() {
        let mut site = Site::generate(&SimConfig::default());
        let index = site.live_issues().next().unwrap();
        let id = site.issues[index].id.to_string();
        let updated = site.issues[index].updated;
        let before = site.live_issues().count();
        assert!(site.hide_issue(&id));
        assert!(!site.hide_issue(&id), "already hidden");
        assert_eq!(site.find_issue(&id), None);
        assert_eq!(site.live_issues().count(), before - 1);
        assert!(site.show_issue(&id));
        assert_eq!(site.find_issue(&id), Some(index));
        assert_eq!(site.issues[index].updated, updated);
        assert!(!site.show_issue("1"));
    }
}
