//! Amounts shown exactly (integer arithmetic) and messages shown as text or hex.

use alloy_primitives::U256;
use blindvault_wallet::display::{Amount, Asset, MessageView, format_units, parse_units};

#[test]
fn format_units_is_exact_at_the_edges() {
    assert_eq!(format_units(U256::ZERO, 18), "0");
    assert_eq!(format_units(U256::ZERO, 0), "0");
    assert_eq!(format_units(U256::from(1u8), 18), "0.000000000000000001", "1 wei");
    assert_eq!(format_units(U256::from(10u64).pow(U256::from(18u8)), 18), "1");
    assert_eq!(format_units(U256::from(1_500_000u64), 6), "1.5");
    assert_eq!(format_units(U256::from(1u8), 6), "0.000001");
    assert_eq!(format_units(U256::from(123_456_789u64), 0), "123456789");
    assert_eq!(
        format_units(U256::MAX, 18),
        "115792089237316195423570985008687907853269984665640564039457.584007913129639935"
    );
    assert_eq!(
        format_units(U256::MAX, 0),
        "115792089237316195423570985008687907853269984665640564039457584007913129639935"
    );
    assert_eq!(
        format_units(U256::MAX, 80),
        "0.00115792089237316195423570985008687907853269984665640564039457584007913129639935"
    );
    let a = Amount::new(U256::from(2_000_000u64), &Asset::new("USDT", 6));
    assert_eq!((a.raw.as_str(), a.display.as_str(), a.decimals), ("2000000", "2 USDT", 6));
    assert_eq!(a.raw_value().unwrap(), U256::from(2_000_000u64));
}

#[test]
fn parse_units_round_trips_and_refuses_what_is_not_a_plain_amount() {
    for (text, decimals, raw) in [
        ("1.5", 6u8, "1500000"),
        ("0.000000000000000001", 18, "1"),
        ("0", 18, "0"),
        (".5", 1, "5"),
        ("7.", 2, "700"),
    ] {
        assert_eq!(parse_units(text, decimals).unwrap().to_string(), raw, "{text}");
    }
    let max = "115792089237316195423570985008687907853269984665640564039457.584007913129639935";
    assert_eq!(parse_units(max, 18).unwrap(), U256::MAX);
    for v in [U256::ZERO, U256::from(1u8), U256::from(123_456_789_012u64), U256::MAX] {
        for d in [0u8, 6, 9, 18] {
            assert_eq!(parse_units(&format_units(v, d), d).unwrap(), v);
        }
    }
    for bad in ["", ".", "-1", "1e18", "1.0000001", "1,5", "0x10", "1.2.3", " 1 2"] {
        assert!(parse_units(bad, 6).is_err(), "{bad:?}");
    }
    assert!(
        parse_units("115792089237316195423570985008687907853269984665640564039457.584007913129639936", 18)
            .is_err()
    );
}

#[test]
fn message_view_shows_text_or_hex() {
    let v = MessageView::of(b"Sign in to example.com\nnonce: 7");
    assert_eq!(v.text.as_deref(), Some("Sign in to example.com\nnonce: 7"));
    assert_eq!(v.length, 31);
    let v = MessageView::of(&[0xde, 0xad, 0xbe, 0xef]);
    assert_eq!((v.text, v.hex.as_str()), (None, "0xdeadbeef"));
    assert_eq!(MessageView::of(b"a\x00b").text, None, "control characters: shown as hex only");
}
