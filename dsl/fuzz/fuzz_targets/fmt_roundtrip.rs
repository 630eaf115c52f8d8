//! Inputs that parse: formatting succeeds, re-parses to an equal tree and is idempotent.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    pest::set_call_limit(std::num::NonZeroUsize::new(1_000_000));
    let mut map = crmmap_dsl::SourceMap::new();
    let id = map.add("fuzz.crmmap", text);
    if crmmap_dsl::parse(map.get(id)).is_err() {
        return; // Only inputs that parse have a formatting to check (the parse target covers the rest).
    }
    let once = crmmap_dsl::fmt::format(map.get(id)).expect("formatting an input that parses");
    let id2 = map.add("fuzz.crmmap", once.as_str());
    let twice = crmmap_dsl::fmt::format(map.get(id2)).expect("formatting formatted text");
    assert_eq!(once, twice);
});
