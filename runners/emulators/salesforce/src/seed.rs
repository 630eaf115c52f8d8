//! Sample org data: a small hand-written sample and a deterministic generator, both
//! consistent with the seed selections in `tests/fixtures/seed-mappings.toml`:
//! Leads with `Role__c = 'Partner'` created on or after 2024-07-01 (some converted, pointing
//! at Accounts/Contacts/Opportunities), Opportunities with `RecordTypeId = '0123p000000EILEAA4'`
//! referencing Accounts and Contacts, and a few records that the selections must leave out.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

use crate::ids;
use crate::schema::Schema;
use crate::store::{Store, format_datetime};

/// The record type the seed's Opportunity selection keeps.
pub const PARTNER_OPPORTUNITY_RECORD_TYPE: &str = "0123p000000EILEAA4";
/// The record type the seed sets on Leads it creates.
pub const PARTNER_LEAD_RECORD_TYPE: &str = "0123p000000EILJAA4";

/// Another Opportunity record type, which the seed selection leaves out.
pub fn other_opportunity_record_type() -> String {
    ids::to18("0123p000000EILK").unwrap_or_default()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn stamps(created: OffsetDateTime, modified_after_days: i64) -> (Value, Value) {
    (
        Value::String(format_datetime(created)),
        Value::String(format_datetime(
            created + Duration::days(modified_after_days),
        )),
    )
}

fn insert(
    store: &mut Store,
    object: &str,
    mut fields: Map<String, Value>,
    created: OffsetDateTime,
    modified_days: i64,
) -> String {
    let (c, m) = stamps(created, modified_days);
    fields.insert("CreatedDate".into(), c);
    fields.insert("LastModifiedDate".into(), m);
    store
        .insert_raw(object, fields, created)
        .unwrap_or_default()
}

/// Loads the small default sample: 3 Accounts, 3 Contacts, 3 Opportunities, 5 Leads.
pub fn load_sample(store: &mut Store) {
    let t0 = datetime!(2024-05-02 09:30:00 UTC);
    let accounts = [
        json!({"Name": "Digital Bridges Coalition", "Type": "Nonprofit", "Industry": "Nonprofit", "BillingStreet": "12 Market St",
               "BillingCity": "Portland", "BillingState": "Oregon", "BillingStateCode": "OR", "BillingPostalCode": "97201",
               "BillingCountry": "United States", "Phone": "(503) 555-0100", "Website": "https://digitalbridges.example",
               "Description": "Regional digital inclusion coalition.", "Capacity_Building_Needs__c": "Curriculum;Train the trainer"}),
        json!({"Name": "Riverside Public Library", "Type": "Library", "Industry": "Education", "BillingCity": "Riverside",
               "BillingState": "California", "BillingStateCode": "CA", "BillingCountry": "United States",
               "Phone": "(951) 555-0142", "Capacity_Building_Needs__c": "Digital Navigator support"}),
        json!({"Name": "Valley County Government", "Type": "Government", "Industry": "Government", "BillingCity": "Yakima",
               "BillingState": "Washington", "BillingStateCode": "WA", "BillingCountry": "United States"}),
    ];
    let account_ids: Vec<String> = accounts
        .into_iter()
        .enumerate()
        .map(|(i, a)| insert(store, "Account", obj(a), t0 + Duration::days(i as i64), 3))
        .collect();
    let contacts = [
        json!({"FirstName": "Ana", "LastName": "Reyes", "Title": "Program Director", "Email": "ana.reyes@digitalbridges.example",
               "Phone": "(503) 555-0101", "MailingCity": "Portland", "MailingState": "Oregon", "MailingCountry": "United States",
               "npe01__Organization_Type__c": "Nonprofit", "npe01__Type_of_Account__c": "Organization", "Birthdate": "1984-03-12"}),
        json!({"FirstName": "Marcus", "LastName": "Webb", "Title": "Branch Manager", "Email": "mwebb@riverside-library.example",
               "MailingCity": "Riverside", "MailingState": "California", "LinkedIn__c": "https://www.linkedin.com/in/marcus-webb-example"}),
        json!({"FirstName": "Priya", "LastName": "Natarajan", "Title": "IT Coordinator", "Email": "priya.n@valleycounty.example",
               "MobilePhone": "(509) 555-0177", "MailingCity": "Yakima", "MailingState": "Washington"}),
    ];
    let contact_ids: Vec<String> = contacts
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let mut m = obj(c);
            m.insert("AccountId".into(), Value::String(account_ids[i].clone()));
            m.insert(
                "npsp__Primary_Affiliation__c".into(),
                Value::String(account_ids[i].clone()),
            );
            insert(store, "Contact", m, t0 + Duration::days(10 + i as i64), 2)
        })
        .collect();
    let other_rt = other_opportunity_record_type();
    let opps = [
        (
            json!({"Name": "Digital Bridges - Navigator Program", "StageName": "MOU", "Amount": 25000, "CloseDate": "2024-12-15",
                "Type": "New Partner", "Description": "Navigator training for 3 sites."}),
            0,
            0,
            PARTNER_OPPORTUNITY_RECORD_TYPE.to_string(),
        ),
        (
            json!({"Name": "Valley County - Device Lending", "StageName": "Need Analysis", "Amount": 12000, "CloseDate": "2025-03-31",
                "Type": "Expansion"}),
            2,
            2,
            PARTNER_OPPORTUNITY_RECORD_TYPE.to_string(),
        ),
        (
            json!({"Name": "Riverside - Annual Renewal", "StageName": "Closed Won", "Amount": 5000, "CloseDate": "2024-06-30",
                "Type": "Renewal"}),
            1,
            1,
            other_rt,
        ),
    ];
    let mut opp_ids = Vec::new();
    for (i, (o, acc, con, rt)) in opps.into_iter().enumerate() {
        let mut m = obj(o);
        m.insert("AccountId".into(), Value::String(account_ids[acc].clone()));
        m.insert("ContactId".into(), Value::String(contact_ids[con].clone()));
        m.insert(
            "npsp__Primary_Contact__c".into(),
            Value::String(contact_ids[con].clone()),
        );
        m.insert("RecordTypeId".into(), Value::String(rt));
        opp_ids.push(insert(
            store,
            "Opportunity",
            m,
            t0 + Duration::days(20 + i as i64),
            5,
        ));
    }
    let leads = [
        (
            json!({"FirstName": "Ana", "LastName": "Reyes", "Company": "Digital Bridges Coalition", "Role__c": "Partner",
                "Status": "MOU", "Email": "ana.reyes@digitalbridges.example", "Sector__c": "Nonprofit", "Industry": "Nonprofit",
                "City": "Portland", "State": "Oregon", "StateCode": "OR", "Country": "United States", "LeadSource": "Web",
                "Capacity_Building_Needs__c": "Curriculum;Train the trainer", "Funding__c": "Grants",
                "Where_did_you_hear_about_CTN__c": "Referred by a CTN Volunteer", "Main_Challenges__c": "Staff capacity."}),
            datetime!(2024-08-15 16:00:00 UTC),
            Some(0),
        ),
        (
            json!({"FirstName": "Jordan", "LastName": "O'Connell", "Company": "Eastside Tech Hub", "Role__c": "Partner",
                "Status": "Contacted", "Email": "jordan@eastside-hub.example", "Sector__c": "Other", "City": "Austin",
                "State": "Texas", "StateCode": "TX", "Covered_Population__c": "Seniors;Veterans", "Title": "Founder"}),
            datetime!(2024-09-01 12:00:00 UTC),
            None,
        ),
        (
            json!({"FirstName": "Marcus", "LastName": "Webb", "Company": "Riverside Public Library", "Role__c": "Partner",
                "Status": "Qualified", "Email": "mwebb@riverside-library.example", "Sector__c": "Library", "City": "Riverside",
                "State": "California", "StateCode": "CA", "WhatisYourEstimatedBudget__c": "$10k-$50k"}),
            datetime!(2025-01-10 08:45:00 UTC),
            Some(1),
        ),
        (
            json!({"FirstName": "Lee", "LastName": "Park", "Company": "Old Partner Org", "Role__c": "Partner", "Status": "Open",
                "City": "Chicago", "State": "Illinois"}),
            datetime!(2024-03-01 10:00:00 UTC),
            None,
        ),
        (
            json!({"FirstName": "Sam", "LastName": "Ortiz", "Company": "Volunteer Network", "Role__c": "Volunteer",
                "Status": "Open", "City": "New York", "State": "New York"}),
            datetime!(2024-10-01 10:00:00 UTC),
            None,
        ),
    ];
    for (l, created, converted) in leads {
        let mut m = obj(l);
        m.insert(
            "RecordTypeId".into(),
            Value::String(PARTNER_LEAD_RECORD_TYPE.into()),
        );
        if let Some(k) = converted {
            m.insert("IsConverted".into(), Value::Bool(true));
            m.insert(
                "ConvertedAccountId".into(),
                Value::String(account_ids[k].clone()),
            );
            m.insert(
                "ConvertedContactId".into(),
                Value::String(contact_ids[k].clone()),
            );
            if k == 0 {
                m.insert(
                    "ConvertedOpportunityId".into(),
                    Value::String(opp_ids[0].clone()),
                );
            }
        }
        insert(store, "Lead", m, created, 1);
    }
}

