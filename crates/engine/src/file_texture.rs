//! Textures made from image files (PNG, JPEG): an image, or a cube map's six faces. Loaded, loaded again when a file
//! changes, and the last good pixels kept when the new ones cannot be read, with news for the console each time
//! the files go bad or come back. Shadertoy channels and Lua's `gfx.image` both use them.

use std::path::{Path, PathBuf};

use allsource_gpu::{Gl, ImageUpload, PixelTexture};
use allsource_live::{Stamp, stamp};

/// What a channel names that is read from files: an image, or a cube map's six faces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileTexture {
    /// The image, or the cube map's first face.
    pub(crate) path: PathBuf,
    pub(crate) cube: bool,
    /// How an image is stored: upright (Shadertoy's `vflip`), sRGB, mipmapped. Images only.
    pub(crate) how: ImageUpload,
}

impl FileTexture {
    /// The files it is made from: the image; or a cube map's `NAME.ext`, `NAME_1.ext` ... `NAME_5.ext` (Shadertoy's
    /// naming), in GL's face order +X, -X, +Y, -Y, +Z, -Z.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        if !self.cube {
            return vec![self.path.clone()];
        }
        let stem = self.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let ext = self.path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
        let face = |i: usize| match i {
            0 => self.path.clone(),
            i => self.path.with_file_name(format!("{stem}_{i}{ext}")),
        };
        (0..6).map(face).collect()
    }
}

/// Shadertoy's default and `gfx.image`'s: upright, linear values, mipmapped.
pub(crate) const UPRIGHT: ImageUpload = ImageUpload { flip: true, srgb: false, mipmaps: true };

/// A file texture and what is known of its files.
pub(crate) struct Loaded {
    pub(crate) what: FileTexture,
    stamps: Vec<Option<Stamp>>,
    pub(crate) texture: Option<PixelTexture>,
    /// Why the files as they are now could not be used, if they could not.
    pub(crate) problem: Option<String>,
}

/// News for the console about a texture's files: a problem, or `None` once they load again.
pub(crate) type TextureNews = (PathBuf, Option<String>);

impl Loaded {
    /// Loads `what` now.
    pub(crate) fn new(gl: &Gl, what: FileTexture) -> (Loaded, Option<TextureNews>) {
        let mut loaded = Loaded { what, stamps: Vec::new(), texture: None, problem: None };
        let news = loaded.load(gl);
        (loaded, news)
    }

    /// Loads again if a file changed since the last look.
    pub(crate) fn reload_if_changed(&mut self, gl: &Gl) -> Option<TextureNews> {
        let now: Vec<Option<Stamp>> = self.what.files().iter().map(|f| stamp(f)).collect();
        if now == self.stamps { None } else { self.load(gl) }
    }

    pub(crate) fn free(self, gl: &Gl) {
        if let Some(t) = self.texture {
            t.delete(gl);
        }
    }

    /// (Re)loads the files; on failure the last good texture stays. Returns news for the console when the state
    /// changed.
    pub(crate) fn load(&mut self, gl: &Gl) -> Option<TextureNews> {
        let files = self.what.files();
        self.stamps = files.iter().map(|f| stamp(f)).collect();
        let result = decode_all(&files).and_then(|images| self.upload(gl, images));
        let problem = match result {
            Ok(texture) => {
                if let Some(old) = self.texture.replace(texture) {
                    old.delete(gl);
                }
                None
            }
            Err(reason) => {
                let keeps =
                    if self.texture.is_some() { "the last good pixels stay" } else { "it reads black until it loads" };
                Some(format!("{reason}; {keeps}"))
            }
        };
        let changed = problem != self.problem;
        self.problem = problem;
        changed.then(|| (self.what.path.clone(), self.problem.clone()))
    }

    fn upload(&self, gl: &Gl, images: Vec<(PathBuf, image::RgbaImage)>) -> Result<PixelTexture, String> {
        let gl_error = |e: allsource_gpu::GpuError| e.to_string();
        if !self.what.cube {
            let (_, image) = &images[0];
            return PixelTexture::image(gl, image.width(), image.height(), image.as_raw(), self.what.how)
                .map_err(gl_error);
        }
        let size = images[0].1.width();
        if let Some((path, bad)) = images.iter().find(|(_, i)| i.width() != size || i.height() != size) {
            return Err(format!(
                "{}: a cube map's faces must be square and of one size ({size}x{size}); this one is {}x{}",
                path.display(),
                bad.width(),
                bad.height()
            ));
        }
        let faces: Vec<&[u8]> = images.iter().map(|(_, i)| i.as_raw().as_slice()).collect();
        let faces: [&[u8]; 6] = faces.try_into().map_err(|_| "a cube map needs six faces".to_owned())?;
        PixelTexture::cube(gl, size, faces).map_err(gl_error)
    }
}

/// Decodes each file (PNG or JPEG, told by its content) as RGBA8, or says which one could not be.
fn decode_all(files: &[PathBuf]) -> Result<Vec<(PathBuf, image::RgbaImage)>, String> {
    files.iter().map(|f| decode(f).map(|i| (f.clone(), i)).map_err(|e| format!("{}: {e}", f.display()))).collect()
}

/// The largest image side a channel loads: GL 4.5 guarantees textures of 16384 on every driver.
const MAX_SIDE: u32 = 16384;

fn decode(path: &Path) -> Result<image::RgbaImage, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it ({e})"))?;
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot read it ({e})"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    reader.limits(limits);
    let image = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            format!("too large to load: a channel's image is at most {MAX_SIDE} pixels a side")
        }
        e => format!("not an image allsource can read ({e})"),
    })?;
    Ok(image.into_rgba8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cube_map_is_six_files_named_as_shadertoy_names_them() {
        let what = FileTexture { path: PathBuf::from("scene/sky.png"), cube: true, how: UPRIGHT };
        let names: Vec<String> = what.files().iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "scene/sky.png",
                "scene/sky_1.png",
                "scene/sky_2.png",
                "scene/sky_3.png",
                "scene/sky_4.png",
                "scene/sky_5.png"
            ]
        );
    }

    #[test]
    fn garbage_and_huge_images_are_refused_with_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("allsource-garbage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("noise.png");
        std::fs::write(&file, [0x89, b'P', b'N', b'G', 0, 1, 2, 3, 255, 254]).unwrap();
        let e = decode(&file).unwrap_err();
        assert!(e.starts_with("not an image"), "{e}");
        assert!(decode(&dir.join("absent.png")).unwrap_err().starts_with("cannot read it"));
        // Wider than any driver must take: refused before it is decoded.
        let wide = dir.join("wide.png");
        image::RgbaImage::new(MAX_SIDE + 1, 1).save(&wide).unwrap();
        let e = decode(&wide).unwrap_err();
        assert!(e.starts_with("too large to load"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
