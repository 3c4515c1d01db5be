//! The compositor: [`Renderer`] (its state, drawing, overlay, capture start). Setting up the
//! device and pipelines for a canvas, a native surface or offscreen is `renderer/setup.rs`.

use crate::{letterbox, yuv_to_rgb, Capture, Orientation, RenderError, YuvFrame, YuvLayout};

mod setup;

const SHADER: &str = r#"
struct Params { r: vec4<f32>, g: vec4<f32>, b: vec4<f32>, mode: vec4<f32> };

struct VsOut { @builtin(position) pos: vec4<f32>, @location(0) uv: vec2<f32> };

@vertex
fn vs(@builtin(vertex_index) i: u32) -> VsOut {
    // A quad as a 4-vertex triangle strip covering the viewport. The draw's first vertex is
    // 4 × the orientation code (`Orientation::code`: quarter turns clockwise in bits 0-1,
    // mirror first in bit 2), so the picture turns without a uniform: texture coordinates
    // are the inverse of the turn (`Orientation::source_point`).
    let x = f32(i & 1u);
    let y = f32((i >> 1u) & 1u);
    let code = i >> 2u;
    var uv = vec2<f32>(x, y);
    switch (code & 3u) {
        case 1u: { uv = vec2<f32>(y, 1.0 - x); }
        case 2u: { uv = vec2<f32>(1.0 - x, 1.0 - y); }
        case 3u: { uv = vec2<f32>(1.0 - y, x); }
        default: {}
    }
    if ((code & 4u) != 0u) {
        uv.x = 1.0 - uv.x;
    }
    var out: VsOut;
    out.pos = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = uv;
    return out;
}

@group(0) @binding(0) var samp: sampler;
@group(0) @binding(1) var tex0: texture_2d<f32>;

@fragment
fn fs_rgba(in: VsOut) -> @location(0) vec4<f32> {
    return vec4<f32>(textureSample(tex0, samp, in.uv).rgb, 1.0);
}

// Subtitles and other overlays: straight (not premultiplied) RGBA, blended over the video.
@fragment
fn fs_overlay(in: VsOut) -> @location(0) vec4<f32> {
    return textureSample(tex0, samp, in.uv);
}

@group(0) @binding(2) var tex1: texture_2d<f32>;
@group(0) @binding(3) var tex2: texture_2d<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@fragment
fn fs_yuv(in: VsOut) -> @location(0) vec4<f32> {
    let y = textureSample(tex0, samp, in.uv).r;
    let c1 = textureSample(tex1, samp, in.uv);
    let c2 = textureSample(tex2, samp, in.uv).r;
    // mode.x = 1: NV12 (U, V interleaved in tex1); 0: I420 (U in tex1, V in tex2).
    let nv12 = params.mode.x > 0.5;
    let u = c1.r;
    let v = select(c2, c1.g, nv12);
    let yuv = vec4<f32>(y, u, v, 1.0);
    return vec4<f32>(clamp(vec3<f32>(dot(params.r, yuv), dot(params.g, yuv), dot(params.b, yuv)), vec3<f32>(0.0), vec3<f32>(1.0)), 1.0);
}
"#;

/// Textures of the current picture size, reused frame after frame.
struct Planes {
    size: (u32, u32),
    /// NV12 (else I420 / RGBA).
    nv12: bool,
    textures: Vec<wgpu::Texture>,
    bind: wgpu::BindGroup,
}

/// What is on screen, for redraws: the display size before turning, and the turn.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    None,
    Rgba { dw: u32, dh: u32, turn: Orientation },
    Yuv { dw: u32, dh: u32, turn: Orientation },
}

/// The compositor for one surface.
pub struct Renderer {
    /// Kept alive with the device: buffer mapping fails once the instance is dropped.
    _instance: wgpu::Instance,
    /// `None` for an offscreen renderer ([`Renderer::offscreen`]): only [`Renderer::capture`]
    /// shows what it draws.
    surface: Option<wgpu::Surface<'static>>,
    device: wgpu::Device,
    queue: wgpu::Queue,
    config: wgpu::SurfaceConfiguration,
    rgba_pipeline: wgpu::RenderPipeline,
    yuv_pipeline: wgpu::RenderPipeline,
    sampler: wgpu::Sampler,
    params: wgpu::Buffer,
    rgba: Option<Planes>,
    yuv: Option<Planes>,
    shown: Shown,
    backend: &'static str,
    /// Set by the device-lost callback (a GPU reset or crash, the device destroyed).
    lost: std::sync::Arc<std::sync::atomic::AtomicBool>,
    overlay_pipeline: wgpu::RenderPipeline,
    /// Drawn over the picture's rectangle (subtitles); `None` when empty.
    overlay: Option<Planes>,
}