fn pick<'a>(rng: &mut StdRng, values: &'a [String]) -> &'a str {
    values.choose(rng).map_or("", String::as_str)
}

fn pick_multi(rng: &mut StdRng, values: &[String]) -> String {
    let n = rng.gen_range(1..=2.min(values.len().max(1)));
    let mut chosen: Vec<&String> = values.choose_multiple(rng, n).collect();
    chosen.sort_by_key(|v| values.iter().position(|x| x == *v));
    chosen
        .into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join(";")
}

fn values(schema: &Schema, object: &str, field: &str) -> Vec<String> {
    schema
        .object(object)
        .and_then(|o| o.field(field))
        .map(|f| f.picklist_values.clone())
        .unwrap_or_default()
}

const CITIES: &[(&str, &str, &str)] = &[
    ("Portland", "Oregon", "OR"),
    ("Sacramento", "California", "CA"),
    ("Austin", "Texas", "TX"),
    ("Seattle", "Washington", "WA"),
    ("Buffalo", "New York", "NY"),
    ("Springfield", "Illinois", "IL"),
];

/// Generates `n` records per object, deterministic for `seed`. About 3 in 4 Leads are
/// Partners created on or after 2024-07-01, a third of those converted; 4 in 5 Opportunities
/// have the partner record type. References point at generated records.
pub fn generate(store: &mut Store, n: usize, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let schema = store.schema.clone();
    let base = datetime!(2024-07-01 00:00:00 UTC);
    let mut accounts = Vec::with_capacity(n);
    for i in 0..n {
        let (city, state, code) = CITIES[i % CITIES.len()];
        let m = obj(json!({
            "Name": format!("Generated Account {i:05}"),
            "Type": pick(&mut rng, &values(&schema, "Account", "Type")),
            "Industry": pick(&mut rng, &values(&schema, "Account", "Industry")),
            "BillingCity": city, "BillingState": state, "BillingStateCode": code, "BillingCountry": "United States",
            "Phone": format!("(555) 010-{:04}", i % 10000),
            "Website": format!("https://account{i}.example"),
            "Capacity_Building_Needs__c": pick_multi(&mut rng, &values(&schema, "Account", "Capacity_Building_Needs__c")),
            "External_Id__c": format!("GEN-ACC-{i:05}"),
        }));
        accounts.push(insert(
            store,
            "Account",
            m,
            base - Duration::days(30) + Duration::hours(i as i64),
            2,
        ));
    }
    let mut contacts = Vec::with_capacity(n);
    for i in 0..n {
        let (city, state, code) = CITIES[(i + 1) % CITIES.len()];
        let m = obj(json!({
            "FirstName": format!("Gen{i}"),
            "LastName": format!("Contact {i:05}"),
            "AccountId": accounts[i % accounts.len().max(1)],
            "npsp__Primary_Affiliation__c": accounts[i % accounts.len().max(1)],
            "Email": format!("contact{i}@generated.example"),
            "Title": "Coordinator",
            "MailingCity": city, "MailingState": state, "MailingStateCode": code,
            "npe01__Organization_Type__c": pick(&mut rng, &values(&schema, "Contact", "npe01__Organization_Type__c")),
            "Birthdate": format!("19{:02}-0{}-1{}", 60 + i % 40, 1 + i % 9, i % 10),
            "External_Id__c": format!("GEN-CON-{i:05}"),
        }));
        contacts.push(insert(
            store,
            "Contact",
            m,
            base - Duration::days(20) + Duration::hours(i as i64),
            1,
        ));
    }
    let other_rt = other_opportunity_record_type();
    let mut opps = Vec::with_capacity(n);
    for i in 0..n {
        let rt = if i % 5 == 4 {
            other_rt.clone()
        } else {
            PARTNER_OPPORTUNITY_RECORD_TYPE.to_string()
        };
        let close = base.date() + Duration::days(30 + (i % 365) as i64);
        let m = obj(json!({
            "Name": format!("Generated Opportunity {i:05}"),
            "AccountId": accounts[i % accounts.len().max(1)],
            "ContactId": contacts[i % contacts.len().max(1)],
            "npsp__Primary_Contact__c": contacts[i % contacts.len().max(1)],
            "RecordTypeId": rt,
            "StageName": pick(&mut rng, &values(&schema, "Opportunity", "StageName")),
            "Type": pick(&mut rng, &values(&schema, "Opportunity", "Type")),
            "Amount": rng.gen_range(1..=500) * 100,
            "CloseDate": close.to_string(),
            "External_Id__c": format!("GEN-OPP-{i:05}"),
        }));
        opps.push(insert(
            store,
            "Opportunity",
            m,
            base - Duration::days(10) + Duration::hours(i as i64),
            3,
        ));
    }
    for i in 0..n {
        let partner = i % 4 != 3;
        let recent = i % 6 != 5;
        let created = if recent {
            base + Duration::hours(7 * i as i64)
        } else {
            base - Duration::days(60) + Duration::hours(i as i64)
        };
        let (city, state, code) = CITIES[i % CITIES.len()];
        let mut m = obj(json!({
            "FirstName": format!("Lead{i}"),
            "LastName": format!("Generated {i:05}"),
            "Company": format!("Generated Org {i:05}"),
            "Role__c": if partner { "Partner" } else { "Volunteer" },
            "Status": pick(&mut rng, &values(&schema, "Lead", "Status")),
            "Email": format!("lead{i}@generated.example"),
            "Sector__c": pick(&mut rng, &values(&schema, "Lead", "Sector__c")),
            "Industry": pick(&mut rng, &values(&schema, "Lead", "Industry")),
            "LeadSource": pick(&mut rng, &values(&schema, "Lead", "LeadSource")),
            "City": city, "State": state, "StateCode": code, "Country": "United States",
            "Capacity_Building_Needs__c": pick_multi(&mut rng, &values(&schema, "Lead", "Capacity_Building_Needs__c")),
            "Covered_Population__c": pick_multi(&mut rng, &values(&schema, "Lead", "Covered_Population__c")),
            "Where_did_you_hear_about_CTN__c": pick_multi(&mut rng, &values(&schema, "Lead", "Where_did_you_hear_about_CTN__c")),
            "Funding__c": pick_multi(&mut rng, &values(&schema, "Lead", "Funding__c")),
            "RecordTypeId": PARTNER_LEAD_RECORD_TYPE,
            "External_Id__c": format!("GEN-LEAD-{i:05}"),
        }));
        if partner && i % 3 == 0 && !accounts.is_empty() {
            m.insert("IsConverted".into(), Value::Bool(true));
            m.insert(
                "ConvertedAccountId".into(),
                Value::String(accounts[i % accounts.len()].clone()),
            );
            m.insert(
                "ConvertedContactId".into(),
                Value::String(contacts[i % contacts.len()].clone()),
            );
            m.insert(
                "ConvertedOpportunityId".into(),
                Value::String(opps[i % opps.len()].clone()),
            );
        }
        insert(store, "Lead", m, created, 1);
    }
}
