//! The bitmap fields of a change event's header (`changedFields`, `nulledFields`,
//! `diffFields`) decoded into field names.
//!
//! The Pub/Sub API sends them as lists of strings (Salesforce, "Event Deserialization
//! Considerations"; realtime-and-limits.md §1b): the first element, `0x…`, is a bitmap over the
//! event schema's top-level fields; each further element, `<parent index>-0x…`, is a bitmap
//! over the fields of the compound field at that index (`Name`, `BillingAddress`), read as
//! `Parent.Child`. The hexadecimal string is a big-endian number whose least significant bit is
//! field 0 (Salesforce's own decoder, `python/util/ChangeEventHeaderUtility.py` in
//! `forcedotcom/pub-sub-api`, reverses the bit string the same way).
//!
//! Everything here is outside data: an index past the schema, a malformed element or an odd
//! number of hex digits is skipped (and counted in [`Decoded::skipped`]), never a panic. An
//! element that is neither form is taken as a field name already decoded, so a feed that sends
//! names (as CometD and Event Relay do) decodes the same.

/// One top-level field of an event schema, with the components of a compound field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldShape {
    /// The field's name in the schema (`LastModifiedDate`, `Name`, `BillingAddress`).
    pub name: String,
    /// The component names of a compound field (a record), in schema order; empty otherwise.
    pub components: Vec<String>,
}

/// The field names one bitmap list stands for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Field names in the order of the bitmaps (top level, then compounds): `Name.LastName`.
    pub names: Vec<String>,
    /// Elements, or bits, that named no field of the schema.
    pub skipped: usize,
}

/// Decodes a header bitmap list against the event schema's top-level fields. Names come in
/// schema order, a compound's components at the compound's place (`LastModifiedDate`,
/// `Name.LastName`, `Company`), then names that were sent as names, as sent.
pub fn decode(elements: &[String], fields: &[FieldShape]) -> Decoded {
    let mut out = Decoded::default();
    let mut positions: Vec<(usize, usize, String)> = Vec::new();
    let mut passed = Vec::new();
    for element in elements {
        let element = element.trim();
        if let Some(hex) = strip_hex_prefix(element) {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            for (i, name) in set_bits(hex, &names, &mut out.skipped) {
                positions.push((i, 0, name.to_owned()));
            }
        } else if let Some((parent, hex)) = element.split_once('-') {
            let index = parent.parse::<usize>().ok();
            let parent = index.and_then(|i| Some((i, fields.get(i)?)));
            match (parent, strip_hex_prefix(hex)) {
                (Some((pi, parent)), Some(hex)) if !parent.components.is_empty() => {
                    let names: Vec<&str> = parent.components.iter().map(String::as_str).collect();
                    for (ci, name) in set_bits(hex, &names, &mut out.skipped) {
                        positions.push((pi, ci + 1, format!("{}.{name}", parent.name)));
                    }
                }
                _ => out.skipped += 1,
            }
        } else if is_field_name(element) {
            passed.push(element.to_owned());
        } else {
            out.skipped += 1;
        }
    }
    positions.sort_by_key(|(top, component, _)| (*top, *component));
    positions.dedup_by_key(|(top, component, _)| (*top, *component));
    out.names = positions.into_iter().map(|(_, _, name)| name).collect();
    out.names.extend(passed);
    out
}

fn strip_hex_prefix(s: &str) -> Option<&str> {
    s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))
}

/// A field name as CometD would send it: letters, digits, `_` and `.` (compounds).
fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// The (index, name) of each set bit of `hex` (bit 0 is the last digit's lowest bit); bits
/// past `names` are counted in `skipped`.
fn set_bits<'a>(hex: &str, names: &[&'a str], skipped: &mut usize) -> Vec<(usize, &'a str)> {
    let mut out = Vec::new();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        *skipped += 1;
        return out;
    }
    for (digit_from_end, c) in hex.chars().rev().enumerate() {
        let Some(value) = c.to_digit(16) else {
            continue;
        };
        for bit in 0..4 {
            if value & (1 << bit) == 0 {
                continue;
            }
            let index = digit_from_end.saturating_mul(4).saturating_add(bit);
            match names.get(index) {
                Some(name) => out.push((index, *name)),
                None => *skipped += 1,
            }
        }
    }
    out
}

