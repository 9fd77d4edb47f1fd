//! Writing frames as PNG files.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use allsource_gpu::Image;

use crate::Error;

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
