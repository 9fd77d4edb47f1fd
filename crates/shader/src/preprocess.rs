//! Just enough of the GLSL preprocessor to know which lines the driver will compile: comments, and the conditional
//! groups (`#if`, `#ifdef`, `#ifndef`, `#elif`, `#else`, `#endif`) with the object-like `#define`s they test. The
//! engine expands an `#include` only where it is compiled (so `#ifdef`-ed includes and include guards work) and
//! looks for Shadertoy's `mainImage` in code only. The driver still sees, and evaluates, every directive; where this
//! evaluation cannot tell (a function-like macro, an expression it does not parse), a group counts as compiled,
//! which is what the engine did before it read conditions at all.

use std::collections::HashMap;

use crate::directive;

/// The text with every comment replaced by spaces (newlines kept, so lines and columns stay where they were).
pub fn blank_comments(text: &str) -> String {
    blank(text, false).0
}

/// As [`blank_comments`], for text that starts inside a block comment when `inside`; also says whether it ends
/// inside one (a line read after another carries the comment over).
fn blank(text: &str, mut inside: bool) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if inside {
            out.push(if c == '\n' { '\n' } else { ' ' });
            if c == '*' && chars.peek() == Some(&'/') {
                chars.next();
                out.push(' ');
                inside = false;
            }
            continue;
        }
        match (c, chars.peek()) {
            ('/', Some('/')) => {
                while let Some(&n) = chars.peek() {
                    if n == '\n' {
                        break;
                    }
                    chars.next();
                    out.push(' ');
                }
                out.push(' ');
            }
            ('/', Some('*')) => {
                chars.next();
                out.push_str("  ");
                inside = true;
            }
            _ => out.push(c),
        }
    }
    (out, inside)
}

/// The code of `text` the driver compiles: comments blanked, and the lines of conditional groups it skips blanked too
/// (newlines kept, so lines stay where they were). Includes are not followed: after one, a name this file does not
/// define may be defined there. With `surely`, only lines compiled for certain; otherwise also those that may be.
pub fn compiled_code(text: &str, version: u32, es: bool, surely: bool) -> String {
    let mut conditions = Conditions::new(version, es);
    let code = blank_comments(text);
    let mut out = String::with_capacity(code.len());
    for (line, code_line) in text.lines().zip(code.lines()) {
        let compiled = conditions.read(line);
        if compiled && (!surely || conditions.surely_active()) {
            out.push_str(code_line);
        }
        if compiled && directive(code_line).is_some_and(|(name, _)| name == "include") {
            conditions.include_not_read();
        }
        out.push('\n');
    }
    out
}

/// One conditional group being read.
#[derive(Clone, Copy)]
struct Group {
    /// The lines around the group are compiled.
    outer: bool,
    /// A branch of the group was taken already.
    taken: bool,
    /// A branch's condition could not be worked out: every later branch may be compiled too.
    unsure: bool,
    /// The lines of the current branch are compiled.
    active: bool,
    /// Whether they are is certain (no condition this reading could not tell decided it).
    sure: bool,
}

/// The preprocessor state while the lines of one stage are read in order (its own file and what it includes).
#[derive(Default)]
pub struct Conditions {
    defines: HashMap<String, Macro>,
    /// Names the driver is known not to define for this stage (`GL_ES` on desktop GL).
    undefined: Vec<&'static str>,
    /// An `#include` was passed by without being read: a name not defined here may be defined there.
    includes_unread: bool,
    groups: Vec<Group>,
    in_comment: bool,
    /// A directive whose line ended in `\\`: its text so far, acted on once its last line is read.
    continued: Option<String>,
}

#[derive(Clone)]
enum Macro {
    /// An object-like macro and its replacement text.
    Object(String),
    /// A function-like macro: defined, but its value is not worked out here.
    Function,
    /// Defined or undefined where this reading is not sure the line is compiled: it cannot tell.
    Unknown,
}

