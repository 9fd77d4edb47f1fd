//! One mistake, one diagnostic: what Mesa reports as a cascade of errors (the overloads of a call it could not
//! match, each an "error" of its own; the call around an undeclared name) folds into the first error as notes,
//! checked on Mesa 22's own log lines (and end to end on this machine's driver in allsource-engine's
//! tests/check.rs).

use allsource_shader::parse_log;

/// Mesa 22.3.6 (llvmpipe) on `o = vec4(mix(nope, vec3(1.0), 0.5), 1.0);` at line 3: the undeclared name, the call
/// it made fail, and the 36 overloads of `mix` (abridged to four here).
const UNDECLARED: &str = "0:3(18): error: `nope' undeclared
0:3(14): error: no matching function for call to `mix(error, vec3, float)'; candidates are:
0:3(14): error:    float mix(float, float, float)
0:3(14): error:    vec2 mix(vec2, vec2, float)
0:3(14): error:    vec3 mix(vec3, vec3, float)
0:3(14): error:    vec4 mix(vec4, vec4, float)
";

#[test]
fn an_undeclared_name_is_one_error_with_the_failed_call_and_its_candidates_as_notes() {
    let entries = parse_log(UNDECLARED);
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let e = &entries[0];
    assert_eq!((e.line, e.column), (Some(3), Some(18)));
    let lines: Vec<&str> = e.message.lines().map(str::trim).collect();
    assert_eq!(lines[0], "`nope' undeclared");
    assert_eq!(lines[1], "no matching function for call to `mix(error, vec3, float)'; candidates are:");
    assert_eq!(
        &lines[2..],
        [
            "float mix(float, float, float)",
            "vec2 mix(vec2, vec2, float)",
            "vec3 mix(vec3, vec3, float)",
            "vec4 mix(vec4, vec4, float)"
        ]
    );
}

#[test]
fn a_call_with_no_matching_overload_keeps_its_candidates_and_other_errors_stay_apart() {
    let log = "0:2(9): error: no matching function for call to `mix(float)'; candidates are:
0:2(9): error:    float mix(float, float, float)
0:2(9): error:    vec2 mix(vec2, vec2, float)
0:5(3): error: `a' undeclared
0:5(10): error: `b' undeclared
0:7(1): warning: unused variable
";
    let entries = parse_log(log);
    let firsts: Vec<(Option<u32>, Option<u32>, &str)> =
        entries.iter().map(|e| (e.line, e.column, e.message.lines().next().unwrap())).collect();
    assert_eq!(
        firsts,
        [
            (Some(2), Some(9), "no matching function for call to `mix(float)'; candidates are:"),
            (Some(5), Some(3), "`a' undeclared"),
            (Some(5), Some(10), "`b' undeclared"),
            (Some(7), Some(1), "unused variable"),
        ],
        "two names undeclared on one line, left to right, are two mistakes"
    );
    // A misspelled function around a misspelled name: Mesa reports the name first, the call at an earlier column.
    let two = "0:22(16): error: `uvv' undeclared\n0:22(9): error: no function with name 'lenght'\n";
    assert_eq!(parse_log(two).len(), 2, "two mistakes of their own: {:#?}", parse_log(two));
    assert_eq!(entries[0].message.lines().count(), 3);
}
