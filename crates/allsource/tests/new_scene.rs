//! `allsource new DIR --template T`: each template makes a scene that builds without a warning and renders a picture
//! that is not one flat colour; a directory holding a scene is refused.

use std::collections::HashSet;
mod common;

use common::{allsource, fresh_dir, run};

#[test]
fn each_template_makes_a_scene_that_builds_cleanly_and_draws_a_picture() {
    let work = fresh_dir("new", "templates");
    for template in ["lua", "shader", "shadertoy"] {
        let scene = work.join(template);
        let made = run(allsource(&["new"]).arg(&scene).args(["--template", template]));
        assert!(made.status.success(), "{template}: {}", String::from_utf8_lossy(&made.stderr));
        let check = run(allsource(&["check"]).arg(&scene));
        let said = String::from_utf8_lossy(&check.stderr);
        assert!(check.status.success() && said.contains("0 error(s), 0 warning(s)"), "{template}: {said}");
        let png = work.join(format!("{template}.png"));
        let render =
            run(allsource(&["render"]).arg(&scene).args(["--frames", "30", "--size", "32x18", "--out"]).arg(&png));
        assert!(render.status.success(), "{template}: {}", String::from_utf8_lossy(&render.stderr));
        let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut rgba = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut rgba).unwrap();
        let colours: HashSet<&[u8]> = rgba.chunks(4).collect();
        assert!(colours.len() > 8, "{template}: {} colours: not a picture", colours.len());
    }
    // Not over a scene that is there.
    let again = run(allsource(&["new"]).arg(work.join("lua")).args(["--template", "shader"]));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("main.lua exists"));
}
