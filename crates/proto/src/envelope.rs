//! Building and checking [`Envelope`]s.

use crate::catalog::{self, PayloadInfo};
use crate::error::ProtoError;
use crate::v1::Envelope;
use crate::v1::envelope::Payload;

impl Envelope {
    /// An envelope around `payload` with `type` and `schema_version` taken from the catalog.
    ///
    /// The other headers are left empty for the producer to fill, e.g.
    /// `Envelope { event_id, occurred_at, producer, ..Envelope::for_payload(sms_received) }`.
    #[must_use]
    pub fn for_payload(payload: impl Into<Payload>) -> Self {
        let payload = payload.into();
        let info = payload.info();
        Self {
            r#type: info.type_name.to_owned(),
            schema_version: info.schema_version,
            payload: Some(payload),
            ..Self::default()
        }
    }

    /// The catalog entry of the carried payload; `None` when there is none (or it is a
    /// payload this build does not know).
    #[must_use]
    pub fn payload_info(&self) -> Option<&'static PayloadInfo> {
        self.payload.as_ref().map(Payload::info)
    }

    /// The dotted type name of the carried payload, e.g. `sms.received`.
    #[must_use]
    pub fn payload_type_name(&self) -> Option<&'static str> {
        self.payload_info().map(|info| info.type_name)
    }

    /// The NATS subject to publish this envelope on, from its payload.
    #[must_use]
    pub fn subject(&self) -> Option<&'static str> {
        self.payload_info().map(|info| info.subject)
    }

    /// Checks the envelope is well formed: a payload is present, `type` names it, and
    /// `event_id` and `schema_version` are set. A `schema_version` above the catalog's is
    /// accepted (fields are only ever added, so the payload still decodes).
    ///
    /// # Errors
    /// [`ProtoError::UnknownType`] for a payload this build does not know (the type header is
    /// not in the catalog and no known payload decoded), [`ProtoError::MissingPayload`],
    /// [`ProtoError::TypeMismatch`], or [`ProtoError::MissingField`].
    pub fn validate(&self) -> Result<&'static PayloadInfo, ProtoError> {
        let Some(info) = self.payload_info() else {
            return Err(
                if self.r#type.is_empty() || catalog::by_type_name(&self.r#type).is_some() {
                    ProtoError::MissingPayload {
                        type_name: self.r#type.clone(),
                    }
                } else {
                    ProtoError::UnknownType {
                        type_name: self.r#type.clone(),
                    }
                },
            );
        };
        if self.r#type != info.type_name {
            return Err(ProtoError::TypeMismatch {
                declared: self.r#type.clone(),
                actual: info.type_name,
            });
        }
        if self.event_id.is_empty() {
            return Err(ProtoError::MissingField("event_id"));
        }
        if self.schema_version == 0 {
            return Err(ProtoError::MissingField("schema_version"));
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v1;

    fn valid() -> Envelope {
        Envelope {
            event_id: "0190f3c2-7b1a-7cc0-9a6e-2f4f5b9d8e01".to_owned(),
            ..Envelope::for_payload(v1::LinkupLocked::default())
        }
    }

    #[test]
    fn for_payload_fills_type_and_version() {
        let envelope = valid();
        assert_eq!(envelope.r#type, "linkup.locked");
        assert_eq!(envelope.schema_version, 1);
        assert_eq!(envelope.payload_type_name(), Some("linkup.locked"));
        assert_eq!(envelope.subject(), Some("josh.evt.linkup.locked"));
        assert_eq!(envelope.validate().map(|i| i.message), Ok("LinkupLocked"));
    }

    #[test]
    fn validate_rejects_a_wrong_type() {
        let envelope = Envelope {
            r#type: "linkup.expired".to_owned(),
            ..valid()
        };
        assert_eq!(
            envelope.validate(),
            Err(ProtoError::TypeMismatch {
                declared: "linkup.expired".to_owned(),
                actual: "linkup.locked",
            })
        );
    }

    #[test]
    fn validate_tells_missing_from_unknown_payloads() {
        let missing = Envelope {
            payload: None,
            ..valid()
        };
        assert_eq!(
            missing.validate(),
            Err(ProtoError::MissingPayload {
                type_name: "linkup.locked".to_owned()
            })
        );
        let unknown = Envelope {
            r#type: "linkup.teleported".to_owned(),
            ..missing
        };
        assert_eq!(
            unknown.validate(),
            Err(ProtoError::UnknownType {
                type_name: "linkup.teleported".to_owned()
            })
        );
        assert_eq!(
            Envelope::default().validate(),
            Err(ProtoError::MissingPayload {
                type_name: String::new()
            })
        );
    }

    #[test]
    fn validate_requires_event_id_and_version() {
        let no_id = Envelope {
            event_id: String::new(),
            ..valid()
        };
        assert_eq!(no_id.validate(), Err(ProtoError::MissingField("event_id")));
        let no_version = Envelope {
            schema_version: 0,
            ..valid()
        };
        assert_eq!(
            no_version.validate(),
            Err(ProtoError::MissingField("schema_version"))
        );
        let newer = Envelope {
            schema_version: 7,
            ..valid()
        };
        assert!(newer.validate().is_ok());
    }
}
