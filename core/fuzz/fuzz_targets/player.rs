//! The whole player in the simulated host: fuzz bytes are the served file and a script of app
//! requests. It must end every scenario without a panic, and always accept a new load.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // An unusable player after the scenario (a good file no longer loads) is a finding too.
    if let Err(why) = kinema_core::sim::fuzz_scenario(data) {
        panic!("the player is unusable after the scenario: {why}");
    }
});
