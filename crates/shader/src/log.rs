//! Driver info logs, parsed into entries: Mesa (`0:3(31): error: ...`), NVIDIA (`0(3) : error C1503: ...`, with
//! `Vertex info` / `Link info` headers), and glslang, AMD and ANGLE (`ERROR: 0:3: ...`, `ERROR: file.glsl:3: ...`).
//! Lines with no location (most link errors) become entries without a line; continuation lines join the entry
//! before them.

use allsource_live::Severity;

use crate::Stage;

/// One message of an info log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// The source-string number the driver printed (0 unless a `#line L S` changed it).
    pub source: Option<u32>,
    /// 1-based line in the text handed to the driver.
    pub line: Option<u32>,
    /// 1-based column, where the driver gives one (Mesa does). Mesa counts it on its preprocessed line, where every
    /// run of whitespace (and each comment) is one space: see [`original_column`].
    pub column: Option<u32>,
    /// Whose format the entry was in.
    pub dialect: Dialect,
    pub severity: Severity,
    /// The stage a link log's section header named (NVIDIA's `Vertex info`), or that the message names.
    pub stage: Option<Stage>,
    pub message: String,
}

/// The log formats this parser knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Mesa,
    Nvidia,
    Glslang,
    /// A message with no location (`error: ...`), or text the parser did not recognise.
    Plain,
}

/// Turns a Mesa column (counted on the preprocessed line, where glcpp has replaced each run of spaces, tabs and
/// comments by one space) into the column of the same character in the line as written. Columns are 1-based.
pub fn original_column(line: &str, mesa_column: u32) -> u32 {
    let chars: Vec<char> = line.chars().collect();
    let mut collapsed = 0u32;
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let mut blank = false;
        loop {
            if i < chars.len() && (chars[i] == ' ' || chars[i] == '\t') {
                i += 1;
                blank = true;
            } else if i + 1 < chars.len() && chars[i] == '/' && chars[i + 1] == '*' {
                match line_find(&chars, i + 2, "*/") {
                    Some(end) => {
                        i = end + 2;
                        blank = true;
                    }
                    None => break,
                }
            } else {
                break;
            }
        }
        if blank {
            collapsed += 1;
            if collapsed >= mesa_column {
                return start as u32 + 1;
            }
            continue;
        }
        collapsed += 1;
        if collapsed >= mesa_column {
            return i as u32 + 1;
        }
        i += 1;
    }
    mesa_column
}

fn line_find(chars: &[char], from: usize, needle: &str) -> Option<usize> {
    let needle: Vec<char> = needle.chars().collect();
    (from..chars.len().saturating_sub(needle.len() - 1)).find(|&i| chars[i..i + needle.len()] == needle[..])
}

pub fn parse_log(log: &str) -> Vec<LogEntry> {
    let mut entries: Vec<LogEntry> = Vec::new();
    let mut section: Option<Stage> = None;
    for raw in log.lines() {
        let line = raw.trim();
        if line.is_empty() || line.chars().all(|c| c == '-') {
            continue;
        }
        if let Some(header) = section_header(line) {
            section = header;
            continue;
        }
        if is_glslang_summary(line) {
            continue;
        }
        let mut entry = parse_mesa(line)
            .or_else(|| parse_nvidia(line))
            .or_else(|| parse_glslang(line))
            .or_else(|| parse_bare(line));
        match entry.as_mut() {
            Some(entry) if entries.last().is_some_and(|previous| continues(previous, entry)) => {
                if let Some(previous) = entries.last_mut() {
                    previous.message.push_str("\n  ");
                    previous.message.push_str(&entry.message);
                }
            }
            Some(entry) => {
                entry.stage = section.or_else(|| stage_named_in(&entry.message));
                entries.push(entry.clone());
            }
            None => match entries.last_mut() {
                Some(previous) => {
                    previous.message.push('\n');
                    previous.message.push_str(line);
                }
                None => entries.push(LogEntry {
                    source: None,
                    line: None,
                    column: None,
                    severity: Severity::Note,
                    dialect: Dialect::Plain,
                    stage: section,
                    message: line.to_owned(),
                }),
            },
        }
    }
    entries
}

/// Whether Mesa's `entry` only follows from `previous` and belongs in it as a note: the overloads Mesa lists, each
/// as an error of its own, after "candidates are:"; and an error of an expression around an earlier error on the
/// same line, starting where it starts or before (Mesa reports the inner one first: an undeclared name, then the
/// call that got an argument of type `error`, or the initializer that is not constant). One mistake is then one diagnostic, not one per overload of the function it was passed to.
fn continues(previous: &LogEntry, entry: &LogEntry) -> bool {
    let mesa = previous.dialect == Dialect::Mesa && entry.dialect == Dialect::Mesa;
    if !mesa || (previous.source, previous.line) != (entry.source, entry.line) {
        return false;
    }
    // At the column of the error it follows, or before it (the call around an argument that was wrong).
    let around = entry.column.zip(previous.column).is_some_and(|(outer, inner)| outer <= inner);
    // An overload Mesa lists, `vec3 mix(vec3, vec3, float)`, after a "candidates are:" it follows.
    let listing = previous.message.contains("candidates are:");
    let signature = entry.message.split_once('(').is_some_and(|(head, _)| head.split_whitespace().count() == 2)
        && entry.message.ends_with(')');
    let candidate = listing && around && signature;
    let enclosing = previous.severity == Severity::Error
        && entry.severity == Severity::Error
        && around
        && is_cascade(&entry.message);
    candidate || enclosing
}

