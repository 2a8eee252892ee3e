//! Who may read what: the one place that decides which projects a user's searches and lists
//! look into.

use moth_core::User;
use moth_store::ProjectScope;

/// The projects `user` may read. Today every signed-in user (viewers included) reads every
/// project; per-project membership would narrow this here and nowhere else.
pub fn readable_projects(_user: &User) -> ProjectScope {
    ProjectScope::All
}
