//! Strips what a photo says about its taker before it is stored: EXIF (the camera, the time, the GPS
//! position of the home it was taken in), XMP, IPTC, comments and text chunks. Only the container is
//! walked — segments, chunks — and the picture's own bytes are copied unchanged: nothing is decoded or
//! re-encoded, so the image looks exactly as sent.
//!
//! - JPEG: the segments before the first scan (SOS) are kept only if a decoder needs them — the frame,
//!   tables and restart interval, APP0 (JFIF/JFXX), APP2 `ICC_PROFILE` (colours) and APP14 `Adobe` (how
//!   the colour channels are encoded) — so APP1 (EXIF, XMP), APP13 (IPTC), the other `APPn` and COM
//!   are dropped. From SOS the scans are copied up to the end-of-image marker; what a phone appends after
//!   it (a second image, a maker's trailer) is dropped.
//! - PNG: the chunks `eXIf`, `tEXt`, `iTXt`, `zTXt` and `tIME` are dropped, and anything after `IEND`.
//! - WebP: the `EXIF` and `XMP ` chunks are dropped and their flags cleared in `VP8X`.
//!
//! Bytes that do not follow the container's structure where metadata would be are copied as they are
//! from there on (this module refuses nothing: `sniff` already chose the type, and a decoder judges the
//! picture). Pure: no IO.

/// The photo's bytes without its metadata, for a sniffed `content_type` (`image/jpeg`, `image/png` or
/// `image/webp`); other types are returned unchanged.
#[must_use]
pub fn strip(data: &[u8], content_type: &str) -> Vec<u8> {
    match content_type {
        "image/jpeg" => jpeg(data),
        "image/png" => png(data),
        "image/webp" => webp(data),
        _ => data.to_vec(),
    }
}

/// Whether a JPEG `APPn` segment (`marker` 0xE0..=0xEF) with this payload is needed to decode the image.
fn jpeg_app_kept(marker: u8, payload: &[u8]) -> bool {
    match marker {
        0xE0 => payload.starts_with(b"JFIF\0") || payload.starts_with(b"JFXX\0"),
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xEE => payload.starts_with(b"Adobe"),
        _ => false,
    }
}

fn jpeg(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..2.min(data.len())]);
    let mut at = 2;
    // A marker is 0xFF, any fill bytes 0xFF, then the code.
    while let Some(&0xFF) = data.get(at) {
        let mut code_at = at + 1;
        while data.get(code_at) == Some(&0xFF) {
            code_at += 1;
        }
        let Some(&code) = data.get(code_at) else {
            break;
        };
        // Markers without a length: TEM, RSTn (none belong before a scan, but they are harmless).
        if code == 0x01 || (0xD0..=0xD7).contains(&code) {
            out.extend_from_slice(&[0xFF, code]);
            at = code_at + 1;
            continue;
        }
        if code == 0xD9 {
            out.extend_from_slice(&[0xFF, 0xD9]);
            return out;
        }
        let Some(length) = data
            .get(code_at + 1..code_at + 3)
            .map(|b| usize::from(u16::from_be_bytes([b[0], b[1]])))
        else {
            break;
        };
        let end = code_at + 1 + length;
        if length < 2 || end > data.len() {
            // A segment running past the end: the image is cut short; drop the rest.
            return out;
        }
        let payload = &data[code_at + 3..end];
        let dropped =
            ((0xE0..=0xEF).contains(&code) && !jpeg_app_kept(code, payload)) || code == 0xFE;
        if !dropped {
            out.extend_from_slice(&[0xFF, code]);
            out.extend_from_slice(&data[code_at + 1..end]);
        }
        at = end;
        if code == 0xDA {
            // The first scan: copy the scans up to the end of the image, then stop.
            out.extend_from_slice(&data[at..scan_end(data, at)]);
            return out;
        }
    }
    out.extend_from_slice(&data[at.min(data.len())..]);
    out
}