impl Conditions {
    /// For a stage of GLSL `version` (`es`: an OpenGL ES shading language version, `#version 300 es`). The driver
    /// defines macros of its own: `__VERSION__`, `GL_ES` or `GL_core_profile`, `GL_FRAGMENT_PRECISION_HIGH`, and one
    /// `GL_<extension>` per extension it has, which this reading does not know: a condition on a `GL_` name it does
    /// not know is one it cannot tell (both branches count as compiled).
    pub fn new(version: u32, es: bool) -> Conditions {
        let mut c = Conditions::default();
        let one = || Macro::Object("1".into());
        c.defines.insert("__VERSION__".into(), Macro::Object(version.to_string()));
        c.defines.insert("GL_FRAGMENT_PRECISION_HIGH".into(), one());
        if es {
            c.defines.insert("GL_ES".into(), one());
            c.undefined.push("GL_core_profile");
        } else {
            c.defines.insert("GL_core_profile".into(), one());
            c.undefined.push("GL_ES");
        }
        c
    }

    /// Whether `name` is defined: `None` for a driver's name this reading does not know, a macro defined or
    /// undefined where it was not sure of the line, or any name after an include it did not read.
    fn is_defined(&self, name: &str) -> Option<bool> {
        match self.defines.get(name) {
            Some(Macro::Unknown) => None,
            Some(_) => Some(true),
            None if name.starts_with("GL_") && !self.undefined.contains(&name) => None,
            None if self.includes_unread => None,
            None => Some(false),
        }
    }

    /// Whether the lines read now are compiled for certain (not only maybe).
    pub fn surely_active(&self) -> bool {
        self.groups.iter().all(|g| g.active && g.sure)
    }

    /// An `#include` was not followed (a reading of one file alone): names it may define are not known after it.
    pub fn include_not_read(&mut self) {
        self.includes_unread = true;
    }

    /// Whether the lines read now are compiled.
    pub fn active(&self) -> bool {
        self.groups.last().is_none_or(|g| g.active)
    }

    /// Reads one line: conditional directives and `#define`/`#undef` change the state. Returns whether the line is
    /// compiled as written (a conditional directive counts as compiled when the lines around its group are; a
    /// directive inside a comment does not).
    pub fn read(&mut self, line: &str) -> bool {
        let (code, inside) = blank(line, self.in_comment);
        self.in_comment = inside;
        // A directive continued over lines with `\\` is read whole at its last line; until then its lines are
        // compiled as the lines around it are.
        let ends_continued = |code: &str| code.trim_end().ends_with('\\');
        let code = match self.continued.take() {
            Some(mut joined) => {
                joined.push(' ');
                joined.push_str(code.trim_end().trim_end_matches('\\'));
                if ends_continued(&code) {
                    self.continued = Some(joined);
                    return self.active();
                }
                joined
            }
            None if directive(&code).is_some() && ends_continued(&code) => {
                self.continued = Some(code.trim_end().trim_end_matches('\\').to_owned());
                return self.active();
            }
            None => code,
        };
        let Some((name, rest)) = directive(&code) else {
            return self.active() && directive(line).is_none();
        };
        match name {
            "if" | "ifdef" | "ifndef" => {
                let outer = self.active();
                let value = match name {
                    "if" => self.evaluate(rest).map(|v| v != 0),
                    _ => self.is_defined(first_word(rest)).map(|d| d == (name == "ifdef")),
                };
                let (taken, unsure) = (value == Some(true), value.is_none());
                let active = outer && (taken || unsure);
                self.groups.push(Group { outer, taken, unsure, active, sure: !unsure });
                outer
            }
            "elif" | "else" => {
                let value = if name == "else" { Some(true) } else { self.evaluate(rest).map(|v| v != 0) };
                let Some(g) = self.groups.last_mut() else { return true };
                let yes = !g.taken && value == Some(true);
                // A branch this reading cannot decide may be the one taken; one it knows false never is.
                let maybe = g.unsure && !g.taken && value != Some(false);
                g.unsure |= value.is_none();
                g.active = g.outer && (yes || maybe);
                g.sure = !g.unsure;
                g.taken |= yes;
                g.outer
            }
            "endif" => self.groups.pop().is_none_or(|g| g.outer),
            "define" if self.active() => {
                let (macro_name, value) = split_define(rest);
                if !macro_name.is_empty() {
                    let value = if self.surely_active() { value } else { Macro::Unknown };
                    self.defines.insert(macro_name.to_owned(), value);
                }
                true
            }
            "undef" if self.active() => {
                if self.surely_active() {
                    self.defines.remove(first_word(rest));
                } else {
                    self.defines.insert(first_word(rest).to_owned(), Macro::Unknown);
                }
                true
            }
            _ => self.active(),
        }
    }

