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
//! Backends: with the `webgpu` feature the browser's WebGPU (tiny: wgpu forwards calls); with
//! `webgl` the WebGL2 backend (wgpu-core + naga in Wasm, large), for the fallback build only.
//! [`BackendChoice::Auto`] tries WebGPU first, then WebGL2 when compiled in. With `vulkan`
//! (native only) a headless host draws offscreen (the set-top host, on Mesa's lavapipe without
//! a GPU).

use thiserror::Error;

/// Which GPU API to draw with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BackendChoice {
    /// WebGPU when the browser offers an adapter, otherwise WebGL2 (if compiled in).
    #[default]
    Auto,
    /// Only WebGPU.
    WebGpu,
    /// Only WebGL2 (needs the `webgl` feature).
    WebGl2,
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

/// A YUV 4:2:0 picture to draw.
#[derive(Debug, Clone, Copy)]
pub struct YuvFrame<'a> {
    /// Coded width in pixels (even).
    pub width: u32,
    /// Coded height in pixels (even).
    pub height: u32,
    /// Display width (aspect ratio).
    pub display_width: u32,
    /// Display height.
    pub display_height: u32,
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

const SHADER: &str = r#"
struct Params { r: vec4<f32>, g: vec4<f32>, b: vec4<f32>, mode: vec4<f32> };

struct VsOut { @builtin(position) pos: vec4<f32>, @location(0) uv: vec2<f32> };

