//! Kinema's video compositor on wgpu, shared by every host.
//!
//! It draws the current picture, letterboxed or pillarboxed into the surface by the picture's
//! display aspect (black bars), and redraws it after a resize. Ways in:
//! - **YUV planes** ([`Renderer::draw_yuv`]), the usual way in for decoded video: I420 or
//!   NV12 planes are uploaded to R8 / RG8 textures and converted in the fragment shader with
//!   [`yuv_to_rgb`]'s matrix (BT.601 or BT.709, limited or full range). The browser host
//!   copies a WebCodecs `VideoFrame`'s planes out with `copyTo` (a plain copy of what the
//!   decoder wrote, no conversion on the CPU), so browsers run the same shader as set-top
//!   hosts.
//! - **RGBA** ([`Renderer::draw_rgba`]): pictures that are already RGB (the MSE path's
//!   snapshots).
//! - **GPU copy** of a `VideoFrame` (`Renderer::draw_video_frame`, wasm32 only): works on
//!   real GPUs, but Chromium on SwiftShader (headless, no GPU) refuses the copy and wgpu's
//!   WebGPU backend panics on the refusal, which is why the browser host copies planes.
//!
//! On top of the picture: a straight-alpha RGBA overlay over the picture's rectangle
//! ([`Renderer::set_overlay`]: subtitles). [`Renderer::capture`] reads back what is shown.
//!
//! Textures and bind groups are created when the picture size changes and reused for every
//! frame of that size: no per-frame allocation besides the command buffer wgpu needs.
//!
//! Backends: with the `webgpu` feature the browser's WebGPU (tiny: wgpu forwards calls).
//! Browsers without WebGPU are drawn by the web host's own WebGL2 display (`kinema-web`'s
//! `webgl` module): wgpu's GL backend (wgpu-core + naga in Wasm) doubled the package. With `vulkan`
//! (native only) a headless host draws offscreen (the set-top host, on Mesa's lavapipe without
//! a GPU).

use thiserror::Error;

/// Which GPU API to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// Whatever the build has (WebGPU in a browser).
    #[default]
    Auto,
    /// Only WebGPU.
    WebGpu,
}

/// YUV → RGB matrix coefficients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourMatrix {
    /// ITU-R BT.601 (SD).
    Bt601,
    /// ITU-R BT.709 (HD).
    Bt709,
}

/// Quantisation range of the YUV samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColourRange {
    /// Y in 16–235, U/V in 16–240 ("TV" range).
    Limited,
    /// 0–255 ("PC" range).
    Full,
}

/// Plane layout of a YUV 4:2:0 picture in CPU memory.
#[derive(Debug, Clone, Copy)]
pub enum YuvLayout<'a> {
    /// Three planes: Y full size, U and V half size in both directions.
    I420 {
        /// Luma plane.
        y: &'a [u8],
        /// Cb plane.
        u: &'a [u8],
        /// Cr plane.
        v: &'a [u8],
        /// Bytes per luma row.
        y_stride: u32,
        /// Bytes per chroma row.
        uv_stride: u32,
    },
    /// Two planes: Y, then interleaved Cb/Cr at half size.
    Nv12 {
        /// Luma plane.
        y: &'a [u8],
        /// Interleaved Cb/Cr plane.
        uv: &'a [u8],
        /// Bytes per luma row.
        y_stride: u32,
        /// Bytes per chroma row (2 bytes per chroma sample pair).
        uv_stride: u32,
    },
}

/// How a decoded picture is turned to be shown: mirrored left to right (first), then rotated
/// clockwise by quarter turns (an MP4 `tkhd` matrix, WebCodecs' `rotation` and `flip`).
///
/// The renderer applies it in the vertex stage (the quad's texture coordinates), so the
/// picture's planes are uploaded as decoded and every backend and pixel path turns alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Orientation {
    quarter_turns: u8,
    flip: bool,
}

impl Orientation {
    /// `rotation_degrees` clockwise (0, 90, 180, 270; 360 and more wrap), mirrored first when
    /// `flip`. A rotation that is not a multiple of 90 is not drawn (taken as 0): the
    /// containers that carry one (MP4 matrices) only describe quarter turns for video.
    pub fn new(rotation_degrees: u16, flip: bool) -> Orientation {
        let quarter_turns = if rotation_degrees.is_multiple_of(90) {
            ((rotation_degrees / 90) % 4) as u8
        } else {
            0
        };
        Orientation {
            quarter_turns,
            flip,
        }
    }

    /// Clockwise rotation in degrees (0, 90, 180 or 270).
    pub fn rotation_degrees(self) -> u16 {
        u16::from(self.quarter_turns) * 90
    }

    /// Mirrored left to right before the rotation.
    pub fn flip(self) -> bool {
        self.flip
    }

    /// The picture turns on its side (90° or 270°): its shown width is its height.
    pub fn swaps_axes(self) -> bool {
        self.quarter_turns % 2 == 1
    }