/// Mesa's messages about an expression one of whose operands was already wrong (its type is `error`): said of
/// the expression around a mistake, never a mistake of their own. (An unknown function name, a second undeclared
/// name, a type mismatch of its own are mistakes of their own and stay apart.)
fn is_cascade(message: &str) -> bool {
    let error_operand = ["(error", "error,", "error)"].iter().any(|t| message.contains(t));
    let about_operands = [
        "operands to arithmetic operators must be numeric",
        "from a non-numeric data type",
        "must be a constant expression",
        "could not implicitly convert",
    ]
    .iter()
    .any(|t| message.contains(t));
    error_operand || about_operands
}

/// NVIDIA's `Vertex info` ... `Link info` headers: Some(stage) for a stage, Some(None) for the link section.
fn section_header(line: &str) -> Option<Option<Stage>> {
    let name = line.strip_suffix(" info")?.to_ascii_lowercase();
    Some(match name.as_str() {
        "vertex" => Some(Stage::Vertex),
        "tessellation control" | "tess control" => Some(Stage::TessControl),
        "tessellation evaluation" | "tess evaluation" => Some(Stage::TessEvaluation),
        "geometry" => Some(Stage::Geometry),
        "fragment" => Some(Stage::Fragment),
        "compute" => Some(Stage::Compute),
        "link" => None,
        _ => return None,
    })
}

/// glslang's closing line: `1 compilation errors.  No code generated.`
fn is_glslang_summary(line: &str) -> bool {
    let rest = line.strip_prefix("ERROR: ").unwrap_or(line);
    rest.split_once(' ').is_some_and(|(n, tail)| n.parse::<u32>().is_ok() && tail.starts_with("compilation error"))
}

/// Leading decimal digits of `s` and the rest.
fn number(s: &str) -> Option<(u32, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// `error`, `warning`, `preprocessor error`, `fatal error`... as a severity.
fn severity_of(word: &str) -> Option<Severity> {
    let word = word.to_ascii_lowercase();
    if word.contains("error") {
        Some(Severity::Error)
    } else if word.contains("warning") {
        Some(Severity::Warning)
    } else if word.contains("note") || word.contains("info") {
        Some(Severity::Note)
    } else {
        None
    }
}

/// Mesa: `0:3(31): error: message`.
fn parse_mesa(line: &str) -> Option<LogEntry> {
    let (source, rest) = number(line)?;
    let (row, rest) = number(rest.strip_prefix(':')?)?;
    let (column, rest) = number(rest.strip_prefix('(')?)?;
    let rest = rest.strip_prefix("):")?.trim_start();
    let (kind, message) = rest.split_once(':')?;
    Some(LogEntry {
        source: Some(source),
        line: Some(row),
        column: Some(column),
        dialect: Dialect::Mesa,
        severity: severity_of(kind)?,
        stage: None,
        message: message.trim().to_owned(),
    })
}

/// NVIDIA: `0(3) : error C1503: message`.
fn parse_nvidia(line: &str) -> Option<LogEntry> {
    let (source, rest) = number(line)?;
    let (row, rest) = number(rest.strip_prefix('(')?)?;
    let rest = rest.strip_prefix(')')?.trim_start().strip_prefix(':')?.trim_start();
    let (kind, message) = rest.split_once(':')?;
    let mut words = kind.split_whitespace();
    let severity = severity_of(words.next()?)?;
    let code = words.next();
    let message = match code {
        Some(code) => format!("{} ({code})", message.trim()),
        None => message.trim().to_owned(),
    };
    Some(LogEntry {
        source: Some(source),
        line: Some(row),
        column: None,
        dialect: Dialect::Nvidia,
        severity,
        stage: None,
        message,
    })
}

/// glslang, AMD, ANGLE: `ERROR: 0:3: message` or `WARNING: file.glsl:3: message`.
fn parse_glslang(line: &str) -> Option<LogEntry> {
    let (kind, rest) = line.split_once(": ")?;
    if kind.chars().any(|c| c.is_ascii_lowercase()) {
        return None;
    }
    let severity = severity_of(kind)?;
    // `SOURCE:LINE: message`, where SOURCE is a number or a file name (which may itself hold no colon).
    let located = rest.split_once(':').and_then(|(source, tail)| {
        let (row, tail) = number(tail)?;
        let message = tail.strip_prefix(':')?.trim();
        Some((source.trim().parse::<u32>().ok(), row, message))
    });
    Some(match located {
        Some((source, row, message)) => LogEntry {
            source,
            line: Some(row),
            column: None,
            dialect: Dialect::Glslang,
            severity,
            stage: None,
            message: message.to_owned(),
        },
        None => LogEntry {
            source: None,
            line: None,
            column: None,
            dialect: Dialect::Glslang,
            severity,
            stage: None,
            message: rest.trim().to_owned(),
        },
    })
}

/// A message with a severity and no location: `error: message` (Mesa's and NVIDIA's link errors).
fn parse_bare(line: &str) -> Option<LogEntry> {
    let (kind, message) = line.split_once(':')?;
    if kind.len() > 24 {
        return None;
    }
    let severity = severity_of(kind)?;
    Some(LogEntry {
        source: None,
        line: None,
        column: None,
        dialect: Dialect::Plain,
        severity,
        stage: None,
        message: message.trim().to_owned(),
    })
}

/// The stage a link message is about, when it names one (`fragment shader input ...`).
fn stage_named_in(message: &str) -> Option<Stage> {
    let lower = message.to_ascii_lowercase();
    let candidates = [
        ("tessellation control shader", Stage::TessControl),
        ("tessellation evaluation shader", Stage::TessEvaluation),
        ("vertex shader", Stage::Vertex),
        ("geometry shader", Stage::Geometry),
        ("fragment shader", Stage::Fragment),
        ("compute shader", Stage::Compute),
    ];
    candidates.iter().filter_map(|(name, stage)| lower.find(name).map(|at| (at, *stage))).min().map(|(_, s)| s)
}
