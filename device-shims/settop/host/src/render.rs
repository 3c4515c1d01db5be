//! The screen: kinema-render on wgpu's Vulkan backend (Mesa's lavapipe without a GPU),
//! drawing each presented picture offscreen with the same YUV shader browsers use, then
//! reading it back for the checksum and the frame index.

use anyhow::{anyhow, Result};
use kinema_render::{ColourMatrix, ColourRange, Orientation, Renderer, YuvFrame, YuvLayout};

use crate::decoder::Picture;

/// An offscreen renderer sized to the picture.
pub struct Screen {
    renderer: Renderer,
    /// The adapter's name (e.g. `llvmpipe (LLVM 15.0.7, 256 bits)`).
    pub adapter: String,
}

impl Screen {
    /// A Vulkan renderer of `width`×`height`.
    pub fn new(width: u32, height: u32) -> Result<Screen> {
        let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
            backends: wgpu::Backends::VULKAN,
            ..wgpu::InstanceDescriptor::new_without_display_handle()
        });
        let adapter = pollster::block_on(instance.request_adapter(&Default::default()))
            .map(|a| a.get_info().name)
            .unwrap_or_default();
        let renderer = pollster::block_on(Renderer::offscreen(instance, width, height))?;
        Ok(Screen { renderer, adapter })
    }

    /// Draws `p` turned by `turn` and reads it back: (frame index, FNV-1a 64 of the RGBA,
    /// the shown size).
    pub fn show(&mut self, p: &Picture, turn: Orientation) -> Result<(u32, u64, (u32, u32))> {
        let shown = turn.shown_size(p.width, p.height);
        // A no-op while the size stays.
        self.renderer.resize(shown.0, shown.1)?;
        self.renderer.draw_yuv(&YuvFrame {
            width: p.width,
            height: p.height,
            display_width: p.width,
            display_height: p.height,
            orientation: turn,
            layout: YuvLayout::I420 {
                y: &p.y,
                u: &p.u,
                v: &p.v,
                y_stride: p.width,
                uv_stride: p.width.div_ceil(2),
            },
            matrix: ColourMatrix::Bt601,
            range: ColourRange::Limited,
        })?;
        let capture = self.renderer.capture()?;
        let (tx, rx) = std::sync::mpsc::channel();
        capture.map(move |r| {
            let _ = tx.send(r);
        });
        self.renderer.wait()?;
        rx.recv()
            .map_err(|_| anyhow!("capture callback never ran"))?
            .map_err(|e| anyhow!("capture: {e}"))?;
        let rgba = capture.rgba()?;
        Ok((
            frame_index(&rgba, capture.width(), capture.height(), turn),
            fnv1a(&rgba),
            shown,
        ))
    }
}

/// The fixture's 16-bit frame index: bit b is the block at column b%8, row b/8 of the decoded
/// picture, bright when its centre's luma is above 128, read where `turn` shows that centre
/// (the same sampling as `installFrameIndex` in tests/page/harness.mjs).
pub fn frame_index(rgba: &[u8], w: u32, h: u32, turn: Orientation) -> u32 {
    let (w, h) = (w as usize, h as usize);
    let mut n = 0u32;
    for b in 0..16usize {
        let (sx, sy) = turn.shown_point(((b % 8) as f64 + 0.5) / 8.0, ((b / 8) as f64 + 0.5) / 2.0);
        let x = ((sx * w as f64).floor() as usize).min(w.saturating_sub(1));
        let y = ((sy * h as f64).floor() as usize).min(h.saturating_sub(1));
        let i = (y * w + x) * 4;
        if let Some(px) = rgba.get(i..i + 3) {
            let luma =
                0.299 * f64::from(px[0]) + 0.587 * f64::from(px[1]) + 0.114 * f64::from(px[2]);
            if luma > 128.0 {
                n |= 1 << b;
            }
        }
    }
    n
}

/// FNV-1a, 64 bit: a stable checksum without a dependency.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
