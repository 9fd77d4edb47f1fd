//! The textures Shadertoy channels read besides buffers: image files and cube maps (`file_texture`: loaded on first
//! use, again when a file changes), the keyboard's texture, and one sampler per filter and wrap.

use allsource_gpu::{Filter, Gl, GpuError, PixelTexture, Sampler, Samplers, Wrap};

use crate::file_texture::Loaded;
pub(super) use crate::file_texture::{FileTexture, TextureNews};

use super::shadertoy_input::Keyboard;

/// The textures and samplers of a scene's channels.
pub(super) struct ChannelTextures {
    loaded: Vec<Loaded>,
    /// Until freed.
    samplers: Option<Samplers>,
    keyboard: Option<PixelTexture>,
    pub(super) news: Vec<TextureNews>,
}

impl ChannelTextures {
    pub(super) fn new(gl: &Gl) -> Result<ChannelTextures, GpuError> {
        Ok(ChannelTextures { loaded: Vec::new(), samplers: Some(Samplers::new(gl)?), keyboard: None, news: Vec::new() })
    }

    /// The texture for `what`, loading it on first use. None while it has never loaded (the channel reads black).
    pub(super) fn file(&mut self, gl: &Gl, what: &FileTexture) -> Option<&PixelTexture> {
        let i = match self.loaded.iter().position(|l| l.what == *what) {
            Some(i) => i,
            None => {
                let (entry, news) = Loaded::new(gl, what.clone());
                self.news.extend(news);
                self.loaded.push(entry);
                self.loaded.len() - 1
            }
        };
        self.loaded[i].texture.as_ref()
    }

    /// Loads again the textures whose files changed, and forgets those no channel names any more (`used`).
    pub(super) fn poll(&mut self, gl: &Gl, used: &[FileTexture]) {
        let (keep, gone): (Vec<Loaded>, Vec<Loaded>) =
            std::mem::take(&mut self.loaded).into_iter().partition(|l| used.contains(&l.what));
        for l in gone {
            if l.problem.is_some() {
                self.news.push((l.what.path.clone(), None));
            }
            l.free(gl);
        }
        self.loaded = keep;
        for l in &mut self.loaded {
            self.news.extend(l.reload_if_changed(gl));
        }
    }

    /// The sampler for a filter and wrap.
    pub(super) fn sampler(&self, filter: Filter, wrap: Wrap) -> Option<&Sampler> {
        self.samplers.as_ref().map(|s| s.get(filter, wrap))
    }

    /// The keyboard's texture, written from `keys` when they changed.
    pub(super) fn keyboard(&mut self, gl: &Gl, keys: &mut Keyboard) -> Option<&PixelTexture> {
        if self.keyboard.is_none() {
            self.keyboard = PixelTexture::bytes(gl, 256, 3).ok();
            keys.changed = true;
        }
        let texture = self.keyboard.as_ref()?;
        if keys.changed && texture.write_bytes(gl, keys.bytes()).is_ok() {
            keys.changed = false;
        }
        Some(texture)
    }

    pub(super) fn free(&mut self, gl: &Gl) {
        for l in self.loaded.drain(..) {
            l.free(gl);
        }
        if let Some(s) = self.samplers.take() {
            s.delete(gl);
        }
        if let Some(k) = self.keyboard.take() {
            k.delete(gl);
        }
    }
}
