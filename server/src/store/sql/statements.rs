//! Every statement the shared store code runs, by name, loaded with `include_str!` from one file each:
//! `common/NAME.sql` when both dialects run the same text, else `sqlite/NAME.sql` and
//! `postgres/NAME.sql`, so `diff sqlite/NAME.sql postgres/NAME.sql` shows exactly how the dialects
//! differ (geometry columns, `jsonb` casts, locking). Both number their parameters `$1, $2, …` (sqlx
//! binds `SQLite`'s `$NNN` by its number), and every dialect's text takes the same parameters in the
//! same order, so one Rust call binds either. The bulk inserts (`bulk.rs`) are the exception: `SQLite`'s
//! text is the column list the rows follow, PostgreSQL's takes each column as one array. Statements
//! only one dialect runs (PostgreSQL's events lock and group of new cases) are loaded by that
//! dialect's module from the same folders.

use super::driver::Sql;
use crate::store::postgres::PgDialect;
use crate::store::sqlite::SqliteDialect;

/// Declares `Statements<D>` with one field per name, and one table of texts per dialect: `common`
/// from `common/`, `own` and `bulk` from the dialect's folder (`bulk` left out of the parameter test).
macro_rules! statements {
    (common: [$($common:ident),* $(,)?], own: [$($own:ident),* $(,)?],
        bulk: [$($bulk:ident),* $(,)?] $(,)?) => {
        /// The texts of every statement in one dialect.
        pub struct Statements<D> {
            $(pub(crate) $common: Sql<D>,)*
            $(pub(crate) $own: Sql<D>,)*
            $(pub(crate) $bulk: Sql<D>,)*
        }
        statements!(@table SQLITE, SqliteDialect, "sqlite", [$($common),*], [$($own),*],
            [$($bulk),*]);
        statements!(@table POSTGRES, PgDialect, "postgres", [$($common),*], [$($own),*],
            [$($bulk),*]);
    };
    (@table $table:ident, $dialect:ty, $dir:literal, [$($common:ident),*], [$($own:ident),*],
        [$($bulk:ident),*]) => {
        pub(crate) const $table: Statements<$dialect> = Statements {
            $($common: Sql::new(include_str!(concat!("common/", stringify!($common), ".sql"))),)*
            $($own: Sql::new(include_str!(concat!($dir, "/", stringify!($own), ".sql"))),)*
            $($bulk: Sql::new(include_str!(concat!($dir, "/", stringify!($bulk), ".sql"))),)*
        };
        #[cfg(test)]
        impl Statements<$dialect> {
            /// Every statement's name and text but the bulk inserts'.
            fn texts(&self) -> Vec<(&'static str, &'static str)> {
                let common = [$((stringify!($common), self.$common.text()),)*];
                let own = [$((stringify!($own), self.$own.text()),)*];
                common.into_iter().chain(own).collect()
            }
        }
    };
}

statements! {
    common: [
        begin_read, load_setting, put_setting, delete_setting, load_cells, load_workers,
        load_duties, last_seq, add_building_to_grid, insert_worker, update_worker, delete_duties,
        has_grids, load_grid_codes, load_region_codes, load_categories, put_category,
        load_departments, load_members, put_department, delete_members, insert_member,
        load_incidents, load_photos, update_incident, find_incident, insert_photo, attach_photo,
        load_photo, load_thumbnail, insert_thumbnail, load_patrols, load_checkpoints, load_check_ins, load_visits, insert_patrol,
        end_patrol, update_patrol, upsert_visit, load_cameras, delete_camera, mark_plan_applied,
        clear_community_cells, move_building, events_since, token_by_hash, load_history, load_track,
        load_plans, load_plan, load_versions, insert_event, insert_token, insert_plan,
        insert_version, load_tokens, find_token, revoke_token, touch_token, revoked_tokens,
        last_audit, audit_anchor, load_audit, find_audit, move_audit_anchor, prune_audit,
        insert_user, update_user, find_user, user_by_name, load_users, user_versions,
        count_login_attempt, lock_user, login_succeeded, insert_session, session_by_hash,
        find_session, sessions_of, revoke_session, end_user_sessions, touch_session,
        revoked_sessions, ping, commit, rollback, claim_key, drop_stale_key, find_key, finish_key,
        release_key, prune_keys, mark_key_committed, last_incident_id,
        count_archived, insert_keyframe, keyframe_at, first_keyframe, seq_at, positions_at,
        cases_since, fixes_between,
    ],
    own: [
        begin_write, begin_snapshot, load_regions, load_grids, load_buildings, load_base_lines,
        load_base_areas, insert_region, insert_building, insert_incident, insert_checkpoint,
        insert_check_in, insert_camera, update_camera, update_grid, insert_grid, load_incidents_in,
        load_history_in, load_photos_in, archived_ids, search_cases,
    ],
    bulk: [
        insert_grids, insert_cells, insert_buildings, insert_base_lines, insert_base_areas,
        insert_fixes, insert_history, insert_duties, insert_audit,
    ],
}

#[cfg(test)]
mod tests {
    use super::{POSTGRES, SQLITE};

    /// The `$n` a text names, sorted and without repeats.
    fn parameters(text: &str) -> Vec<usize> {
        let mut numbers: Vec<usize> = text
            .split('$')
            .skip(1)
            .filter_map(|rest| {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                digits.parse().ok()
            })
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        numbers
    }

    /// One Rust call binds either dialect's text, so both must name `$1 … $n`, the same `n`.
    #[test]
    fn both_dialects_take_the_same_parameters() {
        for ((name, sqlite), (_, postgres)) in SQLITE.texts().into_iter().zip(POSTGRES.texts()) {
            let (ours, theirs) = (parameters(sqlite), parameters(postgres));
            assert_eq!(
                ours, theirs,
                "{name}: SQLite's parameters are not PostgreSQL's"
            );
            let expected: Vec<usize> = (1..=ours.len()).collect();
            assert_eq!(ours, expected, "{name}: parameters are not $1 … $n");
        }
        assert_eq!(parameters("VALUES ($2, $1, $10, $2)"), [1, 2, 10]);
    }
}
