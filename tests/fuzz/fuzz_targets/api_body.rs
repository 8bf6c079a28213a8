#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mmsm_fuzz::run("api_body", data));
