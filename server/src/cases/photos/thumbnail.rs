//! A photo's thumbnail: the picture scaled down so its longest side is at most [`MAX_SIDE_PX`] pixels
//! (never up), its aspect kept, encoded as a JPEG. Made once per photo (`photos::thumbnail`), so the
//! drawer shows evidence without sending each full-size photo. Pure: no IO.
//!
//! JPEG and PNG are decoded; a WebP (this build has no WebP decoder) or a damaged file has no
//! thumbnail. The decoder's limits keep a small file that declares a huge picture from taking the
//! server's memory.

use std::io::Cursor;

use image::{ImageFormat, ImageReader, Limits};

/// The longest side of a thumbnail, in pixels.
pub const MAX_SIDE_PX: u32 = 320;
/// JPEG quality of a thumbnail (0–100): small, and clear enough to see what the photo shows.
const QUALITY: u8 = 80;
/// The largest picture decoded, per side in pixels, and the most memory a decode may take, in bytes.
const MAX_DECODED_SIDE_PX: u32 = 16_384;
const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// The thumbnail of a photo of `content_type`, or `None` if it cannot be decoded.
#[must_use]
pub fn make(data: &[u8], content_type: &str) -> Option<Vec<u8>> {
    let format = match content_type {
        "image/jpeg" => ImageFormat::Jpeg,
        "image/png" => ImageFormat::Png,
        _ => return None,
    };
    let mut reader = ImageReader::with_format(Cursor::new(data), format);
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DECODED_SIDE_PX);
    limits.max_image_height = Some(MAX_DECODED_SIDE_PX);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let picture = reader.decode().ok()?;
    let small = if picture.width().max(picture.height()) > MAX_SIDE_PX {
        picture.thumbnail(MAX_SIDE_PX, MAX_SIDE_PX)
    } else {
        picture
    };
    // JPEG has no alpha channel: transparency goes.
    let rgb = small.to_rgb8();
    let mut out = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, QUALITY);
    rgb.write_with_encoder(encoder).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let picture = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([
                u8::try_from(x % 256).unwrap(),
                u8::try_from(y % 256).unwrap(),
                90,
            ])
        });
        let mut out = Vec::new();
        picture
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    fn size(jpeg: &[u8]) -> (u32, u32) {
        let picture = image::load_from_memory_with_format(jpeg, ImageFormat::Jpeg).unwrap();
        (picture.width(), picture.height())
    }

    #[test]
    fn scales_the_longest_side_down_to_320_keeping_the_aspect() {
        assert_eq!(
            size(&make(&png(1600, 900), "image/png").unwrap()),
            (320, 180)
        );
        assert_eq!(
            size(&make(&png(300, 1200), "image/png").unwrap()),
            (80, 320)
        );
    }

    #[test]
    fn never_scales_up() {
        assert_eq!(size(&make(&png(40, 30), "image/png").unwrap()), (40, 30));
    }

    #[test]
    fn what_cannot_be_decoded_has_none() {
        assert_eq!(
            make(b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
            None
        );
        assert_eq!(make(b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"), None);
        // A PNG header declaring a 100000 × 100000 picture: refused by the limits, not allocated.
        let mut huge = png(1, 1);
        huge[16..20].copy_from_slice(&100_000_u32.to_be_bytes());
        huge[20..24].copy_from_slice(&100_000_u32.to_be_bytes());
        assert_eq!(make(&huge, "image/png"), None);
    }
}
