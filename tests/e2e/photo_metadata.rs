//! Photo metadata (issue 18): a JPEG carrying EXIF with a GPS position and a PNG carrying text and EXIF
//! chunks (both made here, the pictures encoded by the `image` crate) are stored without them. What
//! `GET /api/photos/{sha256}` answers has no metadata, is named by its own SHA-256, and still decodes to
//! exactly the pixels that were sent.

use std::io::Cursor;

use image::{ImageFormat, RgbImage};

use crate::cases::{grid_place, report, token};
use crate::harness::{Flavor, TestStore};
use crate::photos::{fetch, sha256, upload};

#[tokio::test]
async fn photo_metadata_on_sqlite() {
    photo_metadata(Flavor::Sqlite).await;
}

#[tokio::test]
async fn photo_metadata_on_postgis() {
    photo_metadata(Flavor::Postgres).await;
}

/// A 16 × 8 picture with a gradient, encoded as `format`.
fn picture(format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(16, 8, |x, y| {
        let (x, y) = (u8::try_from(x).unwrap(), u8::try_from(y).unwrap());
        image::Rgb([x * 16, y * 32, 128])
    });
    let mut bytes = Cursor::new(Vec::new());
    image.write_to(&mut bytes, format).unwrap();
    bytes.into_inner()
}

/// An EXIF block (big-endian TIFF) whose GPS IFD says 36°11'24" N: IFD0 with one entry, the GPS
/// pointer (tag 0x8825), then the GPS IFD with `GPSLatitudeRef` "N" and `GPSLatitude` (three rationals).
fn exif_with_gps() -> Vec<u8> {
    let mut tiff = b"MM\0\x2a\0\0\0\x08".to_vec();
    // IFD0 at 8: one entry, GPSInfo (LONG) pointing at 26; no next IFD.
    tiff.extend_from_slice(&[0, 1, 0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26, 0, 0, 0, 0]);
    // GPS IFD at 26: two entries; the rationals at 56.
    tiff.extend_from_slice(&[0, 2]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3, 0, 0, 0, 56]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    assert_eq!(tiff.len(), 56);
    for (numerator, denominator) in [(36_u32, 1_u32), (11, 1), (2400, 100)] {
        tiff.extend_from_slice(&numerator.to_be_bytes());
        tiff.extend_from_slice(&denominator.to_be_bytes());
    }
    [b"Exif\0\0".as_slice(), &tiff].concat()
}

/// `data` with a JPEG APP1 segment holding `payload` right after SOI, where cameras write EXIF.
fn with_app1(data: &[u8], payload: &[u8]) -> Vec<u8> {
    let length = u16::try_from(payload.len() + 2).unwrap();
    [
        &data[..2],
        &[0xFF, 0xE1],
        &length.to_be_bytes(),
        payload,
        &data[2..],
    ]
    .concat()
}

/// CRC-32 (ISO-HDLC, as PNG uses), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let crc = crc32(&[kind, data].concat());
    [
        &u32::try_from(data.len()).unwrap().to_be_bytes(),
        kind,
        data,
        &crc.to_be_bytes(),
    ]
    .concat()
}

/// `png` with `chunks` inserted right after IHDR (signature 8 bytes, IHDR 25).
fn with_chunks(png: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    [&png[..33], &chunks.concat(), &png[33..]].concat()
}

fn pixels(data: &[u8]) -> (u32, u32, Vec<u8>) {
    let image = image::load_from_memory(data).unwrap().to_rgb8();
    (image.width(), image.height(), image.into_raw())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn photo_metadata(flavor: Flavor) {
    let Some(store) = TestStore::new(flavor).await else {
        return;
    };
    let server = crate::harness::Server::demo(&store);
    let here = grid_place(&server, 0, 0).await;
    let worker = token(&server, "worker", Some(here.primary)).await;
    let reporter = token(&server, "reporter", None).await;
    let id = report(&server, &reporter, here.lat, here.lon, "city_appearance").await["id"]
        .as_i64()
        .unwrap();

    // --- A JPEG with EXIF and a GPS position.
    let plain = picture(ImageFormat::Jpeg);
    let sent = with_app1(&plain, &exif_with_gps());
    assert!(contains(&sent, b"Exif\0\0"));
    assert_eq!(
        pixels(&sent),
        pixels(&plain),
        "the EXIF block is well formed"
    );
    let (status, photo) = upload(&server, &worker, id, &sent).await;
    assert_eq!(status, 201, "{photo}");
    let name = photo["sha256"].as_str().unwrap().to_owned();
    let (status, stored, content_type, _) = fetch(&server, &worker, &name, None).await;
    assert_eq!((status, content_type.as_str()), (200, "image/jpeg"));
    assert!(
        !contains(&stored, b"Exif") && !contains(&stored, &[0xFF, 0xE1]),
        "no APP1 left"
    );
    assert_eq!(stored, plain, "exactly the picture without its APP1");
    assert_eq!(pixels(&stored), pixels(&sent), "the same pixels");
    assert_eq!(name, sha256(&stored), "named by what is served");
    assert_ne!(name, sha256(&sent));
    assert_eq!(photo["size"], stored.len());
    assert_eq!(photo["url"], format!("/api/photos/{name}"));
    // The same picture with other metadata is the same photo.
    let again = with_app1(&plain, b"Exif\0\0MM\0\x2a\0\0\0\x08\0\0\0\0\0\0");
    let (status, refused) = upload(&server, &worker, id, &again).await;
    assert_eq!(
        (status, refused["sha256"].as_str()),
        (409, Some(name.as_str())),
        "{refused}"
    );

    // --- A PNG with text and EXIF chunks.
    let plain = picture(ImageFormat::Png);
    let sent = with_chunks(
        &plain,
        &[
            png_chunk(b"tEXt", b"GPS\x0036.19N 113.11E"),
            png_chunk(b"eXIf", &exif_with_gps()[6..]),
            png_chunk(
                b"iTXt",
                b"Author\0\0\0\0\0\xe7\xbd\x91\xe6\xa0\xbc\xe5\x91\x98",
            ),
        ],
    );
    assert_eq!(pixels(&sent), pixels(&plain), "the chunks are well formed");
    let (status, photo) = upload(&server, &worker, id, &sent).await;
    assert_eq!(status, 201, "{photo}");
    let name = photo["sha256"].as_str().unwrap().to_owned();
    let (status, stored, content_type, _) = fetch(&server, &worker, &name, None).await;
    assert_eq!((status, content_type.as_str()), (200, "image/png"));
    assert!(
        !contains(&stored, b"tEXt") && !contains(&stored, b"eXIf") && !contains(&stored, b"iTXt")
    );
    assert!(!contains(&stored, b"36.19"));
    assert_eq!(stored, plain);
    assert_eq!(name, sha256(&stored));
    assert_eq!(pixels(&stored), pixels(&sent));
    drop(server);
    store.finish().await;
}
