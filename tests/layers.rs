//! The architecture, checked from the source text: `src/lib.rs` lists the layers in order (its
//! `pub mod` lines), and every module under `src/` may use only its own layer and those listed
//! before it. Paths are read from `crate::...` and `super::...` (including `use` trees such as
//! `use crate::{a, b::{c, d}}` and intra-doc links in doc comments); `src/cli/` and `src/main.rs`
//! sit on top and are not checked. Inside a layer, the modules (one per file) must not import
//! each other in a cycle (library code only: test modules and doc links are left out); a module's
//! uses of its own ancestors (`super::` in a child) are the usual parent-as-interface pattern and
//! do not count as edges.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One path found in a file: the module-path segments it names (from the crate root), the line.
struct Use {
    path: Vec<String>,
    line: usize,
    /// Inside a `#[cfg(test)]` module or a doc comment: counts for layering (a doc link to a
    /// later layer is still an upward reference), not for cycles (neither is compiled into the
    /// library's dependency graph).
    test: bool,
}

/// A source file as a module: its path from the crate root and what it names.
struct Module {
    file: PathBuf,
    path: Vec<String>,
    uses: Vec<Use>,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The layer names in the order `src/lib.rs` declares them.
fn layers(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let rest = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("mod "))?;
            Some(rest.strip_suffix(';')?.trim().to_string())
        })
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `src/a/b.rs` -> `[a, b]`, `src/a/mod.rs` -> `[a]`.
fn module_path(rel: &Path) -> Vec<String> {
    let mut segs: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segs.last().is_some_and(|s| s == "mod") {
        segs.pop();
    }
    segs
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Parses a `use`-style tree at `pos` (after `crate::` or `super::`): `a::b`, `a::{b, c::d}`,
/// `*`. Returns every path in it; a path ends where no `::` follows.
fn parse_tree(s: &[u8], pos: &mut usize) -> Vec<Vec<String>> {
    let skip_ws = |pos: &mut usize| {
        while *pos < s.len() && s[*pos].is_ascii_whitespace() {
            *pos += 1;
        }
    };
    skip_ws(pos);
    if *pos < s.len() && s[*pos] == b'{' {
        *pos += 1;
        let mut all = Vec::new();
        loop {
            skip_ws(pos);
            if *pos >= s.len() {
                return all;
            }
            match s[*pos] {
                b'}' => {
                    *pos += 1;
                    return all;
                }
                b',' => *pos += 1,
                _ => {
                    let before = *pos;
                    all.extend(parse_tree(s, pos));
                    // Skip anything the grammar above does not read (`as name`).
                    while *pos < s.len() && !matches!(s[*pos], b',' | b'}') {
                        *pos += 1;
                    }
                    if *pos == before {
                        *pos += 1;
                    }
                }
            }
        }
    }
    let start = *pos;
    while *pos < s.len() && (is_ident_char(s[*pos]) || s[*pos] == b'*') {
        *pos += 1;
    }
    if start == *pos {
        return Vec::new();
    }
    let ident = String::from_utf8_lossy(&s[start..*pos]).into_owned();
    if s[*pos..].starts_with(b"::") {
        *pos += 2;
        let rest = parse_tree(s, pos);
        if rest.is_empty() {
            return vec![vec![ident]];
        }
        return rest
            .into_iter()
            .map(|mut p| {
                p.insert(0, ident.clone());
                p
            })
            .collect();
    }
    vec![vec![ident]]
}

/// Every `crate::`/`super::` path in a file, resolved to a path from the crate root. Plain `//`
/// comments are skipped; doc comments are read (a doc link is a dependency too).
fn scan(text: &str, module: &[String]) -> Vec<Use> {
    let lines: Vec<&str> = text.lines().collect();
    // Inline modules (`mod name {` ... the `}` at the same indentation): `super::` inside them
    // starts one level deeper; `#[cfg(test)]` ones are marked as test code.
    let mut inline: Vec<(usize, usize, bool)> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let t = l.trim_start();
        let t = t.strip_prefix("pub ").unwrap_or(t);
        if t.starts_with("mod ") && t.trim_end().ends_with('{') {
            let indent = &l[..l.len() - l.trim_start().len()];
            let end = (i + 1..lines.len())
                .find(|&j| lines[j].starts_with(&format!("{indent}}}")))
                .unwrap_or(lines.len());
            let test = i > 0 && lines[i - 1].trim() == "#[cfg(test)]";
            inline.push((i, end, test));
        }
    }
    // The text with plain `//` comment lines blanked (offsets kept), so that a `use` group may
    // span lines; doc comments stay (a doc link is a reference too).
    let mut code = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(lines.len());
    for l in text.split_inclusive('\n') {
        starts.push(code.len());
        let t = l.trim_start();
        if t.starts_with("//") && !t.starts_with("///") && !t.starts_with("//!") {
            code.extend(l.chars().map(|c| if c == '\n' { '\n' } else { ' ' }));
        } else {
            code.push_str(l);
        }
    }
    let s = code.as_bytes();
    let mut uses = Vec::new();
    let mut k = 0;
    while k < s.len() {
        let prev_ok = k == 0 || !is_ident_char(s[k - 1]);
        let is_crate = prev_ok && s[k..].starts_with(b"crate::");
        let is_super = prev_ok && s[k..].starts_with(b"super::");
        if !is_crate && !is_super {
            k += 1;
            continue;
        }
        // The line the path starts on, and the module that line is in.
        let i = starts.partition_point(|&st| st <= k) - 1;
        let t = lines.get(i).map_or("", |l| l.trim_start());
        let depth = inline.iter().filter(|(a, b, _)| *a < i && i < *b).count();
        let test = t.starts_with("///")
            || t.starts_with("//!")
            || inline.iter().any(|(a, b, t)| *t && *a < i && i < *b);
        let mut base: Vec<String> = Vec::new();
        let mut pos = k;
        if is_crate {
            pos += "crate::".len();
        } else {
            base = module.to_vec();
            base.extend((0..depth).map(|_| "<inline>".to_string()));
            while s[pos..].starts_with(b"super::") {
                base.pop();
                pos += "super::".len();
            }
        }
        for path in parse_tree(s, &mut pos) {
            let mut full = base.clone();
            full.extend(path);
            uses.push(Use {
                path: full,
                line: i + 1,
                test,
            });
        }
        k = pos.max(k + 1);
    }
    // `<inline>` segments only stand for depth; a path that still holds one stays in its file.
    uses.retain(|u| !u.path.iter().any(|s| s == "<inline>"));
    uses
}