/// The bitmap list for `names` (the inverse of [`decode`]): what a Pub/Sub server sends.
/// Names that are not in `fields` are left out.
pub fn encode(names: &[String], fields: &[FieldShape]) -> Vec<String> {
    let mut top = Vec::new();
    let mut nested: Vec<(usize, Vec<usize>)> = Vec::new();
    for name in names {
        if let Some((parent, child)) = name.split_once('.') {
            let Some(pi) = fields.iter().position(|f| f.name == parent) else {
                continue;
            };
            let Some(ci) = fields
                .get(pi)
                .and_then(|f| f.components.iter().position(|c| c == child))
            else {
                continue;
            };
            match nested.iter_mut().find(|(p, _)| *p == pi) {
                Some((_, bits)) => bits.push(ci),
                None => nested.push((pi, vec![ci])),
            }
        } else if let Some(i) = fields.iter().position(|f| &f.name == name) {
            top.push(i);
        }
    }
    let mut out = Vec::new();
    if !top.is_empty() || !nested.is_empty() {
        out.push(format!("0x{}", hex_bits(&top)));
    }
    nested.sort_by_key(|(p, _)| *p);
    for (parent, bits) in nested {
        out.push(format!("{parent}-0x{}", hex_bits(&bits)));
    }
    out
}

/// A big-endian hex string (an even number of digits) with the given bits set.
fn hex_bits(bits: &[usize]) -> String {
    let bytes = bits.iter().max().map_or(1, |m| m / 8 + 1);
    let mut buf = vec![0u8; bytes];
    for &bit in bits {
        let byte_from_end = bit / 8;
        if let Some(b) = buf.get_mut(bytes - 1 - byte_from_end) {
            *b |= 1 << (bit % 8);
        }
    }
    buf.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn shapes(n: usize) -> Vec<FieldShape> {
        (0..n)
            .map(|i| FieldShape {
                name: format!("F{i}"),
                components: if i == 4 {
                    vec!["Street".into(), "City".into(), "PostalCode".into()]
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn the_documented_example_decodes_bit_zero_as_the_first_field() {
        // 0x650004E0: bits 5, 6, 7, 10, 24, 26, 29, 30 of the top level; 4-0x04: component 2
        // of field 4.
        let fields = shapes(32);
        let d = decode(&s(&["0x650004E0", "4-0x04"]), &fields);
        assert_eq!(
            d.names,
            // Schema order: the compound's component at field 4's place.
            s(&[
                "F4.PostalCode",
                "F5",
                "F6",
                "F7",
                "F10",
                "F24",
                "F26",
                "F29",
                "F30"
            ])
        );
        assert_eq!(d.skipped, 0);
    }

    #[test]
    fn names_already_decoded_pass_through_and_junk_is_skipped() {
        let fields = shapes(3);
        let d = decode(
            &s(&[
                "LastModifiedDate",
                "Name.LastName",
                "0x",
                "9-0x1",
                "x y",
                "0x10",
            ]),
            &fields,
        );
        assert_eq!(d.names, s(&["LastModifiedDate", "Name.LastName"]));
        // "0x", "9-0x1" (no such parent), "x y", and bit 4 of a three-field schema.
        assert_eq!(d.skipped, 4);
    }

    #[test]
    fn an_odd_number_of_digits_reads_the_same_number() {
        let fields = shapes(12);
        assert_eq!(decode(&s(&["0x401"]), &fields).names, s(&["F0", "F10"]));
        assert_eq!(decode(&s(&["0x0401"]), &fields).names, s(&["F0", "F10"]));
    }

    proptest! {
        #[test]
        fn encode_then_decode_gives_the_names_back(
            top in proptest::collection::btree_set(0usize..40, 0..10),
            nested in proptest::collection::btree_set(0usize..3, 0..3),
        ) {
            let fields = shapes(40);
            let mut names: Vec<String> = top.iter().map(|i| format!("F{i}")).collect();
            let comps = ["Street", "City", "PostalCode"];
            names.extend(nested.iter().filter_map(|&i| comps.get(i)).map(|c| format!("F4.{c}")));
            let decoded = decode(&encode(&names, &fields), &fields);
            prop_assert_eq!(decoded.skipped, 0);
            let mut want = names.clone();
            want.sort();
            let mut got = decoded.names;
            got.sort();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn hostile_elements_never_panic(elements in proptest::collection::vec(".{0,40}", 0..6)) {
            let _ = decode(&elements, &shapes(8));
        }

        #[test]
        fn hostile_hex_never_panics(hex in "(0x|[0-9]{1,3}-0x)[0-9a-fA-F]{0,300}") {
            let _ = decode(&[hex], &shapes(8));
        }
    }
}