    /// The size shown for a picture of `width`×`height` (display size before turning).
    pub fn shown_size(self, width: u32, height: u32) -> (u32, u32) {
        if self.swaps_axes() {
            (height, width)
        } else {
            (width, height)
        }
    }

    /// Where a point of the shown picture comes from in the decoded one, both in `[0, 1]²`
    /// with y down: the inverse of mirror-then-rotate. The vertex shader computes the same.
    pub fn source_point(self, x: f64, y: f64) -> (f64, f64) {
        let (u, v) = match self.quarter_turns {
            1 => (y, 1.0 - x),
            2 => (1.0 - x, 1.0 - y),
            3 => (1.0 - y, x),
            _ => (x, y),
        };
        if self.flip {
            (1.0 - u, v)
        } else {
            (u, v)
        }
    }

    /// Where a point of the decoded picture is shown: [`Orientation::source_point`]'s inverse
    /// (mirror, then rotate clockwise), both in `[0, 1]²` with y down.
    pub fn shown_point(self, u: f64, v: f64) -> (f64, f64) {
        let u = if self.flip { 1.0 - u } else { u };
        match self.quarter_turns {
            1 => (1.0 - v, u),
            2 => (1.0 - u, 1.0 - v),
            3 => (v, 1.0 - u),
            _ => (u, v),
        }
    }

    /// The shaders' code for it (kinema-render's vertex index / 4, the web host's WebGL2
    /// `turn` uniform): quarter turns in bits 0–1, flip in bit 2.
    pub fn code(self) -> u32 {
        u32::from(self.quarter_turns) | if self.flip { 4 } else { 0 }
    }
}

/// A YUV 4:2:0 picture to draw.
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    /// Coded width in pixels (even).
    pub width: u32,
    /// Coded height in pixels (even).
    pub height: u32,
    /// Display width (aspect ratio), before [`YuvFrame::orientation`].
    pub display_width: u32,
    /// Display height, before the orientation.
    pub display_height: u32,
    /// How the picture is turned to be shown.
    pub orientation: Orientation,
    /// The planes.
    pub layout: YuvLayout<'a>,
    /// Matrix coefficients.
    pub matrix: ColourMatrix,
    /// Sample range.
    pub range: ColourRange,
}

/// Why drawing failed.
#[derive(Debug, Error)]
pub enum RenderError {
    /// No adapter of the requested kind exists (or the backend is not compiled in).
    #[error("no GPU adapter: {0}")]
    NoAdapter(String),
    /// The surface could not be created or configured.
    #[error("surface: {0}")]
    Surface(String),
    /// The device could not be created.
    #[error("device: {0}")]
    Device(String),
    /// The picture's planes are smaller than its size and strides say.
    #[error("bad picture: {0}")]
    BadFrame(String),
}

/// Rows of the 3×4 matrix taking (Y, U, V, 1) in `[0, 1]` to linear-encoded RGB, as the
/// fragment shader applies it.
///
/// With `Kr`, `Kb` of the matrix (BT.601: 0.299 / 0.114, BT.709: 0.2126 / 0.0722),
/// `Kg = 1 − Kr − Kb`, and the range scaling `y' = (Y − 16/255)·255/219`,
/// `c' = (C − 128/255)·255/224` (limited) or `y' = Y`, `c' = C − 128/255` (full):
/// `R = y' + 2(1−Kr)·v'`, `B = y' + 2(1−Kb)·u'`,
/// `G = y' − 2Kb(1−Kb)/Kg·u' − 2Kr(1−Kr)/Kg·v'`.
pub fn yuv_to_rgb(matrix: ColourMatrix, range: ColourRange) -> [[f32; 4]; 3] {
    let (kr, kb) = match matrix {
        ColourMatrix::Bt601 => (0.299f64, 0.114f64),
        ColourMatrix::Bt709 => (0.2126, 0.0722),
    };
    let kg = 1.0 - kr - kb;
    let (ys, yo, cs) = match range {
        ColourRange::Limited => (255.0 / 219.0, 16.0 / 255.0, 255.0 / 224.0),
        ColourRange::Full => (1.0, 0.0, 1.0),
    };
    let co = 128.0 / 255.0;
    // Coefficients on (y', u', v').
    let rows = [
        [1.0, 0.0, 2.0 * (1.0 - kr)],
        [
            1.0,
            -2.0 * kb * (1.0 - kb) / kg,
            -2.0 * kr * (1.0 - kr) / kg,
        ],
        [1.0, 2.0 * (1.0 - kb), 0.0],
    ];
    rows.map(|[a, b, c]| {
        let (a, b, c) = (a * ys, b * cs, c * cs);
        let offset = -a * yo - b * co - c * co;
        [a as f32, b as f32, c as f32, offset as f32]
    })
}

/// Where to draw a `pw`×`ph` picture inside a `sw`×`sh` surface: the largest rectangle of
/// the picture's aspect that fits, centred. Returns (x, y, width, height) in pixels.
pub fn letterbox(pw: u32, ph: u32, sw: u32, sh: u32) -> (f32, f32, f32, f32) {
    let (pw, ph) = (pw.max(1) as f32, ph.max(1) as f32);
    let (sw, sh) = (sw.max(1) as f32, sh.max(1) as f32);
    let scale = (sw / pw).min(sh / ph);
    let (w, h) = ((pw * scale).round().max(1.0), (ph * scale).round().max(1.0));
    (((sw - w) / 2.0).floor(), ((sh - h) / 2.0).floor(), w, h)
}

