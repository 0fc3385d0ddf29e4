//! The signed form parameters and the errors of reading them.

use std::fmt;

/// Every parameter of a form body, in the order received, names and values URL-decoded
/// (`+` and `%XX`, UTF-8) exactly as Twilio signs them. Empty values are kept.
///
/// `Debug` shows parameter names only: values may be message bodies or phone numbers.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

impl FormParams {
    /// Decodes a raw form body. Never fails: bytes that are not UTF-8 after decoding become
    /// U+FFFD (and such a request then fails signature validation, as it should).
    pub fn parse(body: &[u8]) -> Self {
        let pairs = form_urlencoded::parse(body)
            .map(|(name, value)| (name.into_owned(), value.into_owned()))
            .collect();
        Self { pairs }
    }

    /// Wraps already decoded pairs (e.g. to sign a request being built).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The `(name, value)` pairs in the order received: what [`crate::signature::validate`]
    /// takes.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// The value of the first parameter called `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of parameter `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The number of parameters (a repeated name counts each time).
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the body had no parameters.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Re-encodes the parameters as a form body (for clients and simulators).
    pub fn to_body(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.pairs {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// The single value of a known parameter: `None` when absent, an error when it is repeated
    /// with different values (an ambiguous request is refused rather than guessed at).
    pub(super) fn single(&self, field: &'static str) -> Result<Option<&str>, WebhookError> {
        let mut values = self.get_all(field);
        let first = values.next();
        if let Some(first) = first
            && values.any(|other| other != first)
        {
            return Err(WebhookError::Repeated { field });
        }
        Ok(first)
    }

    /// A known optional parameter; an empty value counts as absent.
    pub(super) fn optional(&self, field: &'static str) -> Result<Option<String>, WebhookError> {
        Ok(self
            .single(field)?
            .filter(|v| !v.is_empty())
            .map(str::to_owned))
    }

    /// A known required parameter; an empty value counts as missing.
    pub(super) fn required(&self, field: &'static str) -> Result<String, WebhookError> {
        self.optional(field)?.ok_or(WebhookError::Missing { field })
    }

    /// A known optional whole-number parameter.
    pub(super) fn number<T: std::str::FromStr>(
        &self,
        field: &'static str,
    ) -> Result<Option<T>, WebhookError> {
        match self.optional(field)? {
            None => Ok(None),
            Some(text) if text.bytes().all(|b| b.is_ascii_digit()) => text
                .parse::<T>()
                .map(Some)
                .map_err(|_| WebhookError::Malformed {
                    field,
                    expected: "a whole number in range",
                }),
            Some(_) => Err(WebhookError::Malformed {
                field,
                expected: "a whole number",
            }),
        }
    }
}

impl fmt::Debug for FormParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FormParams")
            .field(
                "names",
                &self.pairs.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// Why a webhook body is not a usable request. Names the parameter; never holds its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// A required parameter is absent or empty.
    #[error("missing required parameter {field}")]
    Missing {
        /// The parameter name, e.g. `From`.
        field: &'static str,
    },
    /// A known parameter has a value of the wrong shape.
    #[error("parameter {field} is malformed: expected {expected}")]
    Malformed {
        /// The parameter name, e.g. `NumMedia`.
        field: &'static str,
        /// What it should look like.
        expected: &'static str,
    },
    /// A single-valued parameter appears more than once with different values.
    #[error("parameter {field} is repeated with different values")]
    Repeated {
        /// The parameter name.
        field: &'static str,
    },
    /// `MessageStatus` is not a status Twilio defines (as far as this build knows).
    #[error("parameter {field} is not a known message status")]
    UnknownStatus {
        /// Always `MessageStatus`.
        field: &'static str,
    },
}

impl WebhookError {
    /// The parameter at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Self::Missing { field }
            | Self::Malformed { field, .. }
            | Self::Repeated { field }
            | Self::UnknownStatus { field } => field,
        }
    }
}
