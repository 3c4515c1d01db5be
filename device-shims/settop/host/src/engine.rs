//! The core module in a Wasm engine: wasmtime (JIT, Cranelift) or wasmi (interpreter, for
//! small devices). Both run the same unchanged `.wasm` through the same C ABI (ABI.md).

use anyhow::{anyhow, bail, Context, Result};

/// Which engine runs the module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// wasmtime with Cranelift.
    Wasmtime,
    /// wasmi, an interpreter.
    Wasmi,
}

/// One player inside one instance of the module.
pub trait Core {
    /// Hands an encoded event to the player at host time `now_us`.
    fn handle(&mut self, now_us: u64, event: &[u8]) -> Result<()>;
    /// The next encoded command, if any.
    fn poll(&mut self) -> Result<Option<Vec<u8>>>;
    /// Media time at `now_us`.
    fn current_time(&mut self, now_us: u64) -> Result<f64>;
}

/// Compiles and instantiates `wasm`, creates a player. `mvp`: wasmi only, every post-MVP
/// proposal switched off (the portability check).
pub fn load(kind: Kind, wasm: &[u8], mvp: bool) -> Result<Box<dyn Core>> {
    match kind {
        Kind::Wasmtime => Ok(Box::new(Wasmtime::new(wasm)?)),
        Kind::Wasmi => Ok(Box::new(Wasmi::new(wasm, mvp)?)),
    }
}

/// Refuses a module of another ABI version: its messages would be misread field by field
/// (e.g. a core built before `ConfigureVideoDecoder` carried rotation).
fn check_abi(version: u32) -> Result<()> {
    if version != kinema_abi::ABI_VERSION {
        bail!(
            "the core module speaks ABI version {version}, this host {}: rebuild it \
             (scripts/build-core-wasm.sh)",
            kinema_abi::ABI_VERSION
        );
    }
    Ok(())
}

fn status(code: i32, what: &str) -> Result<()> {
    if code == 0 {
        Ok(())
    } else {
        bail!("{what} returned status {code}")
    }
}

struct Wasmtime {
    store: wasmtime::Store<()>,
    memory: wasmtime::Memory,
    handle_fn: wasmtime::TypedFunc<(u32, u64, u32, u32), i32>,
    poll_fn: wasmtime::TypedFunc<u32, i64>,
    ptr_fn: wasmtime::TypedFunc<u32, u32>,
    alloc_fn: wasmtime::TypedFunc<u32, u32>,
    free_fn: wasmtime::TypedFunc<u32, i32>,
    time_fn: wasmtime::TypedFunc<(u32, u64), f64>,
    player: u32,
    /// A reusable input buffer in the module: (address, capacity).
    buf: (u32, u32),
}

impl Wasmtime {
    fn new(wasm: &[u8]) -> Result<Self> {
        let engine = wasmtime::Engine::new(&wasmtime::Config::new())?;
        let module = wasmtime::Module::new(&engine, wasm)?;
        let mut store = wasmtime::Store::new(&engine, ());
        let instance = wasmtime::Instance::new(&mut store, &module, &[])?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| anyhow!("module exports no memory"))?;
        let version = instance.get_typed_func::<(), u32>(&mut store, "kinema_abi_version")?;
        check_abi(version.call(&mut store, ())?)?;
        let create = instance.get_typed_func::<(), u32>(&mut store, "kinema_create")?;
        let player = create.call(&mut store, ())?;
        Ok(Wasmtime {
            handle_fn: instance.get_typed_func(&mut store, "kinema_handle")?,
            poll_fn: instance.get_typed_func(&mut store, "kinema_poll_command")?,
            ptr_fn: instance.get_typed_func(&mut store, "kinema_command_ptr")?,
            alloc_fn: instance.get_typed_func(&mut store, "kinema_alloc")?,
            free_fn: instance.get_typed_func(&mut store, "kinema_free")?,
            time_fn: instance.get_typed_func(&mut store, "kinema_current_time")?,
            store,
            memory,
            player,
            buf: (0, 0),
        })
    }
}

impl Core for Wasmtime {
    fn handle(&mut self, now_us: u64, event: &[u8]) -> Result<()> {
        let len = u32::try_from(event.len()).context("event too large")?;
        if len > self.buf.1 {
            if self.buf.0 != 0 {
                status(self.free_fn.call(&mut self.store, self.buf.0)?, "free")?;
            }
            let cap = len.max(64 * 1024);
            self.buf = (self.alloc_fn.call(&mut self.store, cap)?, cap);
        }
        self.memory
            .write(&mut self.store, self.buf.0 as usize, event)?;
        let code = self
            .handle_fn
            .call(&mut self.store, (self.player, now_us, self.buf.0, len))?;
        status(code, "kinema_handle")
    }

