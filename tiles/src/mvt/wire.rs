//! The few pieces of the protobuf wire format the vector tile schema needs, written by hand:
//! varints, zigzag, fixed-width floats, length-delimited fields and packed repeated `uint32`.
//!
//! Knows field numbers only through its callers; never allocates beyond the output buffer.

/// Protobuf wire type of varint fields (`uint32`, `uint64`, `sint64`, `bool`, enums).
pub const VARINT: u8 = 0;
/// Protobuf wire type of 64-bit fixed fields (`double`).
pub const FIXED64: u8 = 1;
/// Protobuf wire type of length-delimited fields (strings, messages, packed repeated).
pub const LEN: u8 = 2;
/// Protobuf wire type of 32-bit fixed fields (`float`).
pub const FIXED32: u8 = 5;

/// Appends `value` as a base-128 varint.
pub fn put_varint(buf: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        // Truncation keeps the low seven bits, which is the point.
        #[allow(clippy::cast_possible_truncation)]
        buf.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)]
    buf.push(value as u8);
}

/// How many bytes [`put_varint`] writes for `value`.
pub fn varint_len(value: u64) -> usize {
    (64 - (value | 1).leading_zeros() as usize).div_ceil(7)
}

/// Appends a field key (field number and wire type).
pub fn put_key(buf: &mut Vec<u8>, field: u32, wire_type: u8) {
    put_varint(buf, (u64::from(field) << 3) | u64::from(wire_type));
}

/// Appends a varint field.
pub fn put_uint_field(buf: &mut Vec<u8>, field: u32, value: u64) {
    put_key(buf, field, VARINT);
    put_varint(buf, value);
}

/// Appends a length-delimited field holding `bytes` (a string or an encoded message).
pub fn put_bytes_field(buf: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_key(buf, field, LEN);
    put_varint(buf, bytes.len() as u64);
    buf.extend_from_slice(bytes);
}

/// Appends a packed repeated `uint32` field; writes nothing for an empty slice.
pub fn put_packed_field(buf: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    let len: usize = values.iter().map(|&v| varint_len(u64::from(v))).sum();
    put_key(buf, field, LEN);
    put_varint(buf, len as u64);
    for &v in values {
        put_varint(buf, u64::from(v));
    }
}

/// Zigzag-encodes a signed 32-bit value (`sint32` / MVT parameter integers).
pub const fn zigzag32(value: i32) -> u32 {
    #[allow(clippy::cast_sign_loss)]
    let encoded = ((value << 1) ^ (value >> 31)) as u32;
    encoded
}

/// Zigzag-encodes a signed 64-bit value (`sint64`).
pub const fn zigzag64(value: i64) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let encoded = ((value << 1) ^ (value >> 63)) as u64;
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_match_the_protobuf_docs() {
        let mut buf = Vec::new();
        put_varint(&mut buf, 1);
        put_varint(&mut buf, 150);
        put_varint(&mut buf, 300);
        assert_eq!(buf, [0x01, 0x96, 0x01, 0xac, 0x02]);
        let mut max = Vec::new();
        put_varint(&mut max, u64::MAX);
        assert_eq!(max.len(), 10);
        for v in [
            0,
            1,
            127,
            128,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn zigzag_matches_the_protobuf_docs() {
        assert_eq!([0, -1, 1, -2, 2].map(zigzag32), [0, 1, 2, 3, 4]);
        assert_eq!(zigzag32(i32::MAX), u32::MAX - 1);
        assert_eq!(zigzag32(i32::MIN), u32::MAX);
        assert_eq!(zigzag64(-3), 5);
        assert_eq!(zigzag64(i64::MIN), u64::MAX);
    }

    #[test]
    fn fields() {
        let mut buf = Vec::new();
        put_uint_field(&mut buf, 15, 2);
        put_bytes_field(&mut buf, 1, b"ab");
        put_packed_field(&mut buf, 2, &[1, 300]);
        put_packed_field(&mut buf, 3, &[]);
        assert_eq!(
            buf,
            [
                0x78, 0x02, 0x0a, 0x02, b'a', b'b', 0x12, 0x03, 0x01, 0xac, 0x02
            ]
        );
    }
}
