//! Kinema's own WebGL2 display, for browsers and TVs without WebGPU; WebGL1 too, for old TV
//! engines (the same code: GLSL ES 1.00 shaders and unsized `LUMINANCE` textures, which both
//! versions take).
//!
//! Why not wgpu's GL backend: it compiles shaders in Wasm (naga) over wgpu-core, which made
//! the package that every browser without WebGPU needs ~1.6 MB gzip, twice the default one
//! (issue 16, BENCHMARKS.md "Size budgets"). WebGL2 itself does everything this display
//! needs, so a few hundred lines on web-sys replace it: three small programs (YUV, RGB, the
//! overlay), a handful of textures, one 4-vertex buffer.
//!
//! Two ways in:
//! - **YUV planes** ([`WebGl::draw_yuv`]): a WebCodecs `VideoFrame`'s 8-bit I420 / NV12
//!   planes as `copyTo` wrote them, uploaded to `LUMINANCE` (`LUMINANCE_ALPHA` for NV12's
//!   interleaved chroma) textures and converted in the fragment shader with kinema-render's
//!   matrix ([`kinema_render::yuv_to_rgb`]), as the WebGPU and set-top paths do. Rows with
//!   padding (`copyTo` without a layout packs them tight, so rarely) are skipped with
//!   `UNPACK_ROW_LENGTH` on WebGL2 and repacked on WebGL1, which has no such parameter.
//!   Measured on this machine (720p H.264, full-screen canvas):
//!   `texImage2D(VideoFrame)` converts on the page's main thread, 14.6 ms a picture, 58 ms
//!   under 4× CPU throttling — more than a picture's time at 30 fps; the planes are a copy.
//! - **Any image source** ([`WebGl::draw_source`]): an MSE snapshot's `ImageBitmap` or canvas,
//!   and frames whose samples the shader does not take (10-bit, 4:4:4, RGB), through
//!   `texImage2D`, which converts them. Where the engine refuses a source there, the caller
//!   converts it to RGBA bytes first ([`WebGl::draw_rgba`]).
//!
//! The picture is turned by its [`Orientation`] in the vertex shader (the same texture
//! coordinates as kinema-render's WGSL shader: [`Orientation::source_point`]) and drawn into
//! the letterboxed viewport ([`kinema_render::letterbox`]); the subtitle overlay is blended
//! upright (straight alpha) over the picture's rectangle, or over the whole canvas when no
//! picture is shown. The canvas keeps no drawing buffer between frames
//! (`preserveDrawingBuffer: false`), so [`WebGl::redraw`] draws from the textures again: after
//! a resize, and before a capture reads the canvas in the same task.

use kinema_render::{letterbox, yuv_to_rgb, Orientation, YuvFrame, YuvLayout};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{
    HtmlCanvasElement, WebGl2RenderingContext as Gl, WebGlProgram, WebGlShader, WebGlTexture,
    WebGlUniformLocation,
};

// GLSL ES 1.00: WebGL1 takes nothing newer, and WebGL2 takes it too.
const VERTEX: &str = r#"
// A quad as a 4-vertex triangle strip over the viewport (corners (0,0) (1,0) (0,1) (1,1), y
// down). `turn` is Orientation's code: quarter turns clockwise in bits 0-1, mirror first in
// bit 2; the texture coordinates are the inverse of the turn (Orientation::source_point).
attribute vec2 corner;
uniform float turn;
varying vec2 uv;
void main() {
    float x = corner.x;
    float y = corner.y;
    vec2 t = vec2(x, y);
    float q = mod(turn, 4.0);
    if (q > 0.5 && q < 1.5) { t = vec2(y, 1.0 - x); }
    else if (q > 1.5 && q < 2.5) { t = vec2(1.0 - x, 1.0 - y); }
    else if (q > 2.5) { t = vec2(1.0 - y, x); }
    if (turn > 3.5) { t.x = 1.0 - t.x; }
    uv = t;
    gl_Position = vec4(x * 2.0 - 1.0, 1.0 - y * 2.0, 0.0, 1.0);
}
"#;

const YUV: &str = r#"
precision mediump float;
uniform sampler2D tex0;
uniform sampler2D tex1;
uniform sampler2D tex2;
// Rows of the YUV -> RGB matrix (kinema_render::yuv_to_rgb); nv12: U, V interleaved in tex1
// (LUMINANCE_ALPHA: U in .r, V in .a).
uniform vec4 r;
uniform vec4 g;
uniform vec4 b;
uniform bool nv12;
varying vec2 uv;
void main() {
    float y = texture2D(tex0, uv).r;
    vec4 c1 = texture2D(tex1, uv);
    float v = nv12 ? c1.a : texture2D(tex2, uv).r;
    vec4 yuv = vec4(y, c1.r, v, 1.0);
    gl_FragColor = vec4(clamp(vec3(dot(r, yuv), dot(g, yuv), dot(b, yuv)), 0.0, 1.0), 1.0);
}
"#;

