//! Glyph ranges for a map style's `glyphs` URL (`{fontstack}/{range}.pbf`), rendered from a TrueType
//! font, so a map's labels need nothing from outside the server.
//!
//! A range is 256 code points. Each glyph the font has is a signed distance field drawn at 24 px with a
//! 3 px buffer around it, one byte a pixel: 255 deep inside, about 191 on the outline, falling by 255/8
//! per pixel outside (MapLibre's and Mapbox's convention for glyph PBFs). The answer is the `glyphs`
//! protobuf message: `stacks { name, range, glyphs { id, bitmap, width, height, left, top, advance } }`.

use ab_glyph::{Font, FontRef, GlyphId, InvalidFont, PxScale, ScaleFont, point};

use crate::mvt::wire::{LEN, put_bytes_field, put_key, put_uint_field, put_varint, zigzag32};

/// The size glyphs are drawn at: the style's `text-size` scales from it.
pub const GLYPH_SIZE_PX: f32 = 24.0;
/// The empty border around each glyph's bitmap, in pixels.
pub const GLYPH_BUFFER_PX: u32 = 3;
/// How far from the outline the field reaches, in pixels.
const RADIUS_PX: f64 = 8.0;
/// Where the outline sits in the field: 1 − 0.25 of the way up (value ≈ 191).
const CUTOFF: f64 = 0.25;
/// The highest code point MapLibre asks for (ranges cover the Basic Multilingual Plane).
pub const MAX_RANGE_START: u32 = 65280;

/// One font to draw glyph ranges from.
pub struct GlyphFont<'a> {
    font: FontRef<'a>,
}

/// A glyph as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glyph {
    /// The code point.
    pub id: u32,
    /// `(width + 6) × (height + 6)` bytes of signed distance field, row by row; empty for a blank glyph.
    pub bitmap: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// From the pen position to the glyph's left edge, in pixels.
    pub left: i32,
    /// The glyph's top edge against the font's ascender, in pixels (MapLibre's convention).
    pub top: i32,
    /// How far the pen moves, in pixels.
    pub advance: u32,
}

impl<'a> GlyphFont<'a> {
    /// Reads a TrueType or OpenType font.
    pub fn new(bytes: &'a [u8]) -> Result<Self, InvalidFont> {
        Ok(Self {
            font: FontRef::try_from_slice(bytes)?,
        })
    }

    /// The glyphs this font has among the 256 code points from `start` (a multiple of 256).
    #[must_use]
    pub fn range(&self, start: u32) -> Vec<Glyph> {
        (start..start.saturating_add(256))
            .filter_map(|code| char::from_u32(code).and_then(|c| self.glyph(c)))
            .collect()
    }

    /// The encoded `glyphs` message for the range from `start`, under the font stack name `stack`.
    #[must_use]
    pub fn encode_range(&self, stack: &str, start: u32) -> Vec<u8> {
        encode(stack, start, &self.range(start))
    }

    /// One glyph, or `None` if the font has none for `c`.
    #[must_use]
    pub fn glyph(&self, c: char) -> Option<Glyph> {
        let id = self.font.glyph_id(c);
        if id == GlyphId(0) {
            return None;
        }
        let scale = PxScale::from(GLYPH_SIZE_PX);
        let scaled = self.font.as_scaled(scale);
        let ascender = scaled.ascent().round();
        let advance = round_px(scaled.h_advance(id)).max(0).unsigned_abs();
        let Some(outline) = self
            .font
            .outline_glyph(id.with_scale_and_position(scale, point(0.0, 0.0)))
        else {
            // A blank glyph (a space): it only moves the pen.
            return Some(Glyph {
                id: u32::from(c),
                bitmap: Vec::new(),
                width: 0,
                height: 0,
                left: 0,
                top: -round_px(ascender),
                advance,
            });
        };
        let bounds = outline.px_bounds();
        let width = round_px(bounds.width()).max(0).unsigned_abs();
        let height = round_px(bounds.height()).max(0).unsigned_abs();
        let mut coverage = vec![0.0_f64; (width * height) as usize];
        outline.draw(|x, y, c| {
            if x < width && y < height {
                coverage[(y * width + x) as usize] = f64::from(c.clamp(0.0, 1.0));
            }
        });
        Some(Glyph {
            id: u32::from(c),
            bitmap: distance_field(&coverage, width, height),
            width,
            height,
            left: round_px(bounds.min.x),
            // ab_glyph's y grows downwards: the top edge is at -min.y above the baseline.
            top: round_px(-bounds.min.y - ascender),
            advance,
        })
    }
}

