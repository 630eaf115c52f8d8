//! The sample org's metadata: objects, fields and picklists, and their describe JSON.
//!
//! The objects are the four the seed mappings touch (Lead, Account, Contact, Opportunity).
//! Every field that `tests/fixtures/seed-mappings.toml` names for an object exists here, with
//! the type the field has in a real org (or, for custom fields, the type its monday column
//! implies). Picklist values come from `runners/emulators/sample/labels.toml`, which the monday
//! emulator reads too. Each object also has an `External_Id__c` text field flagged
//! `externalId` (not in the seed; it makes upsert-by-external-id testable).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};

/// The sample labels file shared with the monday emulator.
pub const SAMPLE_LABELS_TOML: &str = include_str!("../../sample/labels.toml");

/// A field's describe `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    Id,
    Reference,
    Boolean,
    String,
    Textarea,
    Picklist,
    Multipicklist,
    Date,
    Datetime,
    Currency,
    Double,
    Percent,
    Int,
    Email,
    Phone,
    Url,
}

impl FieldType {
    /// The describe `type` string.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Id => "id",
            FieldType::Reference => "reference",
            FieldType::Boolean => "boolean",
            FieldType::String => "string",
            FieldType::Textarea => "textarea",
            FieldType::Picklist => "picklist",
            FieldType::Multipicklist => "multipicklist",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Currency => "currency",
            FieldType::Double => "double",
            FieldType::Percent => "percent",
            FieldType::Int => "int",
            FieldType::Email => "email",
            FieldType::Phone => "phone",
            FieldType::Url => "url",
        }
    }

    fn soap_type(self) -> &'static str {
        match self {
            FieldType::Id | FieldType::Reference => "tns:ID",
            FieldType::Boolean => "xsd:boolean",
            FieldType::Date => "xsd:date",
            FieldType::Datetime => "xsd:dateTime",
            FieldType::Currency | FieldType::Double | FieldType::Percent => "xsd:double",
            FieldType::Int => "xsd:int",
            _ => "xsd:string",
        }
    }

    /// Text-like types whose values are JSON strings with a maximum length.
    pub fn is_text(self) -> bool {
        matches!(
            self,
            FieldType::String
                | FieldType::Textarea
                | FieldType::Picklist
                | FieldType::Multipicklist
                | FieldType::Email
                | FieldType::Phone
                | FieldType::Url
        )
    }

    /// Types whose values are JSON numbers.
    pub fn is_number(self) -> bool {
        matches!(
            self,
            FieldType::Currency | FieldType::Double | FieldType::Percent | FieldType::Int
        )
    }

    /// Id-valued types.
    pub fn is_id(self) -> bool {
        matches!(self, FieldType::Id | FieldType::Reference)
    }
}

/// One field of an object.
#[derive(Clone, Debug)]
pub struct FieldDef {
    pub name: String,
    pub label: String,
    pub ftype: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub calculated: bool,
    pub external_id: bool,
    pub unique: bool,
    pub name_field: bool,
    pub reference_to: Vec<String>,
    pub relationship_name: Option<String>,
    pub picklist_values: Vec<String>,
    pub default_picklist_value: Option<String>,
    pub restricted_picklist: bool,
}

impl FieldDef {
    fn new(name: &str, ftype: FieldType) -> Self {
        let (length, precision, scale) = match ftype {
            FieldType::Id | FieldType::Reference => (18, 0, 0),
            FieldType::String | FieldType::Url => (255, 0, 0),
            FieldType::Textarea => (32768, 0, 0),
            FieldType::Picklist => (255, 0, 0),
            FieldType::Multipicklist => (4099, 0, 0),
            FieldType::Email => (80, 0, 0),
            FieldType::Phone => (40, 0, 0),
            FieldType::Currency => (0, 18, 2),
            FieldType::Double => (0, 18, 0),
            FieldType::Percent => (0, 3, 0),
            _ => (0, 0, 0),
        };
        FieldDef {
            name: name.to_string(),
            label: label_for(name),
            ftype,
            length,
            precision,
            scale,
            nillable: ftype != FieldType::Boolean,
            createable: true,
            updateable: true,
            defaulted_on_create: ftype == FieldType::Boolean,
            calculated: false,
            external_id: false,
            unique: false,
            name_field: false,
            reference_to: Vec::new(),
            relationship_name: None,
            picklist_values: Vec::new(),
            default_picklist_value: None,
            restricted_picklist: false,
        }
    }