const PICTURE: &str = r#"
precision mediump float;
uniform sampler2D tex;
varying vec2 uv;
void main() { gl_FragColor = vec4(texture2D(tex, uv).rgb, 1.0); }
"#;

const OVERLAY: &str = r#"
precision mediump float;
uniform sampler2D tex;
varying vec2 uv;
void main() { gl_FragColor = texture2D(tex, uv); }
"#;

/// Which WebGL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// WebGL2 (`webgl2` context).
    Two,
    /// WebGL1 (`webgl` context): old TV engines.
    One,
}

#[wasm_bindgen]
extern "C" {
    /// A WebGL2 context whose `texImage2D` takes any `TexImageSource` (VideoFrame,
    /// ImageBitmap, canvas, OffscreenCanvas, video): web-sys has one method per source type,
    /// this display takes whatever the picture store holds.
    #[wasm_bindgen(extends = Gl)]
    type AnySourceGl;
    /// `texImage2D(target, level, internalformat, format, type, source)`.
    #[wasm_bindgen(method, catch, js_name = texImage2D)]
    fn tex_image_source(
        this: &AnySourceGl,
        target: u32,
        level: i32,
        internal_format: i32,
        format: u32,
        kind: u32,
        source: &JsValue,
    ) -> Result<(), JsValue>;
}

/// What is on screen, for redraws: the picture's display size before turning, the turn, and
/// which textures hold it.
#[derive(Clone, Copy, PartialEq)]
struct Shown {
    width: u32,
    height: u32,
    turn: Orientation,
    yuv: bool,
}

/// The YUV program's uniforms.
struct YuvUniforms {
    turn: Option<WebGlUniformLocation>,
    rows: [Option<WebGlUniformLocation>; 3],
    nv12: Option<WebGlUniformLocation>,
}

/// A WebGL display over one canvas.
pub struct WebGl {
    canvas: HtmlCanvasElement,
    /// A WebGL1 context is held through the WebGL2 type too: the calls made here exist on
    /// both with the same arguments (wasm-bindgen calls methods by name), except
    /// `UNPACK_ROW_LENGTH`, which only [`Version::Two`] uses.
    gl: Gl,
    version: Version,
    /// Rows repacked without their padding for WebGL1, which cannot skip it.
    packed: Vec<u8>,
    picture_program: WebGlProgram,
    picture_turn: Option<WebGlUniformLocation>,
    yuv_program: WebGlProgram,
    yuv_uniforms: YuvUniforms,
    /// Y, U (or UV), V planes.
    planes: [WebGlTexture; 3],
    overlay_program: WebGlProgram,
    picture: WebGlTexture,
    overlay: WebGlTexture,
    shown: Option<Shown>,
    has_overlay: bool,
}

fn compile(gl: &Gl, kind: u32, source: &str) -> Result<WebGlShader, String> {
    let shader = gl
        .create_shader(kind)
        .ok_or_else(|| "no shader object (context lost?)".to_string())?;
    gl.shader_source(&shader, source);
    gl.compile_shader(&shader);
    if gl
        .get_shader_parameter(&shader, Gl::COMPILE_STATUS)
        .as_bool()
        .unwrap_or(false)
    {
        Ok(shader)
    } else {
        Err(gl.get_shader_info_log(&shader).unwrap_or_default())
    }
}

fn link(gl: &Gl, fragment: &str) -> Result<WebGlProgram, String> {
    let vs = compile(gl, Gl::VERTEX_SHADER, VERTEX)?;
    let fs = compile(gl, Gl::FRAGMENT_SHADER, fragment)?;
    let program = gl
        .create_program()
        .ok_or_else(|| "no program object (context lost?)".to_string())?;
    gl.attach_shader(&program, &vs);
    gl.attach_shader(&program, &fs);
    gl.bind_attrib_location(&program, 0, "corner");
    gl.link_program(&program);
    gl.delete_shader(Some(&vs));
    gl.delete_shader(Some(&fs));
    if gl
        .get_program_parameter(&program, Gl::LINK_STATUS)
        .as_bool()
        .unwrap_or(false)
    {
        Ok(program)
    } else {
        Err(gl.get_program_info_log(&program).unwrap_or_default())
    }
}