#[allow(clippy::cast_possible_truncation)]
fn round_px(v: f32) -> i32 {
    v.round() as i32
}

/// Encodes glyphs as the `glyphs` protobuf message with one font stack.
#[must_use]
pub fn encode(stack: &str, start: u32, glyphs: &[Glyph]) -> Vec<u8> {
    let mut body = Vec::new();
    put_bytes_field(&mut body, 1, stack.as_bytes());
    put_bytes_field(&mut body, 2, format!("{start}-{}", start + 255).as_bytes());
    let mut message = Vec::new();
    for glyph in glyphs {
        message.clear();
        put_uint_field(&mut message, 1, u64::from(glyph.id));
        if !glyph.bitmap.is_empty() {
            put_bytes_field(&mut message, 2, &glyph.bitmap);
        }
        put_uint_field(&mut message, 3, u64::from(glyph.width));
        put_uint_field(&mut message, 4, u64::from(glyph.height));
        put_uint_field(&mut message, 5, u64::from(zigzag32(glyph.left)));
        put_uint_field(&mut message, 6, u64::from(zigzag32(glyph.top)));
        put_uint_field(&mut message, 7, u64::from(glyph.advance));
        put_bytes_field(&mut body, 3, &message);
    }
    let mut out = Vec::with_capacity(body.len() + 8);
    put_key(&mut out, 1, LEN);
    put_varint(&mut out, body.len() as u64);
    out.extend_from_slice(&body);
    out
}

/// The signed distance field of a coverage bitmap (`width × height`, 0 outside … 1 inside), with the
/// buffer added on every side. Distances are exact Euclidean ones (Felzenszwalb and Huttenlocher's
/// transform), started from the anti-aliased edge as `TinySDF` does.
#[allow(clippy::many_single_char_names)]
fn distance_field(coverage: &[f64], width: u32, height: u32) -> Vec<u8> {
    let b = GLYPH_BUFFER_PX as usize;
    let (w, h) = (width as usize + 2 * b, height as usize + 2 * b);
    let mut outer = vec![f64::INFINITY; w * h];
    let mut inner = vec![0.0_f64; w * h];
    for y in 0..height as usize {
        for x in 0..width as usize {
            let a = coverage[y * width as usize + x];
            let i = (y + b) * w + x + b;
            if a >= 1.0 {
                outer[i] = 0.0;
                inner[i] = f64::INFINITY;
            } else if a > 0.0 {
                outer[i] = (0.5 - a).max(0.0).powi(2);
                inner[i] = (a - 0.5).max(0.0).powi(2);
            }
        }
    }
    transform_2d(&mut outer, w, h);
    transform_2d(&mut inner, w, h);
    outer
        .iter()
        .zip(&inner)
        .map(|(o, i)| {
            let d = o.sqrt() - i.sqrt();
            let v = (255.0 - 255.0 * (d / RADIUS_PX + CUTOFF))
                .round()
                .clamp(0.0, 255.0);
            // In 0..=255 by the clamp.
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let byte = v as u8;
            byte
        })
        .collect()
}

/// Where the parabolas rooted at `r` and `q` (`r < q`) cross.
#[allow(clippy::cast_precision_loss)]
fn intersection(f: &[f64], r: usize, q: usize) -> f64 {
    ((f[q] + (q * q) as f64) - (f[r] + (r * r) as f64)) / (2.0 * (q as f64 - r as f64))
}

/// Squared Euclidean distance transform of a grid of squared distances, in place.
#[allow(clippy::many_single_char_names)]
fn transform_2d(grid: &mut [f64], w: usize, h: usize) {
    let n = w.max(h);
    let mut f = vec![0.0; n];
    let mut z = vec![0.0; n + 1];
    let mut v = vec![0_usize; n];
    let mut d = vec![0.0; n];
    for x in 0..w {
        for y in 0..h {
            f[y] = grid[y * w + x];
        }
        transform_1d(&f[..h], &mut d[..h], &mut v, &mut z);
        for y in 0..h {
            grid[y * w + x] = d[y];
        }
    }
    for y in 0..h {
        f[..w].copy_from_slice(&grid[y * w..(y + 1) * w]);
        transform_1d(&f[..w], &mut d[..w], &mut v, &mut z);
        grid[y * w..(y + 1) * w].copy_from_slice(&d[..w]);
    }
}

