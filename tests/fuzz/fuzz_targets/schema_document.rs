#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mmsm_fuzz::run("schema_document", data));