/// The crate's modules (one per file, `src/cli/` and `src/main.rs` left out) and the layers.
fn crate_modules() -> (Vec<String>, Vec<Module>) {
    let root = src();
    let lib = std::fs::read_to_string(root.join("lib.rs")).expect("src/lib.rs");
    let layers = layers(&lib);
    assert!(
        layers.len() >= 5,
        "src/lib.rs lists only {layers:?}: cannot read the layers"
    );
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut modules = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&root).expect("under src").to_path_buf();
        if rel.starts_with("cli") || rel == Path::new("main.rs") || rel == Path::new("lib.rs") {
            continue;
        }
        let path = module_path(&rel);
        let text = std::fs::read_to_string(&file).expect("readable source");
        let uses = scan(&text, &path);
        modules.push(Module {
            file: Path::new("src").join(rel),
            path,
            uses,
        });
    }
    (layers, modules)
}

/// Upward imports: `file:line: layer uses later-layer (path)`.
fn upward(layers: &[String], modules: &[Module]) -> Vec<String> {
    let rank = |name: &str| layers.iter().position(|l| l == name);
    let mut bad = Vec::new();
    for m in modules {
        let Some(own) = rank(&m.path[0]) else {
            bad.push(format!(
                "{}: top-level module `{}` is not listed in src/lib.rs",
                m.file.display(),
                m.path[0]
            ));
            continue;
        };
        for u in &m.uses {
            // Root re-exports (`crate::Error`) and macros are not layers.
            let Some(target) = u.path.first().and_then(|s| rank(s)) else {
                continue;
            };
            if target > own {
                bad.push(format!(
                    "{}:{}: layer `{}` uses `crate::{}`, which is listed after it in src/lib.rs",
                    m.file.display(),
                    u.line,
                    layers[own],
                    u.path.join("::")
                ));
            }
        }
    }
    bad
}