/// Where the image ends after a scan starting at `from`: just after the first end-of-image marker (in
/// entropy-coded data a 0xFF is always followed by 0x00 or a marker, so 0xFF 0xD9 cannot occur inside
/// it), or the end of the data.
fn scan_end(data: &[u8], from: usize) -> usize {
    data[from..]
        .windows(2)
        .position(|w| w == [0xFF, 0xD9])
        .map_or(data.len(), |p| from + p + 2)
}

/// PNG chunks that only describe: EXIF, text (where tools write GPS, the author, the software) and the
/// time of the last change.
const PNG_DROPPED: [&[u8; 4]; 5] = [b"eXIf", b"tEXt", b"iTXt", b"zTXt", b"tIME"];

fn png(data: &[u8]) -> Vec<u8> {
    const SIGNATURE: usize = 8;
    let mut out = Vec::with_capacity(data.len());
    out.extend_from_slice(&data[..SIGNATURE.min(data.len())]);
    let mut at = SIGNATURE;
    while let Some(header) = data.get(at..at + 8) {
        let length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = &header[4..8];
        // Length, type, data, CRC.
        let Some(end) = usize::try_from(length)
            .ok()
            .and_then(|l| at.checked_add(12)?.checked_add(l))
            .filter(|&end| end <= data.len())
        else {
            break;
        };
        if !PNG_DROPPED.iter().any(|d| d.as_slice() == kind) {
            out.extend_from_slice(&data[at..end]);
        }
        at = end;
        if kind == b"IEND" {
            return out;
        }
    }
    out.extend_from_slice(&data[at.min(data.len())..]);
    out
}

/// `VP8X` flags (its first byte) saying EXIF and XMP chunks follow.
const VP8X_EXIF: u8 = 0x08;
const VP8X_XMP: u8 = 0x04;

