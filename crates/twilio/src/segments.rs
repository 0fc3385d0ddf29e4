//! SMS segment counting. A body that fits the GSM 03.38 alphabet is sent as 7-bit septets (160
//! in one segment, 153 per segment when split; extension characters such as `€` or `{` cost
//! two); anything else is sent as UCS-2 (70 UTF-16 units, 67 when split) — so one emoji can
//! triple the cost of a message.

/// How a body is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// GSM 03.38 7-bit.
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

/// A body's encoding and cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCount {
    /// The encoding used.
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Segments billed (at least 1, even for an empty body).
    pub segments: usize,
}

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Counts the segments `body` costs.
pub fn count(body: &str) -> SegmentCount {
    let gsm_units: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (encoding, units, single, multi) = match gsm_units {
        Some(units) => (Encoding::Gsm7, units, 160, 153),
        None => (Encoding::Ucs2, body.encode_utf16().count(), 70, 67),
    };
    let segments = if units <= single {
        1
    } else {
        units.div_ceil(multi)
    };
    SegmentCount {
        encoding,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsm7_limits() {
        assert_eq!(count("").segments, 1);
        assert_eq!(
            count(&"a".repeat(160)),
            SegmentCount {
                encoding: Encoding::Gsm7,
                units: 160,
                segments: 1
            }
        );
        assert_eq!(count(&"a".repeat(161)).segments, 2);
        assert_eq!(count(&"a".repeat(306)).segments, 2);
        assert_eq!(count(&"a".repeat(307)).segments, 3);
    }

    #[test]
    fn extension_characters_cost_two() {
        assert_eq!(count("€").units, 2);
        assert_eq!(count(&"{".repeat(80)).segments, 1);
        assert_eq!(count(&"{".repeat(81)).segments, 2);
    }

    #[test]
    fn one_emoji_switches_to_ucs2() {
        let text = format!("{} 👍", "a".repeat(100));
        let c = count(&text);
        assert_eq!(c.encoding, Encoding::Ucs2);
        assert_eq!(c.units, 103, "the emoji is two UTF-16 units");
        assert_eq!(c.segments, 2);
        assert_eq!(
            count(&"é".repeat(70)).encoding,
            Encoding::Gsm7,
            "é is in the GSM alphabet"
        );
        assert_eq!(count(&"ł".repeat(70)).segments, 1);
        assert_eq!(count(&"ł".repeat(71)).segments, 2);
    }
}
