//! Which WebAssembly proposals the module uses (from its operators, via wasmparser) and
//! whether it loads on an MVP-only engine (wasmi with every post-MVP proposal off).

use std::collections::BTreeMap;

use anyhow::Result;
use wasmparser::{Operator, Parser, Payload};

/// Prints a Markdown fragment (used by scripts/portability.sh).
pub fn report(wasm: &[u8]) -> Result<()> {
    let mut used: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut imports = 0;
    let mut exports = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::ImportSection(s) => imports += s.count(),
            Payload::TypeSection(s) => {
                for group in s {
                    for ty in group?.into_types() {
                        if let wasmparser::CompositeInnerType::Func(f) = &ty.composite_type.inner {
                            if f.results().len() > 1 {
                                *used.entry("multi-value").or_default() += 1;
                            }
                        }
                    }
                }
            }
            Payload::ExportSection(s) => {
                for e in s {
                    exports.push(e?.name.to_string());
                }
            }
            Payload::CodeSectionEntry(body) => {
                let mut ops = body.get_operators_reader()?;
                while !ops.eof() {
                    if let Some(f) = proposal(&ops.read()?) {
                        *used.entry(f).or_default() += 1;
                    }
                }
            }
            _ => {}
        }
    }
    println!("- imports: {imports}");
    println!("- exports: {}", exports.join(", "));
    if used.is_empty() {
        println!("- post-MVP instructions: none");
    }
    for (f, n) in &used {
        let what = if *f == "multi-value" {
            "function types"
        } else {
            "instructions"
        };
        println!("- post-MVP `{f}`: {n} {what}");
    }
    let mvp = crate::engine::load(crate::engine::Kind::Wasmi, wasm, true);
    match mvp {
        Ok(_) => println!("- loads in wasmi with every post-MVP proposal disabled: yes"),
        Err(e) => println!("- loads in wasmi with every post-MVP proposal disabled: no ({e})"),
    }
    Ok(())
}

fn proposal(op: &Operator<'_>) -> Option<&'static str> {
    use Operator as O;
    Some(match op {
        O::I32Extend8S | O::I32Extend16S | O::I64Extend8S | O::I64Extend16S | O::I64Extend32S => {
            "sign-extension"
        }
        O::I32TruncSatF32S
        | O::I32TruncSatF32U
        | O::I32TruncSatF64S
        | O::I32TruncSatF64U
        | O::I64TruncSatF32S
        | O::I64TruncSatF32U
        | O::I64TruncSatF64S
        | O::I64TruncSatF64U => "nontrapping-fptoint",
        O::MemoryCopy { .. } | O::MemoryFill { .. } | O::MemoryInit { .. } | O::DataDrop { .. } => {
            "bulk-memory"
        }
        O::TableGet { .. } | O::TableSet { .. } | O::RefNull { .. } | O::RefFunc { .. } => {
            "reference-types"
        }
        O::ReturnCall { .. } | O::ReturnCallIndirect { .. } => "tail-call",
        O::V128Load { .. } | O::V128Store { .. } | O::V128Const { .. } => "simd",
        _ => return None,
    })
}