    fn len(mut self, n: u32) -> Self {
        self.length = n;
        self
    }

    fn label(mut self, l: &str) -> Self {
        self.label = l.to_string();
        self
    }

    fn required(mut self) -> Self {
        self.nillable = false;
        self
    }

    fn read_only(mut self) -> Self {
        self.createable = false;
        self.updateable = false;
        self
    }

    fn calculated(mut self) -> Self {
        self.calculated = true;
        self.read_only()
    }

    fn system(mut self) -> Self {
        self.nillable = false;
        self.defaulted_on_create = true;
        self.read_only()
    }

    /// Required on create, in the sense of the describe rule
    /// `createable && !nillable && !defaultedOnCreate`.
    pub fn required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }

    /// The field's describe JSON, with the attributes of `08-describe-custom-object.json`.
    pub fn describe(&self) -> Value {
        let byte_length = if self.ftype.is_text() || self.ftype.is_id() {
            self.length * 3
        } else {
            0
        };
        let picklist: Vec<Value> = self
            .picklist_values
            .iter()
            .map(|v| {
                json!({
                    "active": true,
                    "defaultValue": self.default_picklist_value.as_deref() == Some(v.as_str()),
                    "label": v,
                    "validFor": null,
                    "value": v,
                })
            })
            .collect();
        json!({
            "aggregatable": true,
            "autoNumber": false,
            "byteLength": byte_length,
            "calculated": self.calculated,
            "calculatedFormula": null,
            "caseSensitive": false,
            "controllerName": null,
            "createable": self.createable,
            "custom": self.name.ends_with("__c"),
            "defaultValue": self.default_picklist_value.as_ref().map(|_| Value::Null).unwrap_or(
                if self.ftype == FieldType::Boolean { Value::Bool(false) } else { Value::Null }),
            "defaultValueFormula": null,
            "defaultedOnCreate": self.defaulted_on_create,
            "dependentPicklist": false,
            "deprecatedAndHidden": false,
            "digits": if self.ftype == FieldType::Int { 9 } else { 0 },
            "externalId": self.external_id,
            "filterable": self.ftype != FieldType::Textarea || self.length <= 255,
            "groupable": !matches!(self.ftype, FieldType::Textarea | FieldType::Multipicklist | FieldType::Double | FieldType::Currency | FieldType::Percent | FieldType::Datetime),
            "htmlFormatted": false,
            "idLookup": self.ftype == FieldType::Id || self.external_id || self.ftype == FieldType::Email,
            "inlineHelpText": null,
            "label": self.label,
            "length": self.length,
            "name": self.name,
            "nameField": self.name_field,
            "namePointing": self.reference_to.len() > 1,
            "nillable": self.nillable,
            "picklistValues": picklist,
            "precision": self.precision,
            "referenceTo": self.reference_to,
            "relationshipName": self.relationship_name,
            "relationshipOrder": null,
            "restrictedPicklist": self.restricted_picklist,
            "scale": self.scale,
            "soapType": self.ftype.soap_type(),
            "sortable": self.ftype != FieldType::Multipicklist && (self.ftype != FieldType::Textarea || self.length <= 255),
            "type": self.ftype.as_str(),
            "unique": self.unique,
            "updateable": self.updateable,
            "writeRequiresMasterRead": false,
        })
    }
}

/// Derives a label from an API name: drops a namespace prefix and `__c`, splits camel case
/// and underscores.
fn label_for(name: &str) -> String {
    let mut base = name.trim_end_matches("__c");
    if let Some((_, rest)) = base.split_once("__") {
        base = rest;
    }
    let base = base
        .strip_suffix("Id")
        .filter(|b| !b.is_empty())
        .map_or(base.to_string(), |b| format!("{b} ID"));
    let mut out = String::new();
    let chars: Vec<char> = base.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' {
            out.push(' ');
            continue;
        }
        if i > 0 && c.is_uppercase() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || (prev.is_uppercase() && next_lower) {
                out.push(' ');
            }
        }
        out.push(c);
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One object of the org.
#[derive(Clone, Debug)]
pub struct ObjectDef {
    pub name: String,
    pub label: String,
    pub label_plural: String,
    pub key_prefix: String,
    pub fields: Vec<FieldDef>,
}

