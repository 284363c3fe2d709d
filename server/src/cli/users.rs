//! `gridwatch user create|passwd|disable|list`: people's accounts from the command line, through the
//! same checks as `/api/users` (`admin::users`) with no caller to limit them (the command line is the
//! deployment's owner; it alone makes auditors). A running server sees every change within a second
//! (the credentials watch reads account versions and ended sessions). One-time passwords and TOTP
//! secrets are printed once, on stdout.

use std::sync::Arc;

use anyhow::{Context, Result, bail};
use gridwatch::Core;
use gridwatch::admin::users::{self, Change, Issued, Request, Reset};
use gridwatch::config::IdentityArgs;
use gridwatch::core::Options;
use gridwatch::domain::{Role, UserStatus, WorkerId};
use gridwatch::identity::totp;
use gridwatch::store::Store;

/// `gridwatch user …`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Creates an account; prints its one-time password (and TOTP secret) once.
    Create {
        /// The login name: a-z, 0-9, `.`, `_`, `-`, `@`.
        name: String,
        #[arg(long, value_parser = crate::parse_role)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// `region:<id>` or `grid:<id>`; repeat for several.
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// The worker the account acts for.
        #[arg(long)]
        worker: Option<i64>,
        /// Issue a TOTP secret even where the role does not need one.
        #[arg(long)]
        totp: bool,
        #[command(flatten)]
        store: gridwatch::config::StoreArgs,
        #[command(flatten)]
        identity: IdentityArgs,
    },
    /// Resets an account's password to a new one-time password (printed once): its lockout is
    /// cleared and every session ends.
    Passwd {
        name: String,
        /// Issue a new TOTP secret as well.
        #[arg(long)]
        totp: bool,
        #[command(flatten)]
        store: gridwatch::config::StoreArgs,
        #[command(flatten)]
        identity: IdentityArgs,
    },
    /// Disables an account: refused at sign-in, every session ended within a second.
    Disable {
        name: String,
        #[command(flatten)]
        store: gridwatch::config::StoreArgs,
    },
    /// Lists accounts (never a password hash or secret), one a line.
    List {
        #[command(flatten)]
        store: gridwatch::config::StoreArgs,
    },
}

async fn core(store: Arc<dyn Store>, identity: &IdentityArgs) -> Result<Core> {
    let options = Options {
        identity: identity.policy()?,
        ..Options::default()
    };
    Ok(Core::load_with(store, options).await?)
}

async fn user_id(store: &Arc<dyn Store>, name: &str) -> Result<gridwatch::domain::UserId> {
    let normal = gridwatch::identity::normal_name(name);
    match store.user_by_name(&normal).await? {
        Some(user) => Ok(user.id),
        None => bail!("no account is named {normal:?}"),
    }
}

fn print_issued(issued: &Issued) {
    if let Some(password) = &issued.one_time_password {
        println!("one-time password: {password}");
    }
    if let Some(secret) = &issued.totp_secret {
        println!("totp secret: {secret}");
        println!("totp uri: {}", totp::uri(secret, &issued.user.name));
    }
}

