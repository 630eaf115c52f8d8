//! Inputs that parse: checking never panics, and a model comes exactly when there is no error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    pest::set_call_limit(std::num::NonZeroUsize::new(1_000_000));
    let mut map = crmmap_dsl::SourceMap::new();
    map.add("fuzz.crmmap", text);
    let checked = crmmap_dsl::check_sources(&map);
    assert_eq!(checked.model.is_some(), !checked.has_errors());
});
