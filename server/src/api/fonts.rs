//! `GET /fonts/{fontstack}/{start}-{end}.pbf`: glyphs for the web map's labels, drawn from the Noto Sans
//! fonts bundled with the web map (SIL Open Font License). `fontstack` is a comma-separated list as a
//! style names it; the first stack this server has is used, else Noto Sans Regular. A range is 256 code
//! points starting at a multiple of 256. Ranges are drawn once and kept: there are at most 256 a font.
//!
//! Chinese characters are not here: the map draws them with the browser's own fonts
//! (`localIdeographFontFamily`), as MapLibre does by default.

use std::sync::{Arc, LazyLock, Mutex};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gridwatch_tiles::glyphs::{GlyphFont, MAX_RANGE_START};
use rustc_hash::FxHashMap;

use super::AppPath;
use crate::error::ApiError;

/// The font stacks served, by name, with the web map file each is drawn from.
pub const STACKS: &[(&str, &str)] = &[
    ("Noto Sans Regular", "fonts/NotoSans-Regular.ttf"),
    ("Noto Sans Bold", "fonts/NotoSans-Bold.ttf"),
];

/// Encoded ranges by (stack, start).
type RangeCache = FxHashMap<(usize, u32), Arc<[u8]>>;
static CACHE: LazyLock<Mutex<RangeCache>> = LazyLock::new(Mutex::default);

#[utoipa::path(get, path = "/fonts/{fontstack}/{start}-{end}.pbf", tag = "web",
    params(("fontstack" = String, Path, description = "comma-separated font names; the first this server has is used, else Noto Sans Regular"),
        ("start" = u32, Path, description = "first code point: a multiple of 256, at most 65,280"),
        ("end" = u32, Path, description = "last code point: `start + 255`")),
    responses((status = 200, description = "the glyph range (MapLibre `glyphs.proto`)", content_type = "application/x-protobuf"),
        (status = 304, description = "`If-None-Match` names the range's `ETag`"),
        (status = 400, description = "not an aligned range of 256 code points in the Basic Multilingual Plane, or a path that is not UTF-8 once percent-decoded")))]
pub async fn glyphs(
    AppPath((fontstack, file)): AppPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let start = parse_range(&file)?;
    let stack = fontstack
        .split(',')
        .find_map(|name| STACKS.iter().position(|(n, _)| *n == name.trim()))
        .unwrap_or(0);
    let (bytes, font_hash) = range(stack, start)?;
    let etag = format!("\"{stack}-{start}-{font_hash:016x}\"");
    if super::if_none_match(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(Response::builder()
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from(bytes.to_vec()))
        .expect("static headers are valid"))
}

/// `"{start}-{end}.pbf"` → `start`, refusing anything but an aligned range of 256 in the BMP.
fn parse_range(file: &str) -> Result<u32, ApiError> {
    let bad = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid-glyph-range",
            format!(
                "{file:?} is not a glyph range: expected {{start}}-{{start + 255}}.pbf with start a multiple of 256 up to {MAX_RANGE_START}"
            ),
        )
    };
    let span = file.strip_suffix(".pbf").ok_or_else(bad)?;
    let (start, end) = span.split_once('-').ok_or_else(bad)?;
    let (start, end): (u32, u32) = (
        start.parse().map_err(|_| bad())?,
        end.parse().map_err(|_| bad())?,
    );
    if start % 256 != 0 || start > MAX_RANGE_START || end != start + 255 {
        return Err(bad());
    }
    Ok(start)
}

/// The encoded range and a hash of the font it was drawn from.
fn range(stack: usize, start: u32) -> Result<(Arc<[u8]>, u64), ApiError> {
    let (name, file) = STACKS[stack];
    let internal = |detail: String| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "font-unavailable",
            detail,
        )
    };
    let (ttf, hash) = super::web::embedded_file(file)
        .ok_or_else(|| internal(format!("the web map has no {file}")))?;
    if let Some(hit) = CACHE.lock().expect("glyph cache lock").get(&(stack, start)) {
        return Ok((hit.clone(), hash));
    }
    let font = GlyphFont::new(ttf).map_err(|e| internal(format!("{file}: {e}")))?;
    let bytes: Arc<[u8]> = font.encode_range(name, start).into();
    CACHE
        .lock()
        .expect("glyph cache lock")
        .insert((stack, start), bytes.clone());
    Ok((bytes, hash))
}

