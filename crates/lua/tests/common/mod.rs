//! Test doubles shared by the Lua crate's tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use allsource_lua::{DispatchCall, DrawCall, Graphics, Id, Owner};

/// Records what Lua asked for; `live` counts the objects it holds.
#[derive(Default)]
pub struct Recorder {
    /// How long each draw takes (a driver compiling a program at its first draw).
    pub draw_delay: std::time::Duration,
    pub next: Id,
    pub live: Arc<Mutex<HashMap<Id, Owner>>>,
}

impl Recorder {
    fn make(&mut self, owner: Owner) -> Id {
        self.next += 1;
        self.live.lock().unwrap().insert(self.next, owner);
        self.next
    }
}

impl Graphics for Recorder {
    fn shader(&mut self, _: &str, owner: Owner) -> Result<Id, String> {
        Ok(self.make(owner))
    }
    fn buffer(&mut self, _: &[u8], owner: Owner) -> Result<Id, String> {
        Ok(self.make(owner))
    }
    fn write_buffer(&mut self, _: Id, _: usize, _: &[u8]) -> Result<(), String> {
        Ok(())
    }
    fn read_buffer(&mut self, _: Id) -> Result<Vec<u8>, String> {
        Ok(vec![])
    }
    fn buffer_size(&self, _: Id) -> Result<usize, String> {
        Ok(0)
    }
    fn target(&mut self, _: u32, _: u32, _: allsource_lua::TargetSpec, owner: Owner) -> Result<Id, String> {
        Ok(self.make(owner))
    }
    fn image(&mut self, _: &str, _: allsource_lua::ImageOptions, owner: Owner) -> Result<Id, String> {
        Ok(self.make(owner))
    }
    fn text(&mut self, call: &allsource_lua::TextCall) -> Result<f32, String> {
        Ok(call.text.chars().count() as f32 * call.size / 2.0)
    }
    fn text_width(&mut self, text: &str, size: f32) -> Result<f32, String> {
        Ok(text.chars().count() as f32 * size / 2.0)
    }
    fn read_target(&mut self, _: Id, _: allsource_lua::Attachment) -> Result<Vec<f32>, String> {
        Ok(vec![0.0; 4])
    }
    fn target_size(&self, _: Id) -> Result<(u32, u32), String> {
        Ok((1, 1))
    }
    fn clear(&mut self, _: Option<Id>, _: [f32; 4]) -> Result<(), String> {
        Ok(())
    }
    fn draw(&mut self, _: &DrawCall) -> Result<(), String> {
        std::thread::sleep(self.draw_delay);
        Ok(())
    }
    fn dispatch(&mut self, _: &DispatchCall) -> Result<(), String> {
        Ok(())
    }
    fn barrier(&mut self) {}
    fn size(&self) -> (u32, u32) {
        (64, 32)
    }
    fn time(&self) -> (f64, u64) {
        (0.0, 0)
    }
    fn key_down(&self, _: &str) -> bool {
        false
    }
    fn mouse(&self) -> (f32, f32) {
        (0.0, 0.0)
    }
    fn mouse_down(&self, _: u8) -> bool {
        false
    }
    fn objects(&self) -> usize {
        self.live.lock().unwrap().len()
    }
    fn take_gpu_time(&mut self) -> Vec<(Owner, std::time::Duration)> {
        Vec::new()
    }
    fn release(&mut self, id: Id) {
        self.live.lock().unwrap().remove(&id);
    }
    fn release_owned_by(&mut self, owner: Owner) {
        self.live.lock().unwrap().retain(|_, o| *o != owner);
    }
}