    fn poll(&mut self) -> Result<Option<Vec<u8>>> {
        let n = self.poll_fn.call(&mut self.store, self.player)?;
        if n < 0 {
            bail!("kinema_poll_command returned {n}");
        }
        if n == 0 {
            return Ok(None);
        }
        let at = self.ptr_fn.call(&mut self.store, self.player)? as usize;
        let mut out = vec![0u8; n as usize];
        self.memory.read(&self.store, at, &mut out)?;
        Ok(Some(out))
    }

    fn current_time(&mut self, now_us: u64) -> Result<f64> {
        Ok(self.time_fn.call(&mut self.store, (self.player, now_us))?)
    }
}

struct Wasmi {
    store: wasmi::Store<()>,
    memory: wasmi::Memory,
    handle_fn: wasmi::TypedFunc<(u32, u64, u32, u32), i32>,
    poll_fn: wasmi::TypedFunc<u32, i64>,
    ptr_fn: wasmi::TypedFunc<u32, u32>,
    alloc_fn: wasmi::TypedFunc<u32, u32>,
    free_fn: wasmi::TypedFunc<u32, i32>,
    time_fn: wasmi::TypedFunc<(u32, u64), f64>,
    player: u32,
    buf: (u32, u32),
}

/// wasmi's errors are not `Sync`: keep their text.
fn wi<T, E: std::fmt::Display>(r: std::result::Result<T, E>) -> Result<T> {
    r.map_err(|e| anyhow!("wasmi: {e}"))
}

impl Wasmi {
    fn new(wasm: &[u8], mvp: bool) -> Result<Self> {
        let mut config = wasmi::Config::default();
        if mvp {
            config
                .wasm_mutable_global(false)
                .wasm_sign_extension(false)
                .wasm_saturating_float_to_int(false)
                .wasm_multi_value(false)
                .wasm_multi_memory(false)
                .wasm_bulk_memory(false)
                .wasm_reference_types(false)
                .wasm_tail_call(false)
                .wasm_extended_const(false)
                .wasm_custom_page_sizes(false)
                .wasm_wide_arithmetic(false);
            // SIMD and memory64 are off unless wasmi's `simd` / `memory64` features are on.
        }
        let engine = wasmi::Engine::new(&config);
        let module = wi(wasmi::Module::new(&engine, wasm))?;
        let mut store = wasmi::Store::new(&engine, ());
        let linker = wasmi::Linker::<()>::new(&engine);
        let instance = wi(linker.instantiate_and_start(&mut store, &module))?;
        let memory = instance
            .get_memory(&store, "memory")
            .ok_or_else(|| anyhow!("module exports no memory"))?;
        let version = wi(instance.get_typed_func::<(), u32>(&store, "kinema_abi_version"))?;
        check_abi(wi(version.call(&mut store, ()))?)?;
        let create = wi(instance.get_typed_func::<(), u32>(&store, "kinema_create"))?;
        let player = wi(create.call(&mut store, ()))?;
        Ok(Wasmi {
            handle_fn: wi(instance.get_typed_func(&store, "kinema_handle"))?,
            poll_fn: wi(instance.get_typed_func(&store, "kinema_poll_command"))?,
            ptr_fn: wi(instance.get_typed_func(&store, "kinema_command_ptr"))?,
            alloc_fn: wi(instance.get_typed_func(&store, "kinema_alloc"))?,
            free_fn: wi(instance.get_typed_func(&store, "kinema_free"))?,
            time_fn: wi(instance.get_typed_func(&store, "kinema_current_time"))?,
            store,
            memory,
            player,
            buf: (0, 0),
        })
    }
}

impl Core for Wasmi {
    fn handle(&mut self, now_us: u64, event: &[u8]) -> Result<()> {
        let len = u32::try_from(event.len()).context("event too large")?;
        if len > self.buf.1 {
            if self.buf.0 != 0 {
                status(wi(self.free_fn.call(&mut self.store, self.buf.0))?, "free")?;
            }
            let cap = len.max(64 * 1024);
            self.buf = (wi(self.alloc_fn.call(&mut self.store, cap))?, cap);
        }
        wi(self
            .memory
            .write(&mut self.store, self.buf.0 as usize, event))?;
        let code = wi(self
            .handle_fn
            .call(&mut self.store, (self.player, now_us, self.buf.0, len)))?;
        status(code, "kinema_handle")
    }

    fn poll(&mut self) -> Result<Option<Vec<u8>>> {
        let n = wi(self.poll_fn.call(&mut self.store, self.player))?;
        if n < 0 {
            bail!("kinema_poll_command returned {n}");
        }
        if n == 0 {
            return Ok(None);
        }
        let at = wi(self.ptr_fn.call(&mut self.store, self.player))? as usize;
        let mut out = vec![0u8; n as usize];
        wi(self.memory.read(&self.store, at, &mut out))?;
        Ok(Some(out))
    }

    fn current_time(&mut self, now_us: u64) -> Result<f64> {
        wi(self.time_fn.call(&mut self.store, (self.player, now_us)))
    }
}
