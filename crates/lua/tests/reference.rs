//! docs/lua.md and the bindings name the same things: every name of the API has a section with an example, every
//! section names something that exists, and every function the VM's `gfx` and `input` tables hold is listed.

use std::collections::BTreeSet;

use allsource_lua::API;

mod common;
use common::Recorder;

fn reference() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/lua.md")).expect("docs/lua.md")
}

/// Names of `### \`name\`` headings and whether each section holds a ```lua example.
fn sections(doc: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for part in doc.split("\n### `").skip(1) {
        let name = part.split('`').next().unwrap_or("").to_owned();
        let body = part.split("\n## ").next().unwrap_or("");
        out.push((name, body.contains("```lua\n")));
    }
    out
}

#[test]
fn every_name_of_the_api_is_documented_with_an_example_and_nothing_else_is() {
    let doc = reference();
    let documented = sections(&doc);
    for (name, example) in &documented {
        assert!(example, "docs/lua.md: `{name}` has no ```lua example");
    }
    let documented: BTreeSet<&str> = documented.iter().map(|(n, _)| n.as_str()).collect();
    let api: BTreeSet<&str> = API.iter().copied().collect();
    let missing: Vec<_> = api.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&api).collect();
    assert!(missing.is_empty(), "in the bindings but not in docs/lua.md: {missing:?}");
    assert!(stale.is_empty(), "in docs/lua.md but not in the bindings: {stale:?}");
}

#[test]
fn every_function_the_vm_exposes_is_in_the_api_list() {
    let dir = std::env::temp_dir().join(format!("allsource-reference-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("main.lua"), "return {}\n").unwrap();
    let mut host = allsource_lua::ModuleHost::new(&dir, Recorder::default()).unwrap();
    let listed = host
        .eval(
            "local out = {}
             for _, t in ipairs({ 'gfx', 'input' }) do
               for k, v in pairs(_G[t]) do if type(v) == 'function' then out[#out + 1] = t .. '.' .. k end end
             end
             table.sort(out) return table.concat(out, ' ')",
        )
        .unwrap();
    for name in listed.split(' ') {
        assert!(API.contains(&name), "the VM has {name}, which the API list (and so docs/lua.md) lacks");
    }
    for name in API.iter().filter(|n| n.starts_with("gfx.") || n.starts_with("input.")) {
        assert!(listed.split(' ').any(|l| l == *name), "{name} is listed but the VM has no such function");
    }
}
