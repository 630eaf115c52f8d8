//! Any UTF-8 input: the parser returns a tree or a diagnostic, never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    pest::set_call_limit(std::num::NonZeroUsize::new(1_000_000));
    let mut map = crmmap_dsl::SourceMap::new();
    let id = map.add("fuzz.crmmap", text);
    let _ = crmmap_dsl::parse(map.get(id));
});
