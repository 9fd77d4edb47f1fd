//! The gallery (examples/, listed in examples/gallery.txt): every scene renders headless through `allsource render`
//! without a warning or an error, and its last frame has real content (many colours, contrast); every scene is
//! listed, and its picture is in docs/gallery and shown in the README.

mod common;

use common::{allsource, fresh_dir, run};
use std::path::Path;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

/// The scenes of examples/gallery.txt with the frame each picture shows.
fn gallery() -> Vec<(String, u64)> {
    let list = std::fs::read_to_string(Path::new(ROOT).join("examples/gallery.txt")).unwrap();
    list.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (name, frames) = l.split_once(' ').unwrap();
            (name.to_owned(), frames.trim().parse().unwrap())
        })
        .collect()
}

#[test]
fn every_example_is_in_the_gallery_with_its_picture_in_the_readme() {
    let listed: Vec<String> = gallery().into_iter().map(|(name, _)| name).collect();
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    for entry in std::fs::read_dir(Path::new(ROOT).join("examples")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_dir() {
            let name = entry.file_name().to_string_lossy().into_owned();
            assert!(listed.contains(&name), "examples/{name} is not in examples/gallery.txt");
        }
    }
    assert!(listed.len() >= 7, "{listed:?}");
    for name in &listed {
        let picture = format!("docs/gallery/{name}.png");
        assert!(Path::new(ROOT).join(&picture).is_file(), "{picture} is missing: run scripts/gallery");
        assert!(readme.contains(&picture), "README.md does not show {picture}");
    }
}

#[test]
fn every_gallery_scene_renders_without_a_warning_and_shows_real_content() {
    let dir = fresh_dir("gallery", "render");
    for (name, frames) in gallery() {
        let out = dir.join(format!("{name}.png"));
        let scene = Path::new(ROOT).join("examples").join(&name);
        let output = run(allsource(&["render", "--size", "160x90", "--frames", &frames.to_string(), "--out"])
            .arg(&out)
            .arg(&scene));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{name}: {stderr}");
        let bad: Vec<&str> = stderr.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).collect();
        assert!(bad.is_empty(), "{name}: {}", bad.join("\n"));
        let image = image::open(&out).unwrap().to_rgb8();
        let mut colours: Vec<[u8; 3]> = image.pixels().map(|p| p.0).collect();
        let luma: Vec<f64> =
            colours.iter().map(|c| 0.2126 * c[0] as f64 + 0.7152 * c[1] as f64 + 0.0722 * c[2] as f64).collect();
        let mean = luma.iter().sum::<f64>() / luma.len() as f64;
        let spread = (luma.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / luma.len() as f64).sqrt();
        colours.sort_unstable();
        colours.dedup();
        assert!(colours.len() >= 40, "{name}: only {} colours", colours.len());
        assert!(spread >= 12.0, "{name}: flat picture (luminance spread {spread:.1})");
    }
}
