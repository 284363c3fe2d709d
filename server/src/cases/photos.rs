//! Photos on a case: the image is sniffed from its bytes (never trusted from a header), stripped of its
//! metadata (EXIF and its GPS position, XMP, text: [`metadata`]), stored once by the SHA-256 of the
//! stripped bytes — what is served, so a photo's name is the hash of what `GET /api/photos/{sha256}`
//! answers — and attached to the case in one transaction with its event.
//!
//! Rules: JPEG, PNG or WebP only; at most [`MAX_PHOTO_BYTES`] each and [`MAX_PHOTOS_PER_CASE`] per case;
//! the same image once per case (the same picture with other metadata is the same image); not on a case
//! that is closed, cancelled or merged.

mod metadata;
pub mod thumbnail;

use sha2::{Digest, Sha256};

use crate::core::Core;
use crate::domain::incident::{Actor, Status};
use crate::domain::{AccessError, Case, IncidentId, Photo, Principal, Subject};
use crate::store::StoreError;

/// Largest photo accepted, in bytes (10 MiB).
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Most photos one case may carry.
pub const MAX_PHOTOS_PER_CASE: usize = 20;

/// Why a photo was not attached; nothing was stored.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    #[error("the photo is empty")]
    Empty,
    #[error("a photo may be at most {MAX_PHOTO_BYTES} bytes; this one is {bytes}")]
    TooLarge { bytes: usize },
    /// The bytes are not a JPEG, PNG or WebP image, whatever the request said they were.
    #[error("a photo must be a JPEG, PNG or WebP image")]
    NotAnImage,
    #[error(transparent)]
    Access(#[from] AccessError),
    /// Photos go on open cases only.
    #[error("incident {id} is {status}; photos go on open cases")]
    CaseClosed { id: IncidentId, status: Status },
    #[error("incident {id} already has this photo")]
    AlreadyAttached { id: IncidentId, sha256: String },
    #[error("incident {id} already has {MAX_PHOTOS_PER_CASE} photos, the most a case may carry")]
    CaseFull { id: IncidentId },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The image type the bytes are, by their magic number: `image/jpeg`, `image/png` or `image/webp`.
#[must_use]
pub fn sniff(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Lower-case hex SHA-256 of `data`.
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Whether `text` is a lower-case hex SHA-256.
#[must_use]
pub fn is_sha256(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Checks `data` and attaches it to case `id` for `actor`, who must see the case. Returns the photo as
/// stored.
pub async fn attach(
    core: &Core,
    actor: Actor,
    principal: &Principal,
    id: IncidentId,
    data: axum::body::Bytes,
) -> Result<Photo, PhotoError> {
    if data.is_empty() {
        return Err(PhotoError::Empty);
    }
    if data.len() > MAX_PHOTO_BYTES {
        return Err(PhotoError::TooLarge { bytes: data.len() });
    }
    let content_type = sniff(&data).ok_or(PhotoError::NotAnImage)?;
    // Linear in up to 10 MiB, off the async threads.
    let (data, sha256) = match tokio::task::spawn_blocking(move || {
        let stripped = axum::body::Bytes::from(metadata::strip(&data, content_type));
        let sha256 = sha256_hex(&stripped);
        (stripped, sha256)
    })
    .await
    {
        Ok(stripped) => stripped,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    let principal = principal.clone();
    core.write(move |w| async move {
        {
            let world = w.world();
            let case = world
                .incident(id)
                .ok_or(AccessError::NotFound(Subject::Incident(id)))?;
            super::actions::check_scope(&world, &principal, case)?;
            check_room(case, &sha256)?;
        }
        let photo = Photo {
            sha256,
            content_type: content_type.to_owned(),
            size: data.len() as u64,
            at: w.now(),
            by: actor,
        };
        let event = w.store().add_photo(id, &photo, &data).await?;
        let stored = photo.clone();
        w.stored(event, move |world| {
            if let Some(mut case) = world.incident(id).cloned() {
                case.photos.push(stored);
                world.apply_incident(case);
            }
        });
        metrics::counter!("gridwatch_photos_total").increment(1);
        Ok(photo)
    })
    .await
}

/// The thumbnail of the stored photo `sha256` (a JPEG), made and kept the first time it is asked for;
/// `None` if the photo is not stored or cannot be decoded (tried once, remembered).
pub async fn thumbnail(
    store: &dyn crate::store::Store,
    sha256: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    if let Some(kept) = store.thumbnail(sha256).await? {
        return Ok(kept);
    }
    let Some((content_type, data)) = store.photo(sha256).await? else {
        return Ok(None);
    };
    // Decoding up to 10 MiB and scaling: off the async threads.
    let made =
        match tokio::task::spawn_blocking(move || thumbnail::make(&data, &content_type)).await {
            Ok(made) => made,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        };
    store.put_thumbnail(sha256, made.clone()).await?;
    metrics::counter!("gridwatch_photo_thumbnails_total").increment(1);
    // Another request may have kept one first: answer what is kept, so every answer is the same.
    Ok(store.thumbnail(sha256).await?.flatten())
}

/// Refused unless the case is open, has room, and does not carry this image yet.
fn check_room(case: &Case, sha256: &str) -> Result<(), PhotoError> {
    let (id, status) = (case.id(), case.state.status);
    if !status.is_open() {
        return Err(PhotoError::CaseClosed { id, status });
    }
    if case.photos.iter().any(|p| p.sha256 == sha256) {
        return Err(PhotoError::AlreadyAttached {
            id,
            sha256: sha256.to_owned(),
        });
    }
    if case.photos.len() >= MAX_PHOTOS_PER_CASE {
        return Err(PhotoError::CaseFull { id });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_the_three_image_types_and_nothing_else() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some("image/jpeg")
        );
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Some("image/png"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(
            sniff(b"RIFF\x24\0\0\0WAVEfmt "),
            None,
            "a WAV file is RIFF but not WebP"
        );
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>"), None);
        assert_eq!(sniff(&[0xFF, 0xD8]), None, "too short to be a JPEG");
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn hashes_are_lower_case_hex_sha256() {
        // The SHA-256 of "abc" from FIPS 180-2, appendix B.1.
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(is_sha256(&sha256_hex(b"abc")));
        assert!(!is_sha256(
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        ));
        assert!(!is_sha256("ba7816bf"));
        assert!(!is_sha256("../../etc/passwd"));
    }
}
