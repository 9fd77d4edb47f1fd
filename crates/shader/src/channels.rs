//! What a Shadertoy pass's `iChannel0..3` read, as its file says with `#pragma channel N SOURCE [options]`:
//!
//! ```glsl
//! #pragma channel 0 buffer_a                 // Buffer A: this frame's when drawn before this pass, else the last
//! #pragma channel 1 rocks.png filter=mipmap wrap=repeat
//! #pragma channel 2 keyboard
//! #pragma channel 3 cubemap sky.png          // sky.png, sky_1.png ... sky_5.png: +X, -X, +Y, -Y, +Z, -Z
//! ```
//!
//! A file with no `#pragma channel` line reads its own previous frame on `iChannel0` (a feedback loop with no
//! set-up); once a file names any channel, only the channels it names are bound, and the others read black.

use allsource_live::Severity;

use crate::directive;

/// How a texture is filtered when sampled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Filter {
    Nearest,
    Linear,
    /// Linear between mipmap levels (trilinear).
    Mipmap,
}

/// What coordinates outside [0, 1] read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wrap {
    Clamp,
    Repeat,
}

/// What a channel reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Nothing: black.
    Nothing,
    /// This pass's own previous frame.
    Previous,
    /// Buffer A..D (0..3): the frame it drew last, which is this frame's when it is drawn before this pass.
    Buffer(u8),
    /// An image file (PNG or JPEG), relative to the shader file's directory.
    Image(String),
    /// A cube map from six image files: the one named and five more with `_1` ... `_5` before the extension.
    Cubemap(String),
    /// Shadertoy's keyboard: 256 x 3 texels of JavaScript key codes; rows: held, pressed this frame, toggled.
    Keyboard,
}

/// One channel: its source and how it is sampled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub source: Source,
    pub filter: Filter,
    pub wrap: Wrap,
    /// Images only: the image's top row is at the top (t = 1), as Shadertoy's `vflip` (on by default).
    pub vflip: bool,
}

impl Channel {
    /// A channel reading `source` with Shadertoy's defaults for its kind.
    pub fn new(source: Source) -> Channel {
        let (filter, wrap, vflip) = match source {
            Source::Image(_) => (Filter::Mipmap, Wrap::Repeat, true),
            Source::Cubemap(_) => (Filter::Mipmap, Wrap::Clamp, false),
            Source::Keyboard | Source::Nothing => (Filter::Nearest, Wrap::Clamp, false),
            Source::Previous | Source::Buffer(_) => (Filter::Linear, Wrap::Clamp, false),
        };
        Channel { source, filter, wrap, vflip }
    }

    /// The GLSL sampler type of `iChannelN` for this channel.
    pub fn sampler_type(&self) -> &'static str {
        if matches!(self.source, Source::Cubemap(_)) { "samplerCube" } else { "sampler2D" }
    }
}

/// The four channels of a file, from its `#pragma channel` lines (`lines`: the file's lines, comments blanked), and
/// the problems found as (0-based line, severity, message).
pub(crate) fn read_channels<'a>(
    lines: impl Iterator<Item = &'a str>,
) -> ([Channel; 4], Vec<(usize, Severity, String)>) {
    let mut channels: [Option<Channel>; 4] = Default::default();
    let mut problems = Vec::new();
    let mut any = false;
    for (i, line) in lines.enumerate() {
        let Some(words) = channel_pragma(line) else { continue };
        any = true;
        match parse(words) {
            Ok((n, channel)) => {
                if channels[n].is_some() {
                    problems.push((i, Severity::Warning, format!("channel {n} is set twice: this later line counts")));
                }
                channels[n] = Some(channel);
            }
            Err(message) => problems.push((i, Severity::Error, message)),
        }
    }
    let mut out = channels.map(|c| c.unwrap_or_else(|| Channel::new(Source::Nothing)));
    if !any {
        out[0] = Channel::new(Source::Previous);
    }
    (out, problems)
}

/// The words after `#pragma channel`, when `line` is one.
pub(crate) fn channel_pragma(line: &str) -> Option<&str> {
    let Some(("pragma", rest)) = directive(line) else { return None };
    rest.strip_prefix("channel").filter(|w| w.is_empty() || w.starts_with([' ', '\t']))
}

const USAGE: &str = "expected `#pragma channel N SOURCE [filter=nearest|linear|mipmap] [wrap=clamp|repeat] \
                     [vflip=true|false]`, N from 0 to 3, SOURCE one of buffer_a ... buffer_d, previous, keyboard, \
                     none, an image file (.png, .jpg), or cubemap FILE";