impl ObjectDef {
    /// A field by name, case-insensitively.
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// The reference field whose relationship name is `rel`, case-insensitively.
    pub fn relationship(&self, rel: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .as_deref()
                .is_some_and(|r| r.eq_ignore_ascii_case(rel))
        })
    }

    fn urls(&self, version: &str) -> Value {
        let base = format!("/services/data/v{version}/sobjects/{}", self.name);
        json!({
            "compactLayouts": format!("{base}/describe/compactLayouts"),
            "rowTemplate": format!("{base}/{{ID}}"),
            "approvalLayouts": format!("{base}/describe/approvalLayouts"),
            "describe": format!("{base}/describe"),
            "quickActions": format!("{base}/quickActions"),
            "layouts": format!("{base}/describe/layouts"),
            "sobject": base,
        })
    }

    /// The object's full describe JSON (`GET /sobjects/{Obj}/describe`).
    pub fn describe(&self, version: &str) -> Value {
        let mut v = self.global_entry(version);
        if let Value::Object(map) = &mut v {
            map.insert(
                "fields".into(),
                Value::Array(self.fields.iter().map(FieldDef::describe).collect()),
            );
            map.insert("childRelationships".into(), json!([]));
            map.insert(
                "recordTypeInfos".into(),
                json!([{
                    "active": true, "available": true, "defaultRecordTypeMapping": true,
                    "master": true, "name": "Master", "recordTypeId": "012000000000000AAA",
                    "developerName": "Master",
                    "urls": {"layout": format!("/services/data/v{version}/sobjects/{}/describe/layouts/012000000000000AAA", self.name)}
                }]),
            );
        }
        v
    }

    /// The object's entry in the global describe (`GET /sobjects/`).
    pub fn global_entry(&self, version: &str) -> Value {
        json!({
            "activateable": false,
            "createable": true,
            "custom": false,
            "customSetting": false,
            "deletable": true,
            "deprecatedAndHidden": false,
            "feedEnabled": true,
            "keyPrefix": self.key_prefix,
            "label": self.label,
            "labelPlural": self.label_plural,
            "layoutable": true,
            "listviewable": null,
            "lookupLayoutable": null,
            "mergeable": self.name != "Opportunity",
            "mruEnabled": true,
            "name": self.name,
            "queryable": true,
            "replicateable": true,
            "retrieveable": true,
            "searchLayoutable": true,
            "searchable": true,
            "triggerable": true,
            "undeletable": true,
            "updateable": true,
            "urls": self.urls(version),
        })
    }
}

/// The org's objects.
#[derive(Clone, Debug)]
pub struct Schema {
    pub objects: Vec<ObjectDef>,
}

impl Schema {
    /// An object by name, case-insensitively.
    pub fn object(&self, name: &str) -> Option<&ObjectDef> {
        self.objects
            .iter()
            .find(|o| o.name.eq_ignore_ascii_case(name))
    }

    /// The object whose key prefix starts `id`.
    pub fn object_for_id(&self, id: &str) -> Option<&ObjectDef> {
        self.objects
            .iter()
            .find(|o| id.len() >= 3 && id[..3] == o.key_prefix)
    }

    /// The global describe JSON.
    pub fn describe_global(&self, version: &str) -> Value {
        json!({
            "encoding": "UTF-8",
            "maxBatchSize": 200,
            "sobjects": self.objects.iter().map(|o| o.global_entry(version)).collect::<Vec<_>>(),
        })
    }

    /// The sample org: Lead, Account, Contact and Opportunity with the seed mappings' fields.
    pub fn sample() -> Schema {
        let labels = SampleLabels::load();
        let mut objects = vec![
            lead(&labels),
            account(&labels),
            contact(&labels),
            opportunity(&labels),
        ];
        for o in &mut objects {
            o.fields.sort_by_key(|f| field_rank(&f.name));
        }
        Schema { objects }
    }
}