/// The lower envelope of the parabolas `(q - p)² + f[p]`, sampled at every `q`.
#[allow(clippy::cast_precision_loss, clippy::many_single_char_names)]
fn transform_1d(f: &[f64], d: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    // Skip leading cells that are infinitely far: they contribute no parabola.
    let Some(first) = f.iter().position(|x| x.is_finite()) else {
        d.fill(f64::INFINITY);
        return;
    };
    let mut k = 0;
    v[0] = first;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in first + 1..n {
        if !f[q].is_finite() {
            continue;
        }
        let mut s = intersection(f, v[k], q);
        // z[0] is -inf, so k never goes below 0.
        while s <= z[k] {
            k -= 1;
            s = intersection(f, v[k], q);
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    k = 0;
    for (q, out) in d.iter_mut().enumerate() {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let r = v[k];
        let dq = q as f64 - r as f64;
        *out = dq * dq + f[r];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Brute force: the squared distance to the nearest finite cell, plus its value.
    #[allow(clippy::cast_precision_loss)]
    fn brute(grid: &[f64], w: usize, h: usize) -> Vec<f64> {
        let mut out = vec![f64::INFINITY; w * h];
        for y in 0..h {
            for x in 0..w {
                for yy in 0..h {
                    for xx in 0..w {
                        let g = grid[yy * w + xx];
                        if g.is_finite() {
                            let (dx, dy) = (x as f64 - xx as f64, y as f64 - yy as f64);
                            out[y * w + x] = out[y * w + x].min(dx * dx + dy * dy + g);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn the_transform_is_the_brute_force_distance() {
        // A deterministic scatter of sources, some with a sub-pixel start, on a 13 × 9 grid.
        let (w, h) = (13, 9);
        let mut grid = vec![f64::INFINITY; w * h];
        for (i, cell) in grid.iter_mut().enumerate() {
            match (i * 7919) % 23 {
                0 => *cell = 0.0,
                1 => *cell = 0.09,
                _ => {}
            }
        }
        let expected = brute(&grid, w, h);
        transform_2d(&mut grid, w, h);
        for (i, (got, want)) in grid.iter().zip(&expected).enumerate() {
            assert!((got - want).abs() < 1e-9, "cell {i}: {got} vs {want}");
        }
    }

    #[test]
    fn a_filled_square_is_high_inside_and_falls_off_outside() {
        let (w, h) = (10_u32, 10_u32);
        let coverage = vec![1.0; 100];
        let field = distance_field(&coverage, w, h);
        let stride = (w + 2 * GLYPH_BUFFER_PX) as usize;
        let at = |x: usize, y: usize| field[y * stride + x];
        assert_eq!(field.len(), stride * stride);
        // Centre of the square: 5 px from the edge → 255 − 255·(−5/8 + 0.25) clamps to 255.
        assert_eq!(at(8, 8), 255);
        // Just outside the edge, one pixel into the buffer: distance 1 → 255 − 255·(1/8 + 0.25) ≈ 159.
        assert_eq!(at(2, 8), 159);
        // The outermost buffer pixel: distance 3 → 255 − 255·(3/8 + 0.25) ≈ 96.
        assert_eq!(at(0, 8), 96);
        // On the edge pixels (inside by one) the value is above the outline's 191.
        assert!(at(3, 8) > 191);
    }

    #[test]
    fn empty_ranges_encode_only_their_name_and_span() {
        let bytes = encode("Noto Sans Regular", 19968, &[]);
        // stacks (field 1, LEN) { name (1), range (2) }.
        let name = b"Noto Sans Regular";
        let range = b"19968-20223";
        let inner = 2 + name.len() + 2 + range.len();
        assert_eq!(bytes[0], 0x0a);
        assert_eq!(bytes[1] as usize, inner);
        assert_eq!(&bytes[4..4 + name.len()], name);
        assert_eq!(bytes.len(), 2 + inner);
    }
}