/// A texture sampled linearly, clamped at the edges (any size: no mipmaps).
fn texture(gl: &Gl) -> Result<WebGlTexture, String> {
    let t = gl
        .create_texture()
        .ok_or_else(|| "no texture object (context lost?)".to_string())?;
    gl.bind_texture(Gl::TEXTURE_2D, Some(&t));
    for (k, v) in [
        (Gl::TEXTURE_MIN_FILTER, Gl::LINEAR),
        (Gl::TEXTURE_MAG_FILTER, Gl::LINEAR),
        (Gl::TEXTURE_WRAP_S, Gl::CLAMP_TO_EDGE),
        (Gl::TEXTURE_WRAP_T, Gl::CLAMP_TO_EDGE),
    ] {
        gl.tex_parameteri(Gl::TEXTURE_2D, k, v as i32);
    }
    Ok(t)
}

impl WebGl {
    /// A WebGL display of `version` drawing into `canvas`, or why not (no such WebGL in this
    /// engine, the canvas holds another kind of context, a shader the driver refuses).
    pub fn new(canvas: HtmlCanvasElement, version: Version) -> Result<WebGl, String> {
        let options = js_sys::Object::new();
        for (k, v) in [
            ("alpha", false),
            ("antialias", false),
            ("depth", false),
            ("stencil", false),
            ("premultipliedAlpha", false),
            ("preserveDrawingBuffer", false),
        ] {
            let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
        }
        let kind = match version {
            Version::Two => "webgl2",
            Version::One => "webgl",
        };
        let gl = canvas
            .get_context_with_context_options(kind, &options)
            .map_err(|e| format!("{e:?}"))?
            .ok_or_else(|| format!("no {kind} context on this canvas"))?
            .unchecked_into::<Gl>();
        let picture_program = link(&gl, PICTURE)?;
        let overlay_program = link(&gl, OVERLAY)?;
        let picture_turn = gl.get_uniform_location(&picture_program, "turn");
        let yuv_program = link(&gl, YUV)?;
        let at = |name: &str| gl.get_uniform_location(&yuv_program, name);
        let yuv_uniforms = YuvUniforms {
            turn: at("turn"),
            rows: [at("r"), at("g"), at("b")],
            nv12: at("nv12"),
        };
        gl.use_program(Some(&yuv_program));
        for (i, name) in ["tex0", "tex1", "tex2"].into_iter().enumerate() {
            gl.uniform1i(
                gl.get_uniform_location(&yuv_program, name).as_ref(),
                i as i32,
            );
        }
        let planes = [texture(&gl)?, texture(&gl)?, texture(&gl)?];
        let picture = texture(&gl)?;
        let overlay = texture(&gl)?;
        // The quad's corners, attribute 0 of every program.
        let corners = gl
            .create_buffer()
            .ok_or_else(|| "no buffer object (context lost?)".to_string())?;
        gl.bind_buffer(Gl::ARRAY_BUFFER, Some(&corners));
        let quad = js_sys::Float32Array::from(&[0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0][..]);
        gl.buffer_data_with_array_buffer_view(Gl::ARRAY_BUFFER, &quad, Gl::STATIC_DRAW);
        gl.enable_vertex_attrib_array(0);
        gl.vertex_attrib_pointer_with_i32(0, 2, Gl::FLOAT, false, 0, 0);
        gl.pixel_storei(Gl::UNPACK_ALIGNMENT, 1);
        gl.pixel_storei(Gl::UNPACK_FLIP_Y_WEBGL, 0);
        gl.pixel_storei(Gl::UNPACK_PREMULTIPLY_ALPHA_WEBGL, 0);
        gl.blend_func(Gl::SRC_ALPHA, Gl::ONE_MINUS_SRC_ALPHA);
        let me = WebGl {
            canvas,
            gl,
            version,
            packed: Vec::new(),
            picture_program,
            picture_turn,
            yuv_program,
            yuv_uniforms,
            planes,
            overlay_program,
            picture,
            overlay,
            shown: None,
            has_overlay: false,
        };
        me.render();
        Ok(me)
    }