fn field_rank(name: &str) -> u8 {
    match name {
        "Id" => 0,
        "IsDeleted" => 1,
        _ if name.ends_with("__c") => 3,
        _ => 2,
    }
}

#[derive(Deserialize)]
struct PicklistSpec {
    values: Vec<String>,
    #[serde(default)]
    restricted: bool,
    #[serde(default)]
    multi: bool,
}

#[derive(Deserialize)]
struct LabelsFile {
    picklists: BTreeMap<String, PicklistSpec>,
}

/// Picklist facts from `labels.toml`.
pub struct SampleLabels {
    picklists: BTreeMap<String, PicklistSpec>,
}

impl SampleLabels {
    fn load() -> Self {
        let file: LabelsFile = toml::from_str(SAMPLE_LABELS_TOML).unwrap_or(LabelsFile {
            picklists: BTreeMap::new(),
        });
        SampleLabels {
            picklists: file.picklists,
        }
    }

    /// A picklist or multipicklist field defined by `labels.toml`, or a plain string field when
    /// the file has no entry for it.
    fn picklist(&self, object: &str, field: &str) -> FieldDef {
        match self.picklists.get(&format!("{object}.{field}")) {
            Some(spec) => {
                let t = if spec.multi {
                    FieldType::Multipicklist
                } else {
                    FieldType::Picklist
                };
                let mut f = FieldDef::new(field, t);
                f.picklist_values = spec.values.clone();
                f.restricted_picklist = spec.restricted;
                f
            }
            None => FieldDef::new(field, FieldType::String),
        }
    }
}

fn system_fields() -> Vec<FieldDef> {
    use FieldType as T;
    let mut owner = FieldDef::new("OwnerId", T::Reference).label("Owner ID");
    owner.nillable = false;
    owner.defaulted_on_create = true;
    owner.reference_to = vec!["Group".into(), "User".into()];
    owner.relationship_name = Some("Owner".into());
    let user_ref = |name: &str, label: &str, rel: &str| {
        let mut f = FieldDef::new(name, T::Reference).label(label).system();
        f.reference_to = vec!["User".into()];
        f.relationship_name = Some(rel.into());
        f
    };
    let mut id = FieldDef::new("Id", T::Id).label("Record ID").system();
    id.nillable = false;
    let mut record_type = FieldDef::new("RecordTypeId", T::Reference).label("Record Type ID");
    record_type.defaulted_on_create = true;
    record_type.reference_to = vec!["RecordType".into()];
    record_type.relationship_name = Some("RecordType".into());
    let mut ext = FieldDef::new("External_Id__c", T::String).label("External Id");
    ext.external_id = true;
    vec![
        id,
        FieldDef::new("IsDeleted", T::Boolean)
            .label("Deleted")
            .system(),
        owner,
        FieldDef::new("CreatedDate", T::Datetime)
            .label("Created Date")
            .system(),
        user_ref("CreatedById", "Created By ID", "CreatedBy"),
        FieldDef::new("LastModifiedDate", T::Datetime)
            .label("Last Modified Date")
            .system(),
        user_ref("LastModifiedById", "Last Modified By ID", "LastModifiedBy"),
        FieldDef::new("SystemModstamp", T::Datetime)
            .label("System Modstamp")
            .system(),
        record_type,
        ext,
    ]
}

fn reference(name: &str, to: &str) -> FieldDef {
    let mut f = FieldDef::new(name, FieldType::Reference);
    f.reference_to = vec![to.to_string()];
    f.relationship_name = Some(if let Some(base) = name.strip_suffix("__c") {
        format!("{base}__r")
    } else {
        name.strip_suffix("Id").unwrap_or(name).to_string()
    });
    f
}

fn compound_name(len: u32) -> FieldDef {
    let mut f = FieldDef::new("Name", FieldType::String)
        .label("Full Name")
        .len(len)
        .system();
    f.name_field = true;
    f.defaulted_on_create = false;
    f
}

fn plain_name(label: &str, len: u32) -> FieldDef {
    let mut f = FieldDef::new("Name", FieldType::String)
        .label(label)
        .len(len)
        .required();
    f.name_field = true;
    f
}

