//! Text search of cases (检索, issue 22): what a query's words are, and how each store matches them.
//!
//! A query is up to [`MAX_TERMS`] words split at white space; a case matches when its description
//! holds every word, anywhere, ignoring case — Chinese has no spaces between words, so a word is a run
//! of characters, not a token (燃气 matches "闻到燃气味道"). The stores index the text for runs of three
//! or more characters (`SQLite`: `FTS5` with the `trigram` tokenizer; PostgreSQL: a `pg_trgm` GIN index
//! under ILIKE, migrations 0020); a shorter word is checked by LIKE/ILIKE on the row. Every word is
//! passed as a bound value, its LIKE wildcards escaped and, for `FTS5`, quoted as one phrase, so no
//! input is ever read as syntax. This module owns no IO: `store/sql/search.rs` runs the statements.

use super::{Seer, StoreKind};

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 100;
/// The most words a query may have.
pub const MAX_TERMS: usize = 8;
/// The shortest word the stores' trigram indexes serve; shorter ones are scanned for.
const TRIGRAM: usize = 3;

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextQueryError {
    #[error("the search text is empty")]
    Empty,
    #[error("the search text is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the search text has more than {max} words")]
    TooManyTerms { max: usize },
    #[error("the search text holds control characters")]
    Control,
}

/// A checked query: its words, lower-cased, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextQuery {
    terms: Vec<String>,
}

impl TextQuery {
    /// Splits `text` into words. Refuses empty text, text over [`MAX_QUERY_CHARS`], more than
    /// [`MAX_TERMS`] words, and control characters (PostgreSQL refuses a NUL in text outright).
    pub fn parse(text: &str) -> Result<Self, TextQueryError> {
        if text.chars().count() > MAX_QUERY_CHARS {
            return Err(TextQueryError::TooLong {
                max: MAX_QUERY_CHARS,
            });
        }
        if text.chars().any(|c| c.is_control() && !c.is_whitespace()) {
            return Err(TextQueryError::Control);
        }
        let mut terms: Vec<String> = Vec::new();
        for word in text.split_whitespace().map(str::to_lowercase) {
            if !terms.contains(&word) {
                terms.push(word);
            }
        }
        if terms.is_empty() {
            return Err(TextQueryError::Empty);
        }
        if terms.len() > MAX_TERMS {
            return Err(TextQueryError::TooManyTerms { max: MAX_TERMS });
        }
        Ok(Self { terms })
    }

    /// The words, lower-cased.
    #[must_use]
    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// Whether `text` holds every word, ignoring case: the stores' rule, for the cases the world holds.
    #[must_use]
    pub fn matches(&self, text: &str) -> bool {
        let text = text.to_lowercase();
        self.terms.iter().all(|term| text.contains(term.as_str()))
    }

    /// The two text values a search statement takes, in `kind`'s dialect (each `None` for no filter):
    /// - `SQLite`: an `FTS5` query of the words of three or more characters (each a quoted phrase, all
    ///   required), and a JSON array of LIKE patterns for the shorter words;
    /// - PostgreSQL: the ILIKE pattern of the longest word (the one the trigram index serves best),
    ///   and a JSON array of ILIKE patterns for the other words.
    #[must_use]
    pub fn binds(&self, kind: StoreKind) -> (Option<String>, Option<String>) {
        let patterns = |terms: Vec<&String>| {
            (!terms.is_empty()).then(|| {
                serde_json::Value::from(
                    terms
                        .into_iter()
                        .map(|t| like_pattern(t))
                        .collect::<Vec<_>>(),
                )
                .to_string()
            })
        };
        match kind {
            StoreKind::Sqlite => {
                let (long, short): (Vec<&String>, Vec<&String>) = self
                    .terms
                    .iter()
                    .partition(|t| t.chars().count() >= TRIGRAM);
                let fts = (!long.is_empty()).then(|| {
                    long.iter()
                        .map(|t| fts_phrase(t))
                        .collect::<Vec<_>>()
                        .join(" AND ")
                });
                (fts, patterns(short))
            }
            StoreKind::Postgres => {
                let lead = self
                    .terms
                    .iter()
                    .enumerate()
                    .max_by_key(|(i, t)| (t.chars().count(), std::cmp::Reverse(*i)))
                    .map(|(i, _)| i);
                let first = lead.map(|i| like_pattern(&self.terms[i]));
                let rest = (self.terms.iter().enumerate())
                    .filter(|(i, _)| Some(*i) != lead)
                    .map(|(_, t)| t)
                    .collect();
                (first, patterns(rest))
            }
        }
    }
}

/// A LIKE pattern matching `term` anywhere, with `\`, `%` and `_` escaped by `\` (the escape both
/// stores' statements name).
#[must_use]
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// `term` as one `FTS5` phrase: in double quotes, a quote inside doubled, so no word is read as an
/// operator, a column filter or a prefix query.
#[must_use]
pub fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Which cases to find by text ([`super::Store::search_cases`]): every case, open, finished or
/// archived, whose description holds every word of `text` and that `seen_by` may see (`None`:
/// anybody), the `limit` newest (highest id first).
#[derive(Debug, Clone)]
pub struct CaseSearch {
    pub text: TextQuery,
    pub seen_by: Option<Seer>,
    pub limit: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_split_lowered_and_checked() {
        let q = TextQuery::parse("  Gas  燃气 gas ").unwrap();
        assert_eq!(q.terms(), ["gas", "燃气"]);
        assert_eq!(TextQuery::parse(" \t "), Err(TextQueryError::Empty));
        assert_eq!(
            TextQuery::parse(&"字".repeat(101)),
            Err(TextQueryError::TooLong { max: 100 })
        );
        assert!(TextQuery::parse(&"字".repeat(100)).is_ok());
        assert_eq!(TextQuery::parse("a\u{0}b"), Err(TextQueryError::Control));
        assert_eq!(
            TextQuery::parse("a b c d e f g h i"),
            Err(TextQueryError::TooManyTerms { max: 8 })
        );
    }

    #[test]
    fn matching_is_every_word_anywhere_ignoring_case() {
        let q = TextQuery::parse("燃气 SMELL").unwrap();
        assert!(q.matches("闻到燃气味道, gas smell"));
        assert!(!q.matches("闻到燃气味道"));
        assert!(TextQuery::parse("燃气").unwrap().matches("闻到燃气味道"));
    }

    #[test]
    fn input_is_never_syntax() {
        assert_eq!(like_pattern(r"50%_a\b"), r"%50\%\_a\\b%");
        assert_eq!(fts_phrase(r#"a"b OR c*"#), r#""a""b OR c*""#);
        let q = TextQuery::parse(r#"燃气 "x" OR* 100%"#).unwrap();
        let (fts, short) = q.binds(StoreKind::Sqlite);
        assert_eq!(fts.as_deref(), Some(r#""""x""" AND "or*" AND "100%""#));
        assert_eq!(short.as_deref(), Some(r#"["%燃气%"]"#));
        let (lead, rest) = q.binds(StoreKind::Postgres);
        assert_eq!(lead.as_deref(), Some("%100\\%%"));
        assert_eq!(rest.as_deref(), Some(r#"["%燃气%","%\"x\"%","%or*%"]"#));
        let (fts, short) = TextQuery::parse("ab").unwrap().binds(StoreKind::Sqlite);
        assert_eq!((fts, short.as_deref()), (None, Some(r#"["%ab%"]"#)));
    }
}