    /// `webgl2` or `webgl1`.
    pub fn name(&self) -> &'static str {
        match self.version {
            Version::Two => "webgl2",
            Version::One => "webgl1",
        }
    }

    /// True once the context is lost (a GPU reset, too many contexts on a TV).
    pub fn is_lost(&self) -> bool {
        self.gl.is_context_lost()
    }

    /// Uploads `source` (a `VideoFrame`, `ImageBitmap`, canvas) as the picture, shown at the
    /// aspect of `display` (its size before turning) turned by `turn`, and draws it.
    pub fn draw_source(
        &mut self,
        source: &JsValue,
        display: (u32, u32),
        turn: Orientation,
    ) -> Result<(), JsValue> {
        self.upload_source(&self.picture, source)?;
        self.show(display, turn);
        Ok(())
    }

    /// `texImage2D` of an image source into `texture`, as RGBA.
    fn upload_source(&self, texture: &WebGlTexture, source: &JsValue) -> Result<(), JsValue> {
        self.gl.bind_texture(Gl::TEXTURE_2D, Some(texture));
        self.gl.unchecked_ref::<AnySourceGl>().tex_image_source(
            Gl::TEXTURE_2D,
            0,
            Gl::RGBA as i32,
            Gl::RGBA,
            Gl::UNSIGNED_BYTE,
            source,
        )
    }

    /// Uploads packed 8-bit RGBA rows of `width`×`height` as the picture (a source the engine
    /// would not take directly, converted by the caller) and draws it.
    pub fn draw_rgba(
        &mut self,
        width: u32,
        height: u32,
        rgba: &[u8],
        display: (u32, u32),
        turn: Orientation,
    ) -> Result<(), JsValue> {
        self.upload_rgba(&self.picture.clone(), width, height, rgba)?;
        self.show(display, turn);
        Ok(())
    }

    fn upload_rgba(
        &self,
        texture: &WebGlTexture,
        width: u32,
        height: u32,
        rgba: &[u8],
    ) -> Result<(), JsValue> {
        if (rgba.len() as u64) < u64::from(width) * u64::from(height) * 4 {
            return Err(JsValue::from_str("RGBA pixels smaller than their size"));
        }
        self.gl.bind_texture(Gl::TEXTURE_2D, Some(texture));
        self.gl
            .tex_image_2d_with_i32_and_i32_and_i32_and_format_and_type_and_opt_u8_array(
                Gl::TEXTURE_2D,
                0,
                Gl::RGBA as i32,
                width as i32,
                height as i32,
                0,
                Gl::RGBA,
                Gl::UNSIGNED_BYTE,
                Some(rgba),
            )
    }

    /// Uploads 8-bit I420 or NV12 planes (rows `y_stride` / `uv_stride` bytes apart) and draws
    /// them through the YUV shader with the frame's matrix and range.
    pub fn draw_yuv(&mut self, frame: &YuvFrame<'_>) -> Result<(), JsValue> {
        let (w, h) = (frame.width.max(2), frame.height.max(2));
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        let nv12 = match frame.layout {
            YuvLayout::I420 {
                y,
                u,
                v,
                y_stride,
                uv_stride,
            } => {
                self.upload_plane(0, Gl::LUMINANCE, 1, y, y_stride, w, h)?;
                self.upload_plane(1, Gl::LUMINANCE, 1, u, uv_stride, cw, ch)?;
                self.upload_plane(2, Gl::LUMINANCE, 1, v, uv_stride, cw, ch)?;
                false
            }
            YuvLayout::Nv12 {
                y,
                uv,
                y_stride,
                uv_stride,
            } => {
                self.upload_plane(0, Gl::LUMINANCE, 1, y, y_stride, w, h)?;
                self.upload_plane(1, Gl::LUMINANCE_ALPHA, 2, uv, uv_stride, cw, ch)?;
                true
            }
        };
        let m = yuv_to_rgb(frame.matrix, frame.range);
        self.gl.use_program(Some(&self.yuv_program));
        for (row, at) in m.iter().zip(&self.yuv_uniforms.rows) {
            self.gl
                .uniform4f(at.as_ref(), row[0], row[1], row[2], row[3]);
        }
        self.gl
            .uniform1i(self.yuv_uniforms.nv12.as_ref(), i32::from(nv12));
        self.shown = Some(Shown {
            width: frame.display_width.max(1),
            height: frame.display_height.max(1),
            turn: frame.orientation,
            yuv: true,
        });
        self.render();
        Ok(())
    }

    /// Uploads one plane of `width`×`height` samples of `texel` bytes (`format`: `LUMINANCE`
    /// or `LUMINANCE_ALPHA`, which both WebGL versions take), rows `stride` bytes apart, into
    /// plane texture `index`.
    #[allow(clippy::too_many_arguments)] // one plane's description
    fn upload_plane(
        &mut self,
        index: usize,
        format: u32,
        texel: u32,
        data: &[u8],
        stride: u32,
        width: u32,
        height: u32,
    ) -> Result<(), JsValue> {
        let row = width * texel;
        if stride < row
            || (data.len() as u64) < u64::from(stride) * u64::from(height - 1) + u64::from(row)
        {
            return Err(JsValue::from_str(
                "a picture plane is smaller than its size",
            ));
        }
        let Some(texture) = self.planes.get(index) else {
            return Err(JsValue::from_str("no such plane"));
        };
        self.gl.bind_texture(Gl::TEXTURE_2D, Some(texture));
        let padded = stride != row;
        let data = match self.version {
            Version::Two => {
                // Rows are `stride` bytes apart: tell GL in texels.
                if padded {
                    self.gl
                        .pixel_storei(Gl::UNPACK_ROW_LENGTH, (stride / texel) as i32);
                }
                data
            }
            Version::One if padded => {
                // WebGL1 has no row length: copy the rows without their padding.
                self.packed.clear();
                for r in 0..height as usize {
                    let start = r * stride as usize;
                    self.packed
                        .extend_from_slice(data.get(start..start + row as usize).unwrap_or(&[]));
                }
                &self.packed[..]
            }
            Version::One => data,
        };
        let result = self
            .gl
            .tex_image_2d_with_i32_and_i32_and_i32_and_format_and_type_and_opt_u8_array(
                Gl::TEXTURE_2D,
                0,
                format as i32,
                width as i32,
                height as i32,
                0,
                format,
                Gl::UNSIGNED_BYTE,
                Some(data),
            );
        if padded && self.version == Version::Two {
            self.gl.pixel_storei(Gl::UNPACK_ROW_LENGTH, 0);
        }
        result
    }

    fn show(&mut self, (width, height): (u32, u32), turn: Orientation) {
        self.shown = Some(Shown {
            width: width.max(1),
            height: height.max(1),
            turn,
            yuv: false,
        });
        self.render();
    }

    /// Sets the overlay (subtitles) drawn over the picture's rectangle: a canvas (or any
    /// `TexImageSource`) of straight-alpha RGBA, stretched to the rectangle. Redraws.
    pub fn set_overlay(&mut self, source: &JsValue) -> Result<(), JsValue> {
        self.upload_source(&self.overlay, source)?;
        self.has_overlay = true;
        self.render();
        Ok(())
    }

    /// Removes the overlay. Redraws.
    pub fn clear_overlay(&mut self) {
        if std::mem::take(&mut self.has_overlay) {
            self.render();
        }
    }

    /// Black, no picture (the overlay stays, over the whole canvas).
    pub fn clear(&mut self) {
        self.shown = None;
        self.render();
    }

    /// Draws what is shown again from the textures (after a resize; before a capture).
    pub fn redraw(&self) {
        self.render();
    }

    fn render(&self) {
        let gl = &self.gl;
        let (cw, ch) = (self.canvas.width().max(1), self.canvas.height().max(1));
        gl.viewport(0, 0, cw as i32, ch as i32);
        gl.clear_color(0.0, 0.0, 0.0, 1.0);
        gl.clear(Gl::COLOR_BUFFER_BIT);
        gl.active_texture(Gl::TEXTURE0);
        if let Some(shown) = self.shown {
            let (sw, sh) = shown.turn.shown_size(shown.width, shown.height);
            let (x, y, w, h) = letterbox(sw, sh, cw, ch);
            // GL's viewport counts rows from the bottom.
            let bottom = ch as f32 - y - h;
            gl.viewport(x as i32, bottom as i32, w as i32, h as i32);
            let turn = shown.turn.code() as f32;
            if shown.yuv {
                gl.use_program(Some(&self.yuv_program));
                gl.uniform1f(self.yuv_uniforms.turn.as_ref(), turn);
                for (i, t) in self.planes.iter().enumerate() {
                    gl.active_texture(Gl::TEXTURE0 + i as u32);
                    gl.bind_texture(Gl::TEXTURE_2D, Some(t));
                }
                gl.active_texture(Gl::TEXTURE0);
            } else {
                gl.use_program(Some(&self.picture_program));
                gl.uniform1f(self.picture_turn.as_ref(), turn);
                gl.bind_texture(Gl::TEXTURE_2D, Some(&self.picture));
            }
            gl.draw_arrays(Gl::TRIANGLE_STRIP, 0, 4);
        }
        if self.has_overlay {
            gl.use_program(Some(&self.overlay_program));
            gl.bind_texture(Gl::TEXTURE_2D, Some(&self.overlay));
            gl.enable(Gl::BLEND);
            gl.draw_arrays(Gl::TRIANGLE_STRIP, 0, 4);
            gl.disable(Gl::BLEND);
        }
    }
}