fn lead(p: &SampleLabels) -> ObjectDef {
    use FieldType as T;
    let o = "Lead";
    let mut status = p.picklist(o, "Status").required();
    status.defaulted_on_create = true;
    status.default_picklist_value = Some("Open".into());
    let mut fields = system_fields();
    fields.extend([
        compound_name(121),
        FieldDef::new("FirstName", T::String).len(40),
        FieldDef::new("LastName", T::String).len(80).required(),
        FieldDef::new("Company", T::String).len(255).required(),
        FieldDef::new("Title", T::String).len(128),
        FieldDef::new("Website", T::Url),
        p.picklist(o, "Industry"),
        FieldDef::new("Street", T::Textarea).len(255),
        FieldDef::new("City", T::String).len(40),
        FieldDef::new("State", T::String)
            .len(80)
            .label("State/Province"),
        FieldDef::new("PostalCode", T::String)
            .len(20)
            .label("Zip/Postal Code"),
        FieldDef::new("Country", T::String).len(80),
        FieldDef::new("StateCode", T::String)
            .len(10)
            .label("State/Province Code"),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("Email", T::Email),
        status,
        p.picklist(o, "LeadSource"),
        FieldDef::new("IsConverted", T::Boolean)
            .label("Converted")
            .read_only(),
        reference("ConvertedAccountId", "Account").read_only(),
        reference("ConvertedContactId", "Contact").read_only(),
        reference("ConvertedOpportunityId", "Opportunity").read_only(),
        FieldDef::new("Record_Type_ID_Text__c", T::String)
            .len(18)
            .calculated(),
        p.picklist(o, "Role__c"),
        p.picklist(o, "Sector__c"),
        FieldDef::new("Main_Challenges__c", T::Textarea).len(32768),
        p.picklist(o, "Funding__c"),
        p.picklist(o, "Capacity_Building_Needs__c"),
        p.picklist(o, "Covered_Population__c"),
        p.picklist(o, "Where_did_you_hear_about_CTN__c"),
        p.picklist(o, "Multi_Industry__c"),
        FieldDef::new("Other_Industry__c", T::String),
        FieldDef::new("Other_Sector__c", T::String),
        FieldDef::new("Other_Capacity_Building_Needs__c", T::Textarea).len(32768),
        FieldDef::new("OtherCoveredPopulations__c", T::Textarea).len(32768),
        FieldDef::new("OtherWhereDidYouHearAboutCTN__c", T::String),
        p.picklist(o, "WhatisYourEstimatedBudget__c"),
        FieldDef::new("Other_Funding__c", T::String),
        reference("Linked_Opportunity__c", "Opportunity"),
        reference("Linked_Account__c", "Account"),
        reference("Linked_Contact__c", "Contact"),
    ]);
    ObjectDef {
        name: o.into(),
        label: "Lead".into(),
        label_plural: "Leads".into(),
        key_prefix: "00Q".into(),
        fields,
    }
}

fn account(p: &SampleLabels) -> ObjectDef {
    use FieldType as T;
    let o = "Account";
    let mut fields = system_fields();
    fields.extend([
        plain_name("Account Name", 255),
        p.picklist(o, "Type"),
        FieldDef::new("BillingStreet", T::Textarea).len(255),
        FieldDef::new("BillingCity", T::String).len(40),
        FieldDef::new("BillingState", T::String).len(80),
        FieldDef::new("BillingPostalCode", T::String).len(20),
        FieldDef::new("BillingCountry", T::String).len(80),
        FieldDef::new("BillingStateCode", T::String).len(10),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("Website", T::Url),
        p.picklist(o, "Industry"),
        FieldDef::new("Description", T::Textarea).len(32000),
        p.picklist(o, "Capacity_Building_Needs__c"),
        FieldDef::new("npe01__LifetimeDonationHistory_Amount__c", T::Currency).calculated(),
        FieldDef::new("npe01__LifetimeDonationHistory_Number__c", T::Double).calculated(),
        FieldDef::new("npo02__AverageAmount__c", T::Currency).calculated(),
        FieldDef::new("npo02__Best_Gift_Year_Total__c", T::Currency).calculated(),
        FieldDef::new("npo02__LargestAmount__c", T::Currency).calculated(),
        FieldDef::new("npo02__SmallestAmount__c", T::Currency).calculated(),
        FieldDef::new("npo02__TotalOppAmount__c", T::Currency).calculated(),
    ]);
    ObjectDef {
        name: o.into(),
        label: "Account".into(),
        label_plural: "Accounts".into(),
        key_prefix: "001".into(),
        fields,
    }
}

