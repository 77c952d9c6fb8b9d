//! The fields of forms and form responses.

use crate::de::map::JsonMap;
use crate::de::object::object;
use crate::de::open_enum::open_enum;
use compact_str::CompactString;

object! {
    /// A field of a `form` (`S.formMessageField`) or a `formResponse`
    /// (`S.formResponseMessageField`) in one type: `type`, `name` and `label` are required by
    /// the spec (validation reports them missing); the answer is under the key named after the
    /// type (`text`, `email` or `select`).
    pub struct FormField {
        expecting: "a form field object",
        expected {
            /// `email`, `select` or `text`.
            kind: FieldType = "type",
            /// The field's name, unique in the form.
            name: CompactString = "name",
            /// The label shown.
            label: CompactString = "label",
        }
        optional {
            /// The answer to a `text` field.
            text: CompactString = "text",
            /// The answer to an `email` field.
            email: CompactString = "email",
            /// The options chosen in a `select` field.
            select: Vec<JsonMap> = "select",
            /// The format of a `text` field's answer.
            format: FieldFormat = "format",
            /// The placeholder shown in the field (form).
            placeholder: CompactString = "placeholder",
            /// The fewest characters of a `text` answer (form; 1 by default).
            min_size: u64 = "minSize",
            /// The most characters of a `text` answer (form; 128 by default).
            max_size: u64 = "maxSize",
            /// The choices of a `select` field (form).
            options: Vec<FormOption> = "options",
        }
    }
}

object! {
    /// A choice of a `select` field (`S.formOptions` item).
    pub struct FormOption {
        expecting: "a form option object",
        optional {
            /// The label shown.
            label: CompactString = "label",
            /// The option's name.
            name: CompactString = "name",
        }
    }
}

open_enum! {
    /// The kind of a form field (`field.type`).
    pub enum FieldType {
        /// An email address.
        Email = "email",
        /// A choice among options.
        Select = "select",
        /// Text.
        Text = "text",
    }
}

open_enum! {
    /// The format of a `text` field's answer (`field.format`).
    pub enum FieldFormat {
        /// A whole number.
        Integer = "integer",
        /// A decimal number.
        Decimal = "decimal",
    }
}
