//! Status and dropdown labels paired with picklist values: the translate table `init` writes
//! for the labels that differ, and what is left on either side.

use super::names::{similarity, words};

/// The lowest score at which a label and a picklist value are taken for the same thing.
pub const LABEL_MATCH: f64 = 0.8;

/// How a column's labels and a field's picklist values pair up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pairing {
    /// `(Salesforce value, monday label)` for the pairs whose texts differ: the translate table.
    pub translate: Vec<(String, String)>,
    /// Picklist values with no label on the column.
    pub values_without_label: Vec<String>,
    /// Labels that are not a picklist value, even translated.
    pub labels_without_value: Vec<String>,
}

/// Pairs `values` with `labels`: equal texts first, then the same words (case, punctuation),
/// then the most similar pairs above [`LABEL_MATCH`], best first. Each value and each label is
/// used once, so the table is one-to-one.
pub fn pair(values: &[String], labels: &[String]) -> Pairing {
    let mut free_values: Vec<&String> = Vec::new();
    let mut free_labels: Vec<&String> = dedup(labels);
    let mut out = Pairing::default();
    for v in dedup(values) {
        if let Some(i) = free_labels.iter().position(|l| *l == v) {
            free_labels.remove(i);
        } else {
            free_values.push(v);
        }
    }
    let mut rest = Vec::new();
    for v in free_values {
        if let Some(i) = free_labels
            .iter()
            .position(|l| !words(l).is_empty() && words(l) == words(v))
        {
            out.translate
                .push((v.clone(), free_labels.remove(i).clone()));
        } else {
            rest.push(v);
        }
    }
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (vi, v) in rest.iter().enumerate() {
        for (li, l) in free_labels.iter().enumerate() {
            let s = similarity(v, l);
            if s >= LABEL_MATCH {
                candidates.push((s, vi, li));
            }
        }
    }
    candidates.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut value_used = vec![false; rest.len()];
    let mut label_used = vec![false; free_labels.len()];
    for (_, vi, li) in candidates {
        if value_used.get(vi).copied().unwrap_or(true)
            || label_used.get(li).copied().unwrap_or(true)
        {
            continue;
        }
        if let (Some(v), Some(l)) = (rest.get(vi), free_labels.get(li)) {
            out.translate.push(((*v).clone(), (*l).clone()));
            value_used[vi] = true;
            label_used[li] = true;
        }
    }
    out.values_without_label = rest
        .iter()
        .zip(&value_used)
        .filter(|(_, used)| !**used)
        .map(|(v, _)| (*v).clone())
        .collect();
    out.labels_without_value = free_labels
        .iter()
        .zip(&label_used)
        .filter(|(_, used)| !**used)
        .map(|(l, _)| (*l).clone())
        .collect();
    out
}

fn dedup(values: &[String]) -> Vec<&String> {
    let mut seen: Vec<&String> = Vec::new();
    for v in values {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn equal_texts_need_no_entry_and_close_ones_are_translated() {
        let p = pair(
            &s(&["Open", "Closed Won", "Curriculum", "Needs assessment"]),
            &s(&["Open", "closed-won", "Curriculum Development", "Other"]),
        );
        assert_eq!(
            p.translate,
            vec![("Closed Won".to_string(), "closed-won".to_string())]
        );
        // `Curriculum` and `Curriculum Development` are not alike enough to be paired blindly.
        assert_eq!(
            p.values_without_label,
            s(&["Curriculum", "Needs assessment"])
        );
        assert_eq!(
            p.labels_without_value,
            s(&["Curriculum Development", "Other"])
        );
    }

    #[test]
    fn a_label_is_used_once() {
        let p = pair(&s(&["Follow-up", "Follow up"]), &s(&["Follow-Up"]));
        assert_eq!(p.translate.len(), 1);
        assert_eq!(p.values_without_label.len(), 1);
        assert!(p.labels_without_value.is_empty());
    }

    proptest! {
        // Labels and values come from the systems: any text. Every value and label ends up
        // in exactly one place, and the table is one-to-one.
        #[test]
        fn every_value_and_label_is_accounted_for_once(
            values in proptest::collection::vec("\\PC{0,12}", 0..8),
            labels in proptest::collection::vec("\\PC{0,12}", 0..8),
        ) {
            let p = pair(&values, &labels);
            let mut vs: Vec<&String> = p.translate.iter().map(|(v, _)| v).collect();
            let mut ls: Vec<&String> = p.translate.iter().map(|(_, l)| l).collect();
            let (nv, nl) = (vs.len(), ls.len());
            vs.sort();
            vs.dedup();
            ls.sort();
            ls.dedup();
            prop_assert_eq!(vs.len(), nv);
            prop_assert_eq!(ls.len(), nl);
            for v in &values {
                let exact = labels.contains(v);
                let translated = p.translate.iter().any(|(x, _)| x == v);
                let left = p.values_without_label.contains(v);
                prop_assert!(exact || translated || left);
            }
            for l in &p.labels_without_value {
                prop_assert!(labels.contains(l));
            }
        }
    }
}