fn contact(p: &SampleLabels) -> ObjectDef {
    use FieldType as T;
    let o = "Contact";
    let mut fields = system_fields();
    fields.extend([
        compound_name(121),
        FieldDef::new("FirstName", T::String).len(40),
        FieldDef::new("LastName", T::String).len(80).required(),
        reference("AccountId", "Account"),
        FieldDef::new("Title", T::String).len(128),
        FieldDef::new("Description", T::Textarea).len(32000),
        FieldDef::new("LastActivityDate", T::Date).read_only(),
        p.picklist(o, "npe01__Organization_Type__c"),
        FieldDef::new("Birthdate__c", T::Date),
        FieldDef::new("Veteran_Status__c", T::String),
        FieldDef::new("Disability_Status__c", T::String),
        reference("npsp__Primary_Affiliation__c", "Account"),
        FieldDef::new("Referring_Organization__c", T::String),
        FieldDef::new("Birthdate", T::Date),
        FieldDef::new("MailingStreet", T::Textarea).len(255),
        FieldDef::new("MailingCity", T::String).len(40),
        FieldDef::new("MailingState", T::String).len(80),
        FieldDef::new("MailingPostalCode", T::String).len(20),
        FieldDef::new("MailingCountry", T::String).len(80),
        FieldDef::new("MailingStateCode", T::String).len(10),
        FieldDef::new("Phone", T::Phone),
        FieldDef::new("Email", T::Email),
        p.picklist(o, "npe01__Type_of_Account__c"),
        FieldDef::new("npe01__WorkPhone__c", T::Phone),
        FieldDef::new("npe01__Work_Address__c", T::String),
        FieldDef::new("MobilePhone", T::Phone),
        FieldDef::new("LinkedIn__c", T::Url),
    ]);
    ObjectDef {
        name: o.into(),
        label: "Contact".into(),
        label_plural: "Contacts".into(),
        key_prefix: "003".into(),
        fields,
    }
}

fn opportunity(p: &SampleLabels) -> ObjectDef {
    use FieldType as T;
    let o = "Opportunity";
    let mut fields = system_fields();
    fields.extend([
        plain_name("Name", 120),
        reference("AccountId", "Account"),
        FieldDef::new("Description", T::Textarea).len(32000),
        p.picklist(o, "StageName").required().label("Stage"),
        FieldDef::new("Amount", T::Currency),
        FieldDef::new("ExpectedRevenue", T::Currency).calculated(),
        FieldDef::new("CloseDate", T::Date).required(),
        p.picklist(o, "Type"),
        FieldDef::new("LastStageChangeDate", T::Datetime).read_only(),
        reference("ContactId", "Contact"),
        FieldDef::new("npe01__Number_of_Payments__c", T::Double).calculated(),
        reference("npsp__Primary_Contact__c", "Contact"),
    ]);
    ObjectDef {
        name: o.into(),
        label: "Opportunity".into(),
        label_plural: "Opportunities".into(),
        key_prefix: "006".into(),
        fields,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert_eq!(label_for("LastName"), "Last Name");
        assert_eq!(label_for("Main_Challenges__c"), "Main Challenges");
        assert_eq!(
            label_for("npe01__Organization_Type__c"),
            "Organization Type"
        );
        assert_eq!(label_for("ConvertedAccountId"), "Converted Account ID");
        assert_eq!(label_for("Status"), "Status");
    }

    #[test]
    fn required_fields() {
        let s = Schema::sample();
        let req = |o: &str| -> Vec<String> {
            s.object(o)
                .unwrap()
                .fields
                .iter()
                .filter(|f| f.required_on_create())
                .map(|f| f.name.clone())
                .collect()
        };
        assert_eq!(req("Lead"), ["LastName", "Company"]);
        assert_eq!(req("Contact"), ["LastName"]);
        assert_eq!(req("Account"), ["Name"]);
        let mut opp = req("Opportunity");
        opp.sort();
        assert_eq!(opp, ["CloseDate", "Name", "StageName"]);
    }
}
