//! The whole player in the simulated host: fuzz bytes are the served file and a script of app
//! requests. It must end every scenario without a panic, and always accept a new load.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kinema_core::sim::fuzz_scenario(data);
});
