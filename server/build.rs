//! Build-time inputs of the server:
//! - `sqlx::migrate!` embeds the migrations; rebuild when one is added or changed.
//! - The web map (`../web-map`) is assembled with npm (`npm ci` when its lock file changed, then
//!   `npm run build`) into `$OUT_DIR/web`, and every file of it is embedded in the binary, so a
//!   deployment is one file and the map loads nothing from outside the server.
//!
//! `GRIDWATCH_WEB_DIST=DIR` embeds an already assembled folder instead and runs no npm (for a
//! machine without Node.js: assemble the folder elsewhere with `npm run build -- --out DIR`).

use std::fmt::Write as _;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

fn main() {
    println!("cargo:rerun-if-changed=../migrations");
    println!("cargo:rerun-if-env-changed=GRIDWATCH_WEB_DIST");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dist = match env::var_os("GRIDWATCH_WEB_DIST") {
        Some(dir) => PathBuf::from(dir),
        None => assemble(&out.join("web")),
    };
    let mut files = Vec::new();
    walk(&dist, &dist, &mut files);
    files.sort();
    let mut code = String::from(
        "/// The web map's files: path under the web root, bytes, and a hash of them for `ETag`.\n",
    );
    code.push_str("pub static ASSETS: &[(&str, &[u8], u64)] = &[\n");
    for (name, path) in &files {
        let bytes = fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let mut hasher = DefaultHasher::new();
        bytes.hash(&mut hasher);
        writeln!(
            code,
            "    ({name:?}, include_bytes!({:?}), {}),",
            path.display().to_string(),
            hasher.finish()
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    fs::write(out.join("web_assets.rs"), code).expect("writing web_assets.rs");
}

/// Runs npm in `../web-map` and returns the folder it assembled.
fn assemble(target: &Path) -> PathBuf {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web-map");
    for input in [
        "src",
        "tools",
        "build.mjs",
        "package.json",
        "package-lock.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    let lock = web.join("package-lock.json");
    let installed = web.join("node_modules/.package-lock.json");
    let stale = match (modified(&installed), modified(&lock)) {
        (Some(installed), Some(lock)) => installed < lock,
        _ => true,
    };
    if stale {
        npm(&web, &["ci", "--no-audit", "--no-fund", "--loglevel=error"]);
    }
    npm(
        &web,
        &[
            "run",
            "--silent",
            "build",
            "--",
            "--out",
            &target.display().to_string(),
        ],
    );
    target.to_path_buf()
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm").args(args).current_dir(dir).status().unwrap_or_else(|e| {
        panic!("running `npm {}` in {}: {e}. The web map is built with Node.js 20+ and npm; install them, or set GRIDWATCH_WEB_DIST to an assembled web map", args.join(" "), dir.display())
    });
    assert!(
        status.success(),
        "`npm {}` in {} failed ({status})",
        args.join(" "),
        dir.display()
    );
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn walk(root: &Path, dir: &Path, files: &mut Vec<(String, PathBuf)>) {
    let entries = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading the web map in {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            walk(root, &path, files);
        } else {
            let name = path
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .replace('\\', "/");
            files.push((name, path));
        }
    }
}