#[cfg(test)]
mod tests {
    use gridwatch_tiles::glyphs::GLYPH_BUFFER_PX;

    use super::*;

    fn font(stack: usize) -> GlyphFont<'static> {
        GlyphFont::new(
            super::super::web::embedded_file(STACKS[stack].1)
                .expect("embedded")
                .0,
        )
        .expect("a font")
    }

    #[test]
    fn ranges_must_be_aligned_blocks_of_256() {
        assert_eq!(parse_range("0-255.pbf").ok(), Some(0));
        assert_eq!(parse_range("256-511.pbf").ok(), Some(256));
        assert_eq!(parse_range("65280-65535.pbf").ok(), Some(65280));
        for bad in [
            "0-255",
            "1-256.pbf",
            "0-256.pbf",
            "65536-65791.pbf",
            "a-b.pbf",
            "-255.pbf",
            "0-255.pbf.pbf",
            "",
        ] {
            assert!(parse_range(bad).is_err(), "{bad:?} was taken");
        }
    }

    #[test]
    fn latin_glyphs_have_sizes_that_match_their_bitmaps_and_shapes() {
        let glyphs = font(0).range(0);
        // Printable ASCII is all there.
        for c in ' '..='~' {
            assert!(
                glyphs.iter().any(|g| g.id == u32::from(c)),
                "{c:?} is missing"
            );
        }
        for g in &glyphs {
            let (w, h) = (
                (g.width + 2 * GLYPH_BUFFER_PX) as usize,
                (g.height + 2 * GLYPH_BUFFER_PX) as usize,
            );
            assert!(
                g.bitmap.is_empty() && g.width == 0 || g.bitmap.len() == w * h,
                "glyph {} has a bitmap of the wrong size",
                g.id
            );
        }
        let space = glyphs.iter().find(|g| g.id == 32).expect("space");
        assert!(space.bitmap.is_empty() && space.advance > 0);
        // 'l' is a tall thin stroke: taller than wide, above the baseline, and its middle column is inside
        // the outline (> 191) while the buffer's corner is far outside.
        let l = glyphs.iter().find(|g| g.id == u32::from('l')).expect("l");
        assert!(l.height > 2 * l.width, "{l:?}");
        let stride = (l.width + 2 * GLYPH_BUFFER_PX) as usize;
        let mid = |y: usize| l.bitmap[y * stride + stride / 2];
        let rows = (l.height + 2 * GLYPH_BUFFER_PX) as usize;
        assert!(mid(rows / 2) > 191, "middle of 'l' is {}", mid(rows / 2));
        assert!(l.bitmap[0] < 100, "corner of 'l' is {}", l.bitmap[0]);
        // 'W' is wider than 'i', and bold is wider than regular.
        let advance = |glyphs: &[gridwatch_tiles::glyphs::Glyph], c: char| {
            glyphs
                .iter()
                .find(|g| g.id == u32::from(c))
                .expect("glyph")
                .advance
        };
        assert!(advance(&glyphs, 'W') > 2 * advance(&glyphs, 'i'));
        assert!(advance(&font(1).range(0), 'W') > advance(&glyphs, 'W'));
        // 'g' has a descender: its bitmap reaches lower (top further down + taller) than 'o'.
        let g = glyphs.iter().find(|g| g.id == u32::from('g')).expect("g");
        let o = glyphs.iter().find(|g| g.id == u32::from('o')).expect("o");
        assert!(
            g.top - i32::try_from(g.height).expect("small")
                < o.top - i32::try_from(o.height).expect("small")
        );
    }

    #[test]
    fn ranges_the_font_lacks_are_empty_but_valid() {
        let bytes = font(0).encode_range("Noto Sans Regular", 0x4e00);
        assert_eq!(
            bytes.len(),
            2 + 2 + "Noto Sans Regular".len() + 2 + "19968-20223".len()
        );
    }
}
