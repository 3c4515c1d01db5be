//! Setting up a [`Renderer`]: the adapter and device for a canvas, a native surface or an
//! offscreen target, and the pipelines every way of drawing uses.

use super::*;

impl Renderer {
    /// A renderer drawing into an HTML canvas (its `width`/`height` are the drawing size).
    #[cfg(all(target_arch = "wasm32", feature = "webgpu"))]
    pub async fn from_canvas(
        canvas: web_sys::HtmlCanvasElement,
        choice: crate::BackendChoice,
    ) -> Result<Renderer, RenderError> {
        let (w, h) = (canvas.width().max(1), canvas.height().max(1));
        let mut tried = Vec::new();
        let order: &[wgpu::Backends] = match choice {
            crate::BackendChoice::Auto | crate::BackendChoice::WebGpu => {
                &[wgpu::Backends::BROWSER_WEBGPU]
            }
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
}