    /// The value of a `#if` expression, or `None` when this reading cannot tell.
    fn evaluate(&self, expression: &str) -> Option<i64> {
        let tokens = self.expand(&tokens(expression)?, 0)?;
        let mut parser = Parser { tokens: &tokens, at: 0, depth: 0 };
        let value = parser.ternary()?;
        (parser.at == tokens.len()).then_some(value)
    }

    /// Replaces `defined X` by 1 or 0 and object-like macros by their values; other identifiers are 0, as in C.
    /// Bounded in depth and in size (a macro of four copies of the one before, sixteen deep, is 4^16 tokens).
    fn expand(&self, input: &[Token], depth: usize) -> Option<Vec<Token>> {
        if depth > 16 || input.len() > 4096 {
            return None;
        }
        let mut out = Vec::with_capacity(input.len());
        let mut i = 0;
        while i < input.len() {
            match &input[i] {
                Token::Ident(word) if word == "defined" => {
                    let (name, used) = match (input.get(i + 1), input.get(i + 2), input.get(i + 3)) {
                        (Some(Token::Op("(")), Some(Token::Ident(n)), Some(Token::Op(")"))) => (n, 4),
                        (Some(Token::Ident(n)), _, _) => (n, 2),
                        _ => return None,
                    };
                    out.push(Token::Number(i64::from(self.is_defined(name)?)));
                    i += used;
                    continue;
                }
                Token::Ident(word) => match self.defines.get(word) {
                    Some(Macro::Object(value)) => {
                        out.extend(self.expand(&tokens(value)?, depth + 1)?);
                        if out.len() > 4096 {
                            return None;
                        }
                    }
                    Some(Macro::Function | Macro::Unknown) => return None,
                    None if self.is_defined(word).is_none() => return None,
                    None => out.push(Token::Number(0)),
                },
                other => out.push(other.clone()),
            }
            i += 1;
        }
        Some(out)
    }
}

fn first_word(text: &str) -> &str {
    text.split_whitespace().next().unwrap_or("")
}

/// `NAME value` or `NAME(args) body`.
fn split_define(rest: &str) -> (&str, Macro) {
    let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
    let (name, after) = rest.split_at(end);
    if after.starts_with('(') { (name, Macro::Function) } else { (name, Macro::Object(after.trim().to_owned())) }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Number(i64),
    Ident(String),
    Op(&'static str),
}

const OPS: [&str; 22] = [
    "&&", "||", "==", "!=", "<=", ">=", "<<", ">>", "(", ")", "!", "~", "+", "-", "*", "/", "%", "<", ">", "&", "|",
    "^",
];

fn tokens(text: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut rest = text.trim_start();
    while !rest.is_empty() {
        let c = rest.chars().next()?;
        if c.is_ascii_digit() {
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            let digits = rest[..end].trim_end_matches(['u', 'U', 'l', 'L']);
            let value = match digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
                Some(hex) => i64::from_str_radix(hex, 16).ok()?,
                None if digits.len() > 1 && digits.starts_with('0') => i64::from_str_radix(digits, 8).ok()?,
                None => digits.parse().ok()?,
            };
            out.push(Token::Number(value));
            rest = &rest[end..];
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_').unwrap_or(rest.len());
            out.push(Token::Ident(rest[..end].to_owned()));
            rest = &rest[end..];
        } else {
            let op = OPS.iter().find(|op| rest.starts_with(**op))?;
            out.push(Token::Op(op));
            rest = &rest[op.len()..];
        }
        rest = rest.trim_start();
    }
    Some(out)
}