fn webp(data: &[u8]) -> Vec<u8> {
    const HEADER: usize = 12;
    if data.len() < HEADER {
        return data.to_vec();
    }
    let mut out = data[..HEADER].to_vec();
    let mut at = HEADER;
    while let Some(header) = data.get(at..at + 8) {
        let kind = &header[..4];
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        // Chunks are padded to an even size.
        let Some(end) = usize::try_from(size)
            .ok()
            .and_then(|s| at.checked_add(8)?.checked_add(s + (s & 1)))
            .filter(|&end| end <= data.len())
        else {
            break;
        };
        if kind != b"EXIF" && kind != b"XMP " {
            let start = out.len();
            out.extend_from_slice(&data[at..end]);
            if kind == b"VP8X" && end > at + 8 {
                out[start + 8] &= !(VP8X_EXIF | VP8X_XMP);
            }
        }
        at = end;
    }
    out.extend_from_slice(&data[at.min(data.len())..]);
    // The RIFF size counts everything after its own eight bytes.
    if let Ok(size) = u32::try_from(out.len() - 8) {
        out[4..8].copy_from_slice(&size.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(code: u8, payload: &[u8]) -> Vec<u8> {
        let mut s = vec![0xFF, code];
        let length = u16::try_from(payload.len() + 2).expect("a short segment");
        s.extend_from_slice(&length.to_be_bytes());
        s.extend_from_slice(payload);
        s
    }

    /// A JPEG's structure (not a decodable picture): SOI, the given segments, SOS with scan bytes, EOI,
    /// then a trailer.
    fn jpeg_of(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut data = vec![0xFF, 0xD8];
        for s in segments {
            data.extend_from_slice(s);
        }
        data.extend(segment(0xDA, &[1, 1, 0, 0, 0x3F, 0]));
        data.extend_from_slice(&[0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56]);
        data.extend_from_slice(&[0xFF, 0xD9]);
        data
    }

    #[test]
    fn jpeg_keeps_what_decoders_need_and_drops_exif_xmp_iptc_and_comments() {
        let jfif = segment(0xE0, b"JFIF\0\x01\x02\0\0\x01\0\x01\0\0");
        let exif = segment(0xE1, b"Exif\0\0MM\0*\0\0\0\x08GPS 36.19N 113.11E");
        let xmp = segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>");
        let icc = segment(0xE2, b"ICC_PROFILE\0\x01\x01profile");
        let mpf = segment(0xE2, b"MPF\0II*\0");
        let iptc = segment(0xED, b"Photoshop 3.0\08BIM");
        let adobe = segment(0xEE, b"Adobe\0\x64\0\0\0\0\x01");
        let comment = segment(0xFE, b"taken at home");
        let quant = segment(0xDB, &[0; 65]);
        let frame = segment(0xC0, &[8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        let sent = jpeg_of(&[
            jfif.clone(),
            exif,
            xmp,
            icc.clone(),
            mpf,
            iptc,
            adobe.clone(),
            comment,
            quant.clone(),
            frame.clone(),
        ]);
        let mut with_trailer = sent.clone();
        with_trailer.extend_from_slice(b"maker trailer with a GPS fix");
        let kept = strip(&with_trailer, "image/jpeg");
        assert_eq!(kept, jpeg_of(&[jfif, icc, adobe, quant, frame]));
        // A stripped image is stripped again to itself.
        assert_eq!(strip(&kept, "image/jpeg"), kept);
    }

    #[test]
    fn jpeg_that_stops_following_the_structure_is_copied_from_there() {
        // SOI, APP0, then bytes that are no marker: copied as they are.
        let mut data = vec![0xFF, 0xD8];
        data.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        data.extend((0..300_u32).map(|i| u8::try_from(i % 251).expect("a byte")));
        assert_eq!(strip(&data, "image/jpeg"), data);
        // A segment cut short: dropped, with what follows.
        let mut cut = vec![0xFF, 0xD8];
        cut.extend(segment(0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"));
        let keep = cut.clone();
        cut.extend_from_slice(&[0xFF, 0xE1, 0x40, 0x00, b'E', b'x', b'i', b'f']);
        assert_eq!(strip(&cut, "image/jpeg"), keep);
    }

    fn chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = u32::try_from(data.len())
            .expect("small")
            .to_be_bytes()
            .to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        c.extend_from_slice(&[0, 0, 0, 0]);
        c
    }

    #[test]
    fn png_drops_text_exif_and_time_chunks_and_what_follows_iend() {
        let signature = b"\x89PNG\r\n\x1a\n".to_vec();
        let ihdr = chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]);
        let idat = chunk(b"IDAT", b"x\x9c");
        let iend = chunk(b"IEND", b"");
        let mut sent = signature.clone();
        for c in [
            ihdr.clone(),
            chunk(b"tEXt", b"GPS\x0036.19,113.11"),
            chunk(b"eXIf", b"MM\0*"),
            chunk(b"iTXt", b"Author\0\0\0\0\0me"),
            chunk(b"zTXt", b"Comment\0\0x"),
            chunk(b"tIME", &[7, 234, 11, 29, 8, 0, 0]),
            idat.clone(),
            iend.clone(),
        ] {
            sent.extend(c);
        }
        sent.extend_from_slice(b"appended");
        let expected: Vec<u8> = [signature, ihdr, idat, iend].concat();
        assert_eq!(strip(&sent, "image/png"), expected);
    }

    fn riff_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
        let mut c = kind.to_vec();
        c.extend_from_slice(&u32::try_from(data.len()).expect("small").to_le_bytes());
        c.extend_from_slice(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    }

    fn riff(chunks: &[Vec<u8>]) -> Vec<u8> {
        let body: Vec<u8> = chunks.concat();
        let mut data = b"RIFF".to_vec();
        data.extend_from_slice(&u32::try_from(body.len() + 4).expect("small").to_le_bytes());
        data.extend_from_slice(b"WEBP");
        data.extend(body);
        data
    }

    #[test]
    fn webp_drops_exif_and_xmp_and_clears_their_flags() {
        let vp8x = |flags: u8| riff_chunk(b"VP8X", &[flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let image = riff_chunk(b"VP8L", b"\x2f\0\0\0\0");
        let sent = riff(&[
            vp8x(0x08 | 0x04 | 0x10),
            image.clone(),
            riff_chunk(b"EXIF", b"MM\0*GPS"),
            riff_chunk(b"XMP ", b"<x:xmpmeta/>"),
        ]);
        assert_eq!(strip(&sent, "image/webp"), riff(&[vp8x(0x10), image]));
    }
}