@vertex
fn vs(@builtin(vertex_index) i: u32) -> VsOut {
    // A quad as a 4-vertex triangle strip covering the viewport.
    let x = f32(i & 1u);
    let y = f32((i >> 1u) & 1u);
    var out: VsOut;
    out.pos = vec4<f32>(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
    out.uv = vec2<f32>(x, y);
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

/// What is on screen, for redraws.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    None,
    Rgba { dw: u32, dh: u32 },
    Yuv { dw: u32, dh: u32 },
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
    /// A renderer drawing into an HTML canvas (its `width`/`height` are the drawing size).
    #[cfg(target_arch = "wasm32")]
    pub async fn from_canvas(
        canvas: web_sys::HtmlCanvasElement,
        choice: BackendChoice,
    ) -> Result<Renderer, RenderError> {
        let (w, h) = (canvas.width().max(1), canvas.height().max(1));
        let mut tried = Vec::new();
        let order: &[wgpu::Backends] = match choice {
            BackendChoice::Auto => &[wgpu::Backends::BROWSER_WEBGPU, wgpu::Backends::GL],
            BackendChoice::WebGpu => &[wgpu::Backends::BROWSER_WEBGPU],
            BackendChoice::WebGl2 => &[wgpu::Backends::GL],
        };
        for &backends in order {
            let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
                backends,
                ..wgpu::InstanceDescriptor::new_without_display_handle()
            });
            // A canvas keeps the first context it hands out: creating a WebGPU surface takes
            // it even when the browser then has no adapter (stock Chromium on Linux, most TVs),
            // and WebGL2 or a 2D context can no longer be had. Ask for an adapter without a
            // surface first and leave the canvas alone when there is none.
            if backends == wgpu::Backends::BROWSER_WEBGPU {
                if let Err(e) = Self::adapter(&instance, None).await {
                    tried.push(format!("{backends:?}: {e}"));
                    continue;
                }
            }
            let surface = match instance.create_surface(wgpu::SurfaceTarget::Canvas(canvas.clone()))
            {
                Ok(s) => s,
                Err(e) => {
                    tried.push(format!("{backends:?}: {e}"));
                    continue;
                }
            };
            match Self::with_surface(instance, surface, w, h).await {
                Ok(r) => return Ok(r),
                Err(e) => tried.push(format!("{backends:?}: {e}")),
            }
        }
        Err(RenderError::NoAdapter(tried.join("; ")))
    }

    /// Builds the device and pipelines for `surface`.
    pub async fn with_surface(
        instance: wgpu::Instance,
        surface: wgpu::Surface<'static>,
        width: u32,
        height: u32,
    ) -> Result<Renderer, RenderError> {
        let adapter = Self::adapter(&instance, Some(&surface)).await?;
        let (device, queue) = Self::device(&adapter).await?;
        let mut config = surface
            .get_default_config(&adapter, width.max(1), height.max(1))
            .ok_or_else(|| RenderError::Surface("not supported by the adapter".into()))?;
        // A non-sRGB view: the shader writes encoded values (video is already gamma-encoded).
        let caps = surface.get_capabilities(&adapter);
        if let Some(f) = caps.formats.iter().find(|f| !f.is_srgb()) {
            config.format = *f;
        }
        config.usage = wgpu::TextureUsages::RENDER_ATTACHMENT;
        surface.configure(&device, &config);
        Ok(Self::build(
            instance,
            Some(surface),
            &adapter,
            device,
            queue,
            config,
        ))
    }

    /// A renderer without a surface (headless native hosts, no window system): it draws a
    /// `width`×`height` RGBA picture that only [`Renderer::capture`] reads back. With the
    /// `vulkan` feature this runs on Mesa's lavapipe (CPU) where there is no GPU.
    pub async fn offscreen(
        instance: wgpu::Instance,
        width: u32,
        height: u32,
    ) -> Result<Renderer, RenderError> {
        let adapter = Self::adapter(&instance, None).await?;
        let (device, queue) = Self::device(&adapter).await?;
        let config = wgpu::SurfaceConfiguration {
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT,
            format: wgpu::TextureFormat::Rgba8Unorm,
            color_space: Default::default(),
            width: width.max(1),
            height: height.max(1),
            present_mode: wgpu::PresentMode::Fifo,
            desired_maximum_frame_latency: 2,
            alpha_mode: wgpu::CompositeAlphaMode::Opaque,
            view_formats: Vec::new(),
        };
        Ok(Self::build(instance, None, &adapter, device, queue, config))
    }

    /// Blocks until the GPU finished the submitted work and mapping callbacks ran (native
    /// hosts after [`Capture::map`]; a no-op in browsers).
    pub fn wait(&self) -> Result<(), RenderError> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map(|_| ())
            .map_err(|e| RenderError::Device(e.to_string()))
    }

    async fn adapter(
        instance: &wgpu::Instance,
        surface: Option<&wgpu::Surface<'static>>,
    ) -> Result<wgpu::Adapter, RenderError> {
        instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::LowPower,
                force_fallback_adapter: false,
                compatible_surface: surface,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| RenderError::NoAdapter(e.to_string()))
    }

    async fn device(adapter: &wgpu::Adapter) -> Result<(wgpu::Device, wgpu::Queue), RenderError> {
        adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("kinema"),
                required_limits: wgpu::Limits::downlevel_webgl2_defaults()
                    .using_resolution(adapter.limits()),
                ..wgpu::DeviceDescriptor::default()
            })
            .await
            .map_err(|e| RenderError::Device(e.to_string()))
    }

    fn build(
        instance: wgpu::Instance,
        surface: Option<wgpu::Surface<'static>>,
        adapter: &wgpu::Adapter,
        device: wgpu::Device,
        queue: wgpu::Queue,
        config: wgpu::SurfaceConfiguration,
    ) -> Renderer {
        let lost = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = lost.clone();
        device.set_device_lost_callback(move |_, _| {
            flag.store(true, std::sync::atomic::Ordering::Relaxed);
        });
        let backend = match adapter.get_info().backend {
            wgpu::Backend::BrowserWebGpu => "webgpu",
            wgpu::Backend::Gl => "webgl2",
            wgpu::Backend::Vulkan => "vulkan",
            wgpu::Backend::Metal => "metal",
            wgpu::Backend::Dx12 => "dx12",
            _ => "other",
        };
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("kinema video"),
            source: wgpu::ShaderSource::Wgsl(SHADER.into()),
        });
        let pipeline = |entry: &str, blend: Option<wgpu::BlendState>| {
            device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some(entry),
                layout: None,
                vertex: wgpu::VertexState {
                    module: &module,
                    entry_point: Some("vs"),
                    compilation_options: Default::default(),
                    buffers: &[],
                },
                primitive: wgpu::PrimitiveState {
                    topology: wgpu::PrimitiveTopology::TriangleStrip,
                    ..Default::default()
                },
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &module,
                    entry_point: Some(entry),
                    compilation_options: Default::default(),
                    targets: &[Some(wgpu::ColorTargetState {
                        format: config.format,
                        blend,
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                }),
                multiview_mask: None,
                cache: None,
            })
        };
        let rgba_pipeline = pipeline("fs_rgba", None);
        let yuv_pipeline = pipeline("fs_yuv", None);
        let overlay_pipeline = pipeline("fs_overlay", Some(wgpu::BlendState::ALPHA_BLENDING));
        let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
            label: Some("kinema video"),
            mag_filter: wgpu::FilterMode::Linear,
            min_filter: wgpu::FilterMode::Linear,
            ..Default::default()
        });
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kinema yuv params"),
            size: 64,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Renderer {
            lost,
            _instance: instance,
            surface,
            device,
            queue,
            config,
            rgba_pipeline,
            yuv_pipeline,
            sampler,
            params,
            rgba: None,
            yuv: None,
            shown: Shown::None,
            backend,
            overlay_pipeline,
            overlay: None,
        }
    }

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

    /// Draws the last picture again (after a resize), or black.
    pub fn redraw(&mut self) -> Result<(), RenderError> {
        match self.shown {
            Shown::None => self.clear(),
            _ => self.render(),
        }
    }

    /// Sets the overlay drawn over the picture's rectangle (letterbox bars excluded):
    /// `width`×`height` straight-alpha RGBA pixels, rows packed, stretched to the rectangle
    /// (give it the rectangle's pixel size for sharp text). Redraws.
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
    #[cfg(target_arch = "wasm32")]
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
        self.shown = Shown::Rgba { dw: w, dh: h };
        self.render()
    }

    /// Draws packed 8-bit RGBA (or BGRA with `bgra`) pixels, `stride` bytes per row.
    pub fn draw_rgba(
        &mut self,
        width: u32,
        height: u32,
        pixels: &[u8],
        stride: u32,
        bgra: bool,
        display: (u32, u32),
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
        self.shown = Shown::Rgba { dw, dh };
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
        self.shown = Shown::Yuv { dw, dh };
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
        let (yuv, dw, dh) = match self.shown {
            Shown::Rgba { dw, dh } => (false, dw, dh),
            Shown::Yuv { dw, dh } => (true, dw, dh),
            Shown::None => return,
        };
        let (pipeline, planes) = if yuv {
            (&self.yuv_pipeline, self.yuv.as_ref())
        } else {
            (&self.rgba_pipeline, self.rgba.as_ref())
        };
        if let Some(planes) = planes {
            let (x, y, w, h) = letterbox(dw, dh, self.config.width, self.config.height);
            pass.set_viewport(x, y, w, h, 0.0, 1.0);
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, &planes.bind, &[]);
            pass.draw(0..4, 0..1);
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

/// Pixels being copied back from the GPU (see [`Renderer::capture`]).
pub struct Capture {
    /// Kept until the copy is read: dropping a wgpu texture destroys it at once.
    _target: wgpu::Texture,
    buffer: wgpu::Buffer,
    width: u32,
    height: u32,
    row: u32,
    bgra: bool,
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
    fn letterbox_and_pillarbox() {
        assert_eq!(letterbox(1920, 1080, 1280, 720), (0.0, 0.0, 1280.0, 720.0));
        // 4:3 in 16:9 → pillarbox.
        assert_eq!(letterbox(640, 480, 1280, 720), (160.0, 0.0, 960.0, 720.0));
        // 16:9 in 4:3 → letterbox.
        assert_eq!(letterbox(1280, 720, 800, 600), (0.0, 75.0, 800.0, 450.0));
    }
}