/// C's precedence, lowest first, for the binary operators `#if` allows.
const LEVELS: [&[&str]; 10] = [
    &["||"],
    &["&&"],
    &["|"],
    &["^"],
    &["&"],
    &["==", "!="],
    &["<", ">", "<=", ">="],
    &["<<", ">>"],
    &["+", "-"],
    &["*", "/", "%"],
];

struct Parser<'a> {
    tokens: &'a [Token],
    at: usize,
    /// Parentheses and unary operators open: bounded, so hostile text cannot exhaust the stack.
    depth: usize,
}

impl Parser<'_> {
    fn ternary(&mut self) -> Option<i64> {
        self.binary(0)
    }

    fn binary(&mut self, level: usize) -> Option<i64> {
        if level == LEVELS.len() {
            return self.unary();
        }
        let mut left = self.binary(level + 1)?;
        while let Some(Token::Op(op)) = self.tokens.get(self.at) {
            if !LEVELS[level].contains(op) {
                break;
            }
            self.at += 1;
            let right = self.binary(level + 1)?;
            left = match *op {
                "||" => i64::from(left != 0 || right != 0),
                "&&" => i64::from(left != 0 && right != 0),
                "|" => left | right,
                "^" => left ^ right,
                "&" => left & right,
                "==" => i64::from(left == right),
                "!=" => i64::from(left != right),
                "<" => i64::from(left < right),
                ">" => i64::from(left > right),
                "<=" => i64::from(left <= right),
                ">=" => i64::from(left >= right),
                "<<" => left.checked_shl(u32::try_from(right).ok()?)?,
                ">>" => left.checked_shr(u32::try_from(right).ok()?)?,
                "+" => left.checked_add(right)?,
                "-" => left.checked_sub(right)?,
                "*" => left.checked_mul(right)?,
                "/" => left.checked_div(right)?,
                _ => left.checked_rem(right)?,
            };
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<i64> {
        self.depth += 1;
        let value = if self.depth > 64 { None } else { self.operand() };
        self.depth -= 1;
        value
    }

    fn operand(&mut self) -> Option<i64> {
        let token = self.tokens.get(self.at)?.clone();
        self.at += 1;
        match token {
            Token::Number(n) => Some(n),
            Token::Op("!") => Some(i64::from(self.unary()? == 0)),
            Token::Op("~") => Some(!self.unary()?),
            Token::Op("-") => self.unary()?.checked_neg(),
            Token::Op("+") => self.unary(),
            Token::Op("(") => {
                let value = self.ternary()?;
                (self.tokens.get(self.at) == Some(&Token::Op(")"))).then(|| self.at += 1)?;
                Some(value)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compiled(text: &str) -> Vec<usize> {
        let mut c = Conditions::new(450, false);
        text.lines().enumerate().filter(|(_, l)| c.read(l)).map(|(i, _)| i + 1).collect()
    }

    #[test]
    fn compiled_code_drops_what_the_driver_skips() {
        let text = "a();\n#if 0\nb();\n#else\nc(); // d\n#endif\n";
        assert_eq!(compiled_code(text, 450, false, false), "a();\n#if 0\n\n#else\nc();     \n#endif\n");
    }

    #[test]
    fn comments_become_spaces_and_keep_lines() {
        assert_eq!(blank_comments("a // b\nc /* d\ne */ f"), "a     \nc     \n     f");
    }

    #[test]
    fn conditional_groups_as_a_c_preprocessor_reads_them() {
        let text = "#define A 2\n#if A > 1 && defined(A)\nyes\n#elif 1\nno\n#else\nno\n#endif\n#ifdef B\nno\n#else\nyes\n#endif\n";
        assert_eq!(compiled(text), [1, 2, 3, 4, 6, 8, 9, 11, 12, 13]);
        let nested = "#if 0\n#if 1\nno\n#endif\n#else\nyes\n#endif\n";
        assert_eq!(compiled(nested), [1, 5, 6, 7]);
        // The guard of an included file, read twice: the second time its body is not compiled.
        let guard = "#ifndef G\n#define G\nbody\n#endif\n#ifndef G\n#define G\nbody\n#endif\n";
        assert_eq!(compiled(guard), [1, 2, 3, 4, 5, 8]);
        assert_eq!(compiled("#if __VERSION__ >= 450\nyes\n#endif\n"), [1, 2, 3]);
        assert_eq!(compiled("#ifdef GL_ES\nno\n#endif\n"), [1, 3]);
        assert_eq!(compiled("#ifdef GL_FRAGMENT_PRECISION_HIGH\nyes\n#else\nno\n#endif\n"), [1, 2, 3, 5]);
        // An extension's macro: the driver's to define; this reading cannot tell, so both branches count.
        assert_eq!(compiled("#ifdef GL_ARB_gpu_shader_fp64\nmaybe\n#else\nmaybe\n#endif\n"), [1, 2, 3, 4, 5]);
        assert_eq!(compiled("#if defined(GL_ARB_x) && 1\nmaybe\n#endif\n"), [1, 2, 3]);
    }

    #[test]
    fn a_define_where_the_reading_is_unsure_is_unknown_and_a_known_false_elif_is_not_compiled() {
        let text = "#ifdef GL_ARB_bindless_texture\n#define HAVE\n#endif\n#ifndef HAVE\nmaybe\n#endif\n";
        assert_eq!(compiled(text), [1, 2, 3, 4, 5, 6]);
        assert_eq!(compiled("#if GL_ARB_x\nmaybe\n#elif 0\nno\n#else\nmaybe\n#endif\n"), [1, 2, 3, 5, 6, 7]);
        let mut many = String::from("#define A0 1\n");
        for i in 1..=16 {
            many.push_str(&format!("#define A{i} A{p}+A{p}+A{p}+A{p}\n", p = i - 1));
        }
        many.push_str("#if A16\nmaybe\n#endif\n");
        assert_eq!(compiled(&many).len(), many.lines().count(), "too big to read: unsure, not a hang");
    }

    #[test]
    fn after_an_include_it_did_not_read_a_name_it_does_not_know_is_unsure() {
        let text = "#include \"cfg.glsl\"\n#ifndef NO_MAIN\nvoid main() {}\n#endif\n";
        assert!(!compiled_code(text, 450, false, true).contains("void main"), "not surely compiled");
        assert!(compiled_code(text, 450, false, false).contains("void main"), "but maybe");
    }

    #[test]
    fn what_it_cannot_evaluate_counts_as_compiled() {
        let deep = format!("#if {}1{}\nmaybe\n#endif\n", "(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(compiled(&deep), [1, 2, 3], "too deep to read, not a crash");
        assert_eq!(compiled(&format!("#if {}1\nmaybe\n#endif\n", "!".repeat(100_000))), [1, 2, 3]);
        assert_eq!(compiled("#define F(x) x\n#if F(1)\nmaybe\n#else\nmaybe\n#endif\n"), [1, 2, 3, 4, 5, 6]);
        assert_eq!(compiled("#if 1 +\nmaybe\n#endif\n"), [1, 2, 3]);
    }

    #[test]
    fn directives_inside_comments_are_not_read() {
        assert_eq!(compiled("/*\n#if 0\n*/\nyes\n"), [1, 3, 4], "a commented-out directive is not compiled");
        assert_eq!(compiled("// #if 0\nyes\n"), [1, 2]);
    }
}