fn parse(words: &str) -> Result<(usize, Channel), String> {
    let mut words = Words(words.trim());
    let n = words.next().and_then(|w| w.parse::<usize>().ok()).filter(|n| *n < 4).ok_or(USAGE)?;
    let word = words.next().ok_or(USAGE)?;
    let source = match word.to_ascii_lowercase().as_str() {
        "none" => Source::Nothing,
        "previous" => Source::Previous,
        "keyboard" => Source::Keyboard,
        "cubemap" => Source::Cubemap(words.next().filter(|f| is_image(f)).ok_or(USAGE)?.to_owned()),
        lower => match lower.strip_prefix("buffer_").map(str::as_bytes) {
            Some([letter @ b'a'..=b'd']) => Source::Buffer(letter - b'a'),
            _ if is_image(word) => Source::Image(word.to_owned()),
            _ => return Err(format!("unknown channel source `{word}`: {USAGE}")),
        },
    };
    let mut channel = Channel::new(source);
    for option in words {
        let (key, value) = option.split_once('=').ok_or_else(|| format!("`{option}`: {USAGE}"))?;
        match (key, value) {
            ("filter", "nearest") => channel.filter = Filter::Nearest,
            ("filter", "linear") => channel.filter = Filter::Linear,
            ("filter", "mipmap") => channel.filter = Filter::Mipmap,
            ("wrap", "clamp") => channel.wrap = Wrap::Clamp,
            ("wrap", "repeat") => channel.wrap = Wrap::Repeat,
            ("vflip", "true") => channel.vflip = true,
            ("vflip", "false") => channel.vflip = false,
            _ => return Err(format!("`{option}`: {USAGE}")),
        }
    }
    Ok((n, channel))
}

fn is_image(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg"].iter().any(|e| lower.ends_with(e))
}

/// Words split at white space, where a word in double quotes may hold spaces (`"my photo.png"`).
struct Words<'a>(&'a str);

impl<'a> Iterator for Words<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.0.trim_start();
        if rest.is_empty() {
            return None;
        }
        let (word, after) = match rest.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        self.0 = after;
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> ([Channel; 4], Vec<(usize, Severity, String)>) {
        read_channels(text.lines())
    }

    #[test]
    fn without_pragmas_channel_0_is_the_previous_frame() {
        let (channels, problems) = read("void mainImage(out vec4 c, in vec2 p) {}\n");
        assert!(problems.is_empty());
        assert_eq!(channels[0].source, Source::Previous);
        assert!(channels[1..].iter().all(|c| c.source == Source::Nothing));
    }

    #[test]
    fn each_source_and_option_is_read() {
        let text = "#pragma channel 0 buffer_b\n#pragma channel 1 \"my rocks.JPG\" filter=nearest vflip=false\n\
                    #pragma channel 2 keyboard\n#  pragma   channel 3 cubemap sky.png wrap=repeat\n";
        let (channels, problems) = read(text);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            channels[0],
            Channel { source: Source::Buffer(1), filter: Filter::Linear, wrap: Wrap::Clamp, vflip: false }
        );
        assert_eq!(
            channels[1],
            Channel {
                source: Source::Image("my rocks.JPG".into()),
                filter: Filter::Nearest,
                wrap: Wrap::Repeat,
                vflip: false
            }
        );
        assert_eq!(channels[2].source, Source::Keyboard);
        assert_eq!(channels[3].source, Source::Cubemap("sky.png".into()));
        assert_eq!((channels[3].wrap, channels[3].sampler_type()), (Wrap::Repeat, "samplerCube"));
    }

    #[test]
    fn once_any_channel_is_named_the_others_read_nothing() {
        let (channels, _) = read("#pragma channel 2 buffer_a\n");
        assert_eq!(channels[0].source, Source::Nothing);
        assert_eq!(channels[2].source, Source::Buffer(0));
    }

    #[test]
    fn mistakes_are_reported_on_their_lines() {
        let text = "#pragma channel 4 keyboard\n#pragma channel 0 buffer_e\n#pragma channel 1 a.png filter=cubic\n\
                    #pragma channel 2 cubemap\n#pragma channels\n#pragma channel 0 none\n#pragma channel 0 previous\n";
        let (channels, problems) = read(text);
        let lines: Vec<(usize, Severity)> = problems.iter().map(|p| (p.0, p.1)).collect();
        let e = Severity::Error;
        assert_eq!(lines, [(0, e), (1, e), (2, e), (3, e), (6, Severity::Warning)], "{problems:?}");
        assert!(problems[1].2.contains("`buffer_e`"), "{}", problems[1].2);
        assert_eq!(channels[0].source, Source::Previous, "the later line counts");
    }
}