pub async fn run(command: UserCommand) -> Result<()> {
    match command {
        UserCommand::Create {
            name,
            role,
            display_name,
            scopes,
            worker,
            totp,
            store,
            identity,
        } => {
            let core = core(
                crate::open(&store, crate::DEFAULT_DATA_DIR).await?,
                &identity,
            )
            .await?;
            let request = Request {
                name,
                display_name,
                role,
                scopes,
                worker: worker.map(WorkerId),
                password: None,
                must_change_password: None,
                totp,
            };
            let issued = users::create(&core, None, request)
                .await
                .context("creating the account")?;
            eprintln!("user {} created ({})", issued.user.id, issued.user.name);
            print_issued(&issued);
            Ok(())
        }
        UserCommand::Passwd {
            name,
            totp,
            store,
            identity,
        } => {
            let core = core(
                crate::open(&store, crate::DEFAULT_DATA_DIR).await?,
                &identity,
            )
            .await?;
            let id = user_id(core.store(), &name).await?;
            let reset = Reset {
                password: Some(None),
                must_change_password: None,
                totp,
            };
            let issued = users::reset(&core, None, id, reset)
                .await
                .context("resetting the password")?;
            eprintln!("user {id}: password reset, every session ended");
            print_issued(&issued);
            Ok(())
        }
        UserCommand::Disable { name, store } => {
            let core = core(
                crate::open(&store, crate::DEFAULT_DATA_DIR).await?,
                &IdentityArgs::default(),
            )
            .await?;
            let id = user_id(core.store(), &name).await?;
            let change = Change {
                status: Some(UserStatus::Disabled),
                ..Change::default()
            };
            users::update(&core, None, id, change)
                .await
                .context("disabling the account")?;
            eprintln!("user {id} disabled; its sessions have ended");
            Ok(())
        }
        UserCommand::List { store } => {
            let store = crate::open(&store, crate::DEFAULT_DATA_DIR).await?;
            for u in store.users().await? {
                let scopes: Vec<String> = u.scopes.iter().map(ToString::to_string).collect();
                let locked = u
                    .locked_until
                    .map_or_else(String::new, |at| format!("locked until {at}"));
                println!(
                    "{}\t{}\t{}\t{}\t[{}]\t{}\t{}\t{}",
                    u.id,
                    u.name,
                    u.display_name,
                    u.role.as_str(),
                    scopes.join(","),
                    u.status.as_str(),
                    if u.totp_secret.is_some() { "totp" } else { "-" },
                    locked
                );
            }
            Ok(())
        }
    }
}

/// One demo account: its name, role, view and what the person needs to sign in once.
pub struct DemoPerson {
    pub name: &'static str,
    pub view: &'static str,
    pub issued: Issued,
}

/// The demo's people, one per view: created on a fresh store, their passwords (and TOTP secrets)
/// issued again on every start, so the printout always works. Each must choose a password at first
/// sign-in.
pub async fn demo_people(core: &Core) -> Result<Vec<DemoPerson>> {
    let worker = {
        let world = core.world();
        world
            .workers()
            .filter(|w| !w.grids.is_empty())
            .min_by_key(|w| w.id)
            .map(|w| (w.id, w.name.clone()))
    };
    let mut people = vec![
        (
            "commander",
            Role::Commander,
            None,
            "/",
            "指挥中心 command centre",
        ),
        (
            "planner",
            Role::Planner,
            None,
            "/planner",
            "网格规划 planner",
        ),
        ("admin", Role::Admin, None, "/", "系统管理员 administrator"),
        ("auditor", Role::Auditor, None, "/", "审计员 auditor"),
    ];
    if let Some((id, name)) = &worker {
        people.insert(
            2,
            ("worker", Role::Worker, Some(*id), "/worker", name.as_str()),
        );
    }
    let mut out = Vec::new();
    for (name, role, worker, view, display) in people {
        let needs_totp = core.identity().needs_totp(role);
        let issued = if let Some(user) = core.store().user_by_name(name).await? {
            let reset = Reset {
                password: Some(None),
                must_change_password: None,
                totp: needs_totp,
            };
            users::reset(core, None, user.id, reset).await?
        } else {
            let request = Request {
                name: name.to_owned(),
                display_name: Some(display.to_owned()),
                role,
                scopes: Vec::new(),
                worker,
                password: None,
                must_change_password: None,
                totp: false,
            };
            users::create(core, None, request).await?
        };
        out.push(DemoPerson { name, view, issued });
    }
    Ok(out)
}

/// Prints the demo's people: where to sign in, each name, one-time password and TOTP secret.
pub fn print_demo_people(base: &str, people: &[DemoPerson]) {
    println!("sign in at {base}/login.html — one-time passwords, each changed at first sign-in:");
    for person in people {
        let password = person.issued.one_time_password.as_deref().unwrap_or("-");
        let totp = person
            .issued
            .totp_secret
            .as_deref()
            .map_or_else(String::new, |s| format!("  totp secret: {s}"));
        println!(
            "  user: {:<10} password: {password}  view: {}{}",
            person.name, person.view, totp
        );
    }
}