/// Cycles among the modules of one layer, as `a -> b -> a` lines with the file:line of each edge.
fn cycles(modules: &[Module]) -> Vec<String> {
    let known: BTreeSet<&[String]> = modules.iter().map(|m| m.path.as_slice()).collect();
    let resolve = |p: &[String]| -> Option<Vec<String>> {
        (1..=p.len())
            .rev()
            .map(|n| &p[..n])
            .find(|q| known.contains(q))
            .map(|q| q.to_vec())
    };
    // Edges within a layer, to a module that is not the source's ancestor, with where they are.
    let mut edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>> = BTreeMap::new();
    for m in modules {
        let out = edges.entry(m.path.clone()).or_default();
        for u in m.uses.iter().filter(|u| !u.test) {
            let Some(t) = resolve(&u.path) else { continue };
            if t[0] != m.path[0] || m.path.starts_with(&t) {
                continue;
            }
            out.entry(t)
                .or_insert_with(|| format!("{}:{}", m.file.display(), u.line));
        }
    }
    // Tarjan's strongly connected components.
    struct State<'a> {
        edges: &'a BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
        index: BTreeMap<Vec<String>, usize>,
        low: BTreeMap<Vec<String>, usize>,
        stack: Vec<Vec<String>>,
        on: BTreeSet<Vec<String>>,
        sccs: Vec<Vec<Vec<String>>>,
    }
    fn visit(v: &Vec<String>, st: &mut State) {
        let n = st.index.len();
        st.index.insert(v.clone(), n);
        st.low.insert(v.clone(), n);
        st.stack.push(v.clone());
        st.on.insert(v.clone());
        let next: Vec<Vec<String>> = st
            .edges
            .get(v)
            .map_or(Vec::new(), |e| e.keys().cloned().collect());
        for w in &next {
            if !st.index.contains_key(w) {
                visit(w, st);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if st.on.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            loop {
                let w = st.stack.pop().expect("on the stack");
                st.on.remove(&w);
                let done = &w == v;
                comp.push(w);
                if done {
                    break;
                }
            }
            st.sccs.push(comp);
        }
    }
    let mut st = State {
        edges: &edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        sccs: Vec::new(),
    };
    for v in edges.keys() {
        if !st.index.contains_key(v) {
            visit(v, &mut st);
        }
    }
    st.sccs
        .iter()
        .filter(|c| c.len() > 1)
        .map(|comp| {
            let names: BTreeSet<&Vec<String>> = comp.iter().collect();
            let detail: Vec<String> = comp
                .iter()
                .flat_map(|a| {
                    edges[a]
                        .iter()
                        .filter(|(b, _)| names.contains(b))
                        .map(move |(b, at)| format!("{} -> {} ({at})", a.join("::"), b.join("::")))
                })
                .collect();
            format!("cycle: {}", detail.join(", "))
        })
        .collect()
}

#[test]
fn no_layer_imports_a_layer_listed_after_it_in_lib_rs() {
    let (layers, modules) = crate_modules();
    let bad = upward(&layers, &modules);
    assert!(
        bad.is_empty(),
        "upward imports (layer order: {}):\n{}",
        layers.join(" < "),
        bad.join("\n")
    );
}

#[test]
fn no_import_cycles_between_modules_of_a_layer() {
    let (_, modules) = crate_modules();
    let bad = cycles(&modules);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_checker_sees_use_trees_super_paths_and_doc_links() {
    let module: Vec<String> = vec!["model".into(), "gmm".into(), "em".into()];
    let text = "use crate::{error::Result, train::{run::Run, eval}};\n\
                // crate::study::ignored in a plain comment\n\
                /// See [`x`](crate::study::report::Report).\n\
                use super::super::tree::Tree;\n\
                use super::kmeans::{self, KMeans};\n\
                let a = crate::Error::Invalid;\n\
                use crate::{\n\
                    study::hidden,\n\
                };\n";
    let uses: Vec<(String, usize)> = scan(text, &module)
        .into_iter()
        .map(|u| (u.path.join("::"), u.line))
        .collect();
    let want = [
        ("error::Result", 1),
        ("train::run::Run", 1),
        ("train::eval", 1),
        ("study::report::Report", 3),
        ("model::tree::Tree", 4),
        ("model::gmm::kmeans::self", 5),
        ("model::gmm::kmeans::KMeans", 5),
        ("Error::Invalid", 6),
        ("study::hidden", 7),
    ];
    let want: Vec<(String, usize)> = want.iter().map(|(p, l)| (p.to_string(), *l)).collect();
    assert_eq!(uses, want);

    // `model` sits below `train` and `study`: two upward uses, reported with file and line.
    let layers: Vec<String> = ["error", "model", "train", "study"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let m = Module {
        file: "src/model/gmm/em.rs".into(),
        path: module,
        uses: scan(text, &["model".into(), "gmm".into(), "em".into()]),
    };
    let bad = upward(&layers, &[m]);
    assert_eq!(bad.len(), 4, "{bad:?}");
    assert!(
        bad[0].starts_with("src/model/gmm/em.rs:1: layer `model` uses `crate::train::run::Run`")
    );
    assert!(bad[2].starts_with("src/model/gmm/em.rs:3: "));

    // A cycle inside a layer is found; a child using its parent is not a cycle.
    let module = |p: &str, uses: &[&str]| Module {
        file: format!("src/{}.rs", p.replace("::", "/")).into(),
        path: p.split("::").map(String::from).collect(),
        uses: uses
            .iter()
            .map(|u| Use {
                path: u.split("::").map(String::from).collect(),
                line: 1,
                test: false,
            })
            .collect(),
    };
    let ms = [
        module("model", &["model::gmm::Gmm"]),
        module("model::gmm", &["model::Thing", "model::tree::Tree"]),
        module("model::tree", &["model::gmm::x"]),
    ];
    let found = cycles(&ms);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("model::gmm -> model::tree")
            && found[0].contains("model::tree -> model::gmm")
    );
    assert!(cycles(&ms[..2]).is_empty());
}
