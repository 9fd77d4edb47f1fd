//! Writing frames as PNG files.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use allsource_gpu::Image;

use crate::Error;

/// Fails unless a PNG can be written at `path` (its directory exists and the file can be created or written),
/// before a run spends its frames on a picture it could not keep. Leaves an existing file as it was.
pub fn check_writable(path: &Path) -> Result<(), Error> {
    let io = |message: String| Error::Io { path: path.to_path_buf(), message };
    if path.is_dir() {
        return Err(io("is a directory: give a file name for the PNG".into()));
    }
    if path.exists() {
        return std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map(drop)
            .map_err(|e| io(format!("cannot write: {e}")));
    }
    File::create(path).map_err(|e| io(format!("cannot create: {e}")))?;
    std::fs::remove_file(path).map_err(|e| io(format!("cannot remove the test file: {e}")))
}

pub fn write_png(path: &Path, image: &Image) -> Result<(), Error> {
    let io = |message: String| Error::Io { path: path.to_path_buf(), message };
    let file = File::create(path).map_err(|e| io(format!("cannot create: {e}")))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), image.width, image.height);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| io(e.to_string()))?;
    writer.write_image_data(&image.pixels).map_err(|e| io(e.to_string()))?;
    writer.finish().map_err(|e| io(e.to_string()))
}