impl Renderer {
    /// `webgpu`, `webgl2`, `vulkan`, ...
    pub fn backend_name(&self) -> &'static str {
        self.backend
    }

    /// True once the GPU device is lost (a GPU reset or crash, the device destroyed): nothing
    /// drawn from then on reaches the screen, so a host moves to another display.
    pub fn is_lost(&self) -> bool {
        self.lost.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The surface's pixel size changed (CSS size × devicePixelRatio): reconfigure and redraw.
    pub fn resize(&mut self, width: u32, height: u32) -> Result<(), RenderError> {
        let (width, height) = (width.max(1), height.max(1));
        if (width, height) == (self.config.width, self.config.height) {
            return Ok(());
        }
        self.config.width = width;
        self.config.height = height;
        if let Some(surface) = &self.surface {
            surface.configure(&self.device, &self.config);
        }
        self.redraw()
    }

    /// Draws the last picture again (after a resize), or black (with the overlay, if any).
    pub fn redraw(&mut self) -> Result<(), RenderError> {
        match self.shown {
            Shown::None => self.clear(),
            _ => self.render(),
        }
    }

    /// Sets the overlay drawn over the picture's rectangle (letterbox bars excluded):
    /// `width`×`height` straight-alpha RGBA pixels, rows packed, stretched to the rectangle
    /// (give it the rectangle's pixel size for sharp text); over the whole surface while no
    /// picture is shown. Redraws.
    pub fn set_overlay(&mut self, width: u32, height: u32, rgba: &[u8]) -> Result<(), RenderError> {
        let (w, h) = (width.max(1), height.max(1));
        if (rgba.len() as u64) < u64::from(w) * u64::from(h) * 4 {
            return Err(RenderError::BadFrame(
                "overlay smaller than its size".into(),
            ));
        }
        if self.overlay.as_ref().is_none_or(|p| p.size != (w, h)) {
            // The overlay pipeline's layout is its own (auto layouts differ per pipeline).
            let layout = self.overlay_pipeline.get_bind_group_layout(0);
            let planes =
                self.rgba_planes_with(w, h, wgpu::TextureFormat::Rgba8Unorm, false, &layout);
            self.overlay = Some(planes);
        }
        if let Some(tex) = self.overlay.as_ref().and_then(|p| p.textures.first()) {
            self.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: tex,
                    mip_level: 0,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                rgba,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(w * 4),
                    rows_per_image: Some(h),
                },
                wgpu::Extent3d {
                    width: w,
                    height: h,
                    depth_or_array_layers: 1,
                },
            );
        }
        self.redraw()
    }

    /// Removes the overlay. Redraws.
    pub fn clear_overlay(&mut self) -> Result<(), RenderError> {
        if self.overlay.take().is_some() {
            return self.redraw();
        }
        Ok(())
    }

    /// Fills the surface with black and forgets the picture.
    pub fn clear(&mut self) -> Result<(), RenderError> {
        self.shown = Shown::None;
        // `encode` draws only the black pass when nothing is shown.
        self.render()
    }

    /// Draws a WebCodecs `VideoFrame` with a GPU-side copy (`copyExternalImageToTexture`).
    /// The frame can be closed afterwards. Caution: Chromium on SwiftShader (headless, no GPU)
    /// refuses this copy and wgpu's WebGPU backend panics on the refusal, so the web host
    /// copies the frame's planes out (`VideoFrame.copyTo`) and uses [`Renderer::draw_yuv`].
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    pub fn draw_video_frame(&mut self, frame: &web_sys::VideoFrame) -> Result<(), RenderError> {
        let (w, h) = (frame.display_width().max(1), frame.display_height().max(1));
        if self
            .rgba
            .as_ref()
            .is_none_or(|p| p.size != (w, h) || p.nv12)
        {
            self.rgba = Some(self.rgba_planes(w, h, wgpu::TextureFormat::Rgba8Unorm, false));
        }
        let Some(planes) = self.rgba.as_ref() else {
            return Ok(());
        };
        let Some(tex) = planes.textures.first() else {
            return Ok(());
        };
        self.queue.copy_external_image_to_texture(
            &wgpu::CopyExternalImageSourceInfo {
                // `Clone::clone`, not the JS `VideoFrame.clone()` (which makes a new frame).
                source: wgpu::ExternalImageSource::VideoFrame(Clone::clone(frame)),
                origin: wgpu::Origin2d::ZERO,
                flip_y: false,
            },
            wgpu::CopyExternalImageDestInfo {
                texture: tex,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
                color_space: wgpu::PredefinedColorSpace::Srgb,
                premultiplied_alpha: false,
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        self.shown = Shown::Rgba {
            dw: w,
            dh: h,
            turn: Orientation::default(),
        };
        self.render()
    }

    /// Draws packed 8-bit RGBA (or BGRA with `bgra`) pixels, `stride` bytes per row, shown at
    /// the aspect of `display` (before turning) turned by `turn`.
    #[allow(clippy::too_many_arguments)] // one picture's description, as the YUV path's fields
    pub fn draw_rgba(
        &mut self,
        width: u32,
        height: u32,
        pixels: &[u8],
        stride: u32,
        bgra: bool,
        display: (u32, u32),
        turn: Orientation,
    ) -> Result<(), RenderError> {
        let (w, h) = (width.max(1), height.max(1));
        if stride < w * 4
            || (pixels.len() as u64) < u64::from(stride) * u64::from(h - 1) + u64::from(w * 4)
        {
            return Err(RenderError::BadFrame("RGBA plane too small".into()));
        }
        let format = if bgra {
            wgpu::TextureFormat::Bgra8Unorm
        } else {
            wgpu::TextureFormat::Rgba8Unorm
        };
        if self
            .rgba
            .as_ref()
            .is_none_or(|p| p.size != (w, h) || p.nv12 != bgra)
        {
            self.rgba = Some(self.rgba_planes(w, h, format, bgra));
        }
        let Some(tex) = self.rgba.as_ref().and_then(|p| p.textures.first()) else {
            return Ok(());
        };
        self.queue.write_texture(
            wgpu::TexelCopyTextureInfo {
                texture: tex,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            pixels,
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(stride),
                rows_per_image: Some(h),
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        let (dw, dh) = (display.0.max(1), display.1.max(1));
        self.shown = Shown::Rgba { dw, dh, turn };
        self.render()
    }

    /// An RGBA-family texture of `w`×`h` with its bind group (`nv12` marks BGRA here).
    fn rgba_planes(&self, w: u32, h: u32, format: wgpu::TextureFormat, bgra: bool) -> Planes {
        let layout = self.rgba_pipeline.get_bind_group_layout(0);
        self.rgba_planes_with(w, h, format, bgra, &layout)
    }

    /// [`Renderer::rgba_planes`] bound for the pipeline whose bind group layout is `layout`.
    fn rgba_planes_with(
        &self,
        w: u32,
        h: u32,
        format: wgpu::TextureFormat,
        bgra: bool,
        layout: &wgpu::BindGroupLayout,
    ) -> Planes {
        let tex = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("kinema frame"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format,
            usage: wgpu::TextureUsages::TEXTURE_BINDING
                | wgpu::TextureUsages::COPY_DST
                | wgpu::TextureUsages::RENDER_ATTACHMENT,
            view_formats: &[],
        });
        let view = tex.create_view(&Default::default());
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("kinema frame"),
            layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Sampler(&self.sampler),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: wgpu::BindingResource::TextureView(&view),
                },
            ],
        });
        Planes {
            size: (w, h),
            nv12: bgra,
            textures: vec![tex],
            bind,
        }
    }

    /// Draws YUV planes (native-host path; also usable in the browser).
    pub fn draw_yuv(&mut self, frame: &YuvFrame<'_>) -> Result<(), RenderError> {
        let (w, h) = (frame.width.max(2), frame.height.max(2));
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let nv12 = matches!(frame.layout, YuvLayout::Nv12 { .. });
        let need = |plane: &[u8], stride: u32, row: u32, rows: u32, what: &str| {
            if stride < row
                || (plane.len() as u64) < u64::from(stride) * u64::from(rows - 1) + u64::from(row)
            {
                Err(RenderError::BadFrame(format!("{what} plane too small")))
            } else {
                Ok(())
            }
        };
        match frame.layout {
            YuvLayout::I420 {
                y,
                u,
                v,
                y_stride,
                uv_stride,
            } => {
                need(y, y_stride, w, h, "Y")?;
                need(u, uv_stride, cw, ch, "U")?;
                need(v, uv_stride, cw, ch, "V")?;
            }
            YuvLayout::Nv12 {
                y,
                uv,
                y_stride,
                uv_stride,
            } => {
                need(y, y_stride, w, h, "Y")?;
                need(uv, uv_stride, cw * 2, ch, "UV")?;
            }
        }
        if self
            .yuv
            .as_ref()
            .is_none_or(|p| p.size != (w, h) || p.nv12 != nv12)
        {
            let make = |width: u32, height: u32, format: wgpu::TextureFormat| {
                self.device.create_texture(&wgpu::TextureDescriptor {
                    label: Some("kinema plane"),
                    size: wgpu::Extent3d {
                        width,
                        height,
                        depth_or_array_layers: 1,
                    },
                    mip_level_count: 1,
                    sample_count: 1,
                    dimension: wgpu::TextureDimension::D2,
                    format,
                    usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                    view_formats: &[],
                })
            };
            let textures = if nv12 {
                vec![
                    make(w, h, wgpu::TextureFormat::R8Unorm),
                    make(cw, ch, wgpu::TextureFormat::Rg8Unorm),
                    make(1, 1, wgpu::TextureFormat::R8Unorm),
                ]
            } else {
                vec![
                    make(w, h, wgpu::TextureFormat::R8Unorm),
                    make(cw, ch, wgpu::TextureFormat::R8Unorm),
                    make(cw, ch, wgpu::TextureFormat::R8Unorm),
                ]
            };
            let views: Vec<wgpu::TextureView> = textures
                .iter()
                .map(|t| t.create_view(&Default::default()))
                .collect();
            let (Some(v0), Some(v1), Some(v2)) = (views.first(), views.get(1), views.get(2)) else {
                return Ok(());
            };
            let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("kinema planes"),
                layout: &self.yuv_pipeline.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: wgpu::BindingResource::Sampler(&self.sampler),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: wgpu::BindingResource::TextureView(v0),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: wgpu::BindingResource::TextureView(v1),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: wgpu::BindingResource::TextureView(v2),
                    },
                    wgpu::BindGroupEntry {
                        binding: 4,
                        resource: self.params.as_entire_binding(),
                    },
                ],
            });
            self.yuv = Some(Planes {
                size: (w, h),
                nv12,
                textures,
                bind,
            });
        }
        let Some(planes) = self.yuv.as_ref() else {
            return Ok(());
        };
        let upload = |tex: &wgpu::Texture, data: &[u8], stride: u32, width: u32, height: u32| {
            self.queue.write_texture(
                wgpu::TexelCopyTextureInfo {
                    texture: tex,
                    mip_level: 0,
                    origin: wgpu::Origin3d::ZERO,
                    aspect: wgpu::TextureAspect::All,
                },
                data,
                wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(stride),
                    rows_per_image: Some(height),
                },
                wgpu::Extent3d {
                    width,
                    height,
                    depth_or_array_layers: 1,
                },
            );
        };
        let t = &planes.textures;
        match (frame.layout, t.first(), t.get(1), t.get(2)) {
            (
                YuvLayout::I420 {
                    y,
                    u,
                    v,
                    y_stride,
                    uv_stride,
                },
                Some(ty),
                Some(tu),
                Some(tv),
            ) => {
                upload(ty, y, y_stride, w, h);
                upload(tu, u, uv_stride, cw, ch);
                upload(tv, v, uv_stride, cw, ch);
            }
            (
                YuvLayout::Nv12 {
                    y,
                    uv,
                    y_stride,
                    uv_stride,
                },
                Some(ty),
                Some(tuv),
                _,
            ) => {
                upload(ty, y, y_stride, w, h);
                upload(tuv, uv, uv_stride, cw, ch);
            }
            _ => return Ok(()),
        }
        let m = yuv_to_rgb(frame.matrix, frame.range);
        let mut bytes = Vec::with_capacity(64);
        for v in m
            .iter()
            .flatten()
            .chain([if nv12 { 1.0f32 } else { 0.0 }, 0.0, 0.0, 0.0].iter())
        {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        self.queue.write_buffer(&self.params, 0, &bytes);
        let (dw, dh) = (frame.display_width.max(1), frame.display_height.max(1));
        self.shown = Shown::Yuv {
            dw,
            dh,
            turn: frame.orientation,
        };
        self.render()
    }

    /// Renders what is on screen once more into an offscreen texture of the surface's size and
    /// starts copying it to a buffer (for tests and screenshots: browsers do not let a page
    /// read a WebGPU canvas after it was presented). Map the result with [`Capture::map`].
    pub fn capture(&mut self) -> Result<Capture, RenderError> {
        let (w, h) = (self.config.width, self.config.height);
        let target = self.device.create_texture(&wgpu::TextureDescriptor {
            label: Some("kinema capture"),
            size: wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: self.config.format,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::COPY_SRC,
            view_formats: &[],
        });
        let view = target.create_view(&Default::default());
        let row = (w * 4).div_ceil(256) * 256;
        let buffer = self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kinema capture"),
            size: u64::from(row) * u64::from(h),
            usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
            mapped_at_creation: false,
        });
        let mut enc = self.device.create_command_encoder(&Default::default());
        self.encode(&mut enc, &view);
        enc.copy_texture_to_buffer(
            wgpu::TexelCopyTextureInfo {
                texture: &target,
                mip_level: 0,
                origin: wgpu::Origin3d::ZERO,
                aspect: wgpu::TextureAspect::All,
            },
            wgpu::TexelCopyBufferInfo {
                buffer: &buffer,
                layout: wgpu::TexelCopyBufferLayout {
                    offset: 0,
                    bytes_per_row: Some(row),
                    rows_per_image: Some(h),
                },
            },
            wgpu::Extent3d {
                width: w,
                height: h,
                depth_or_array_layers: 1,
            },
        );
        self.queue.submit([enc.finish()]);
        let bgra = matches!(
            self.config.format,
            wgpu::TextureFormat::Bgra8Unorm | wgpu::TextureFormat::Bgra8UnormSrgb
        );
        Ok(Capture {
            _target: target,
            buffer,
            width: w,
            height: h,
            row,
            bgra,
        })
    }

    /// Records the draw of the current picture (black bars included) into `view`.
    fn encode(&self, enc: &mut wgpu::CommandEncoder, view: &wgpu::TextureView) {
        let mut pass = begin_black(enc, view);
        let (yuv, dw, dh, turn) = match self.shown {
            Shown::Rgba { dw, dh, turn } => (false, dw, dh, turn),
            Shown::Yuv { dw, dh, turn } => (true, dw, dh, turn),
            Shown::None => {
                // No picture (audio only, text only): the overlay covers the whole surface
                // (the hosts lay the cues out on it), on black.
                if let Some(overlay) = self.overlay.as_ref() {
                    pass.set_pipeline(&self.overlay_pipeline);
                    pass.set_bind_group(0, &overlay.bind, &[]);
                    pass.draw(0..4, 0..1);
                }
                return;
            }
        };
        let (pipeline, planes) = if yuv {
            (&self.yuv_pipeline, self.yuv.as_ref())
        } else {
            (&self.rgba_pipeline, self.rgba.as_ref())
        };
        if let Some(planes) = planes {
            let (sw, sh) = turn.shown_size(dw, dh);
            let (x, y, w, h) = letterbox(sw, sh, self.config.width, self.config.height);
            pass.set_viewport(x, y, w, h, 0.0, 1.0);
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &planes.bind, &[]);
            // The first vertex carries the turn (see the vertex shader).
            let first = turn.code() * 4;
            pass.draw(first..first + 4, 0..1);
            // The overlay is upright over the shown picture's rectangle: no turn.
            if let Some(overlay) = self.overlay.as_ref() {
                pass.set_pipeline(&self.overlay_pipeline);
                pass.set_bind_group(0, &overlay.bind, &[]);
                pass.draw(0..4, 0..1);
            }
        }
    }

    fn acquire(
        device: &wgpu::Device,
        surface: &wgpu::Surface<'static>,
        config: &wgpu::SurfaceConfiguration,
    ) -> Result<wgpu::SurfaceTexture, RenderError> {
        match surface.get_current_texture() {
            wgpu::CurrentSurfaceTexture::Success(t)
            | wgpu::CurrentSurfaceTexture::Suboptimal(t) => Ok(t),
            other => {
                // Lost or outdated (e.g. the canvas was resized): configure again once.
                surface.configure(device, config);
                match surface.get_current_texture() {
                    wgpu::CurrentSurfaceTexture::Success(t)
                    | wgpu::CurrentSurfaceTexture::Suboptimal(t) => Ok(t),
                    _ => Err(RenderError::Surface(format!("{other:?}"))),
                }
            }
        }
    }

    fn render(&mut self) -> Result<(), RenderError> {
        // Offscreen: nothing to present; `capture` encodes the picture into its own target.
        let Some(surface) = &self.surface else {
            return Ok(());
        };
        let frame = Self::acquire(&self.device, surface, &self.config)?;
        let view = frame.texture.create_view(&Default::default());
        let mut enc = self.device.create_command_encoder(&Default::default());
        self.encode(&mut enc, &view);
        self.queue.submit([enc.finish()]);
        self.queue.present(frame);
        Ok(())
    }
}

fn begin_black<'a>(
    enc: &'a mut wgpu::CommandEncoder,
    view: &'a wgpu::TextureView,
) -> wgpu::RenderPass<'a> {
    enc.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some("kinema video"),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations {
                load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                store: wgpu::StoreOp::Store,
            },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}
