//! Reading back what the compositor shows ([`Renderer::capture`](crate::Renderer::capture)).

use crate::RenderError;

/// Pixels being copied back from the GPU (see [`Renderer::capture`](crate::Renderer::capture)).
pub struct Capture {
    /// Kept until the copy is read: dropping a wgpu texture destroys it at once.
    pub(crate) _target: wgpu::Texture,
    pub(crate) buffer: wgpu::Buffer,
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) row: u32,
    pub(crate) bgra: bool,
}

impl Capture {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Starts mapping; `done(Ok(()))` once [`Capture::rgba`] can be read. In browsers the
    /// callback runs by itself; native hosts poll the device.
    pub fn map(&self, done: impl FnOnce(Result<(), String>) + wgpu::WasmNotSend + 'static) {
        self.buffer
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| {
                done(r.map_err(|e| e.to_string()))
            });
    }

    /// The pixels, RGBA, rows packed (after `map` reported success).
    pub fn rgba(&self) -> Result<Vec<u8>, RenderError> {
        let view = self
            .buffer
            .slice(..)
            .get_mapped_range()
            .map_err(|e| RenderError::Surface(format!("capture not mapped: {e}")))?;
        let mut out = Vec::with_capacity((self.width * self.height * 4) as usize);
        for y in 0..self.height as usize {
            let start = y * self.row as usize;
            let line = view
                .get(start..start + self.width as usize * 4)
                .ok_or_else(|| RenderError::Surface("short capture".into()))?;
            out.extend_from_slice(line);
        }
        if self.bgra {
            for px in out.chunks_exact_mut(4) {
                px.swap(0, 2);
            }
        }
        Ok(out)
    }
}