mod capture;
mod renderer;

pub use capture::Capture;
pub use renderer::Renderer;

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(m: [[f32; 4]; 3], y: f32, u: f32, v: f32) -> [f32; 3] {
        m.map(|r| (r[0] * y + r[1] * u + r[2] * v + r[3]).clamp(0.0, 1.0))
    }

    #[test]
    fn matrices_map_reference_colours() {
        let n = |x: f32| x / 255.0;
        for matrix in [ColourMatrix::Bt601, ColourMatrix::Bt709] {
            let lim = yuv_to_rgb(matrix, ColourRange::Limited);
            let full = yuv_to_rgb(matrix, ColourRange::Full);
            for (m, white, black) in [(lim, 235.0, 16.0), (full, 255.0, 0.0)] {
                for c in apply(m, n(white), n(128.0), n(128.0)) {
                    assert!((c - 1.0).abs() < 0.005, "{matrix:?} white {c}");
                }
                for c in apply(m, n(black), n(128.0), n(128.0)) {
                    assert!(c.abs() < 0.005, "{matrix:?} black {c}");
                }
            }
        }
        // BT.709 limited pure red: Y 63, U 102, V 240 → (1, 0, 0).
        let red = apply(
            yuv_to_rgb(ColourMatrix::Bt709, ColourRange::Limited),
            n(63.0),
            n(102.0),
            n(240.0),
        );
        assert!(
            (red[0] - 1.0).abs() < 0.01 && red[1] < 0.01 && red[2] < 0.01,
            "{red:?}"
        );
        // BT.601 limited pure red: Y 81, U 90, V 240.
        let red = apply(
            yuv_to_rgb(ColourMatrix::Bt601, ColourRange::Limited),
            n(81.0),
            n(90.0),
            n(240.0),
        );
        assert!(
            (red[0] - 1.0).abs() < 0.01 && red[1] < 0.02 && red[2] < 0.02,
            "{red:?}"
        );
    }

    #[test]
    fn orientation_maps_corners_like_a_turned_picture() {
        // The decoded picture's top-left corner (0, 0) is shown at: 90° → top right, 180° →
        // bottom right, 270° → bottom left; mirrored first, it starts at the top right.
        let shown_at = |o: Orientation, corner: (f64, f64)| {
            [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
                .into_iter()
                .find(|&(x, y)| o.source_point(x, y) == corner)
        };
        let top_left = (0.0, 0.0);
        assert_eq!(
            shown_at(Orientation::new(0, false), top_left),
            Some((0.0, 0.0))
        );
        assert_eq!(
            shown_at(Orientation::new(90, false), top_left),
            Some((1.0, 0.0))
        );
        assert_eq!(
            shown_at(Orientation::new(180, false), top_left),
            Some((1.0, 1.0))
        );
        assert_eq!(
            shown_at(Orientation::new(270, false), top_left),
            Some((0.0, 1.0))
        );
        assert_eq!(
            shown_at(Orientation::new(0, true), top_left),
            Some((1.0, 0.0))
        );
        // Mirror, then 90° clockwise: the top-right corner (where the mirror put it) goes to
        // the bottom right.
        assert_eq!(
            shown_at(Orientation::new(90, true), top_left),
            Some((1.0, 1.0))
        );
        assert_eq!(Orientation::new(450, false), Orientation::new(90, false));
        assert_eq!(Orientation::new(45, true), Orientation::new(0, true));
        assert_eq!(
            Orientation::new(270, false).shown_size(640, 360),
            (360, 640)
        );
        assert_eq!(
            Orientation::new(180, false).shown_size(640, 360),
            (640, 360)
        );
        for o in 0..8u32 {
            let or = Orientation::new((o % 4) as u16 * 90, o >= 4);
            for (u, v) in [(0.25, 0.125), (0.5, 0.75), (1.0, 0.0)] {
                let (x, y) = or.shown_point(u, v);
                assert_eq!(or.source_point(x, y), (u, v), "{or:?}");
            }
            assert_eq!(or.code(), o);
            assert_eq!(
                (or.rotation_degrees(), or.flip()),
                ((o % 4) as u16 * 90, o >= 4)
            );
        }
    }

    #[test]
    fn letterbox_and_pillarbox() {
        assert_eq!(letterbox(1920, 1080, 1280, 720), (0.0, 0.0, 1280.0, 720.0));
        // 4:3 in 16:9 → pillarbox.
        assert_eq!(letterbox(640, 480, 1280, 720), (160.0, 0.0, 960.0, 720.0));
        // 16:9 in 4:3 → letterbox.
        assert_eq!(letterbox(1280, 720, 800, 600), (0.0, 75.0, 800.0, 450.0));
    }
}
