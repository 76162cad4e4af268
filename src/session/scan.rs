//! A lenient tag scanner for session XML.
//!
//! Real plans are not well-formed XML (raw `<` and `&` in code snippets, `\"` inside attribute
//! values, unclosed prose tags), so sessions are located with a scan for `<session …>` start tags
//! and their elements are read by a forgiving scanner instead of a strict parser:
//!
//! - `code_snippet`, `file_templates`, `config`, `git_commit`, `context`, `description`,
//!   `functions`, `test_cases`, `find_marker` are raw text up to their literal close tag;
//! - the five XML entities (and numeric references) are decoded, a stray `&` is kept verbatim;
//! - a `<` that does not start a plausible tag (or whose element is never closed) is text;
//! - attribute values may contain `\"`; attributes may come in any order; `<x/>` is accepted;
//! - comments, CDATA and processing instructions are understood.
//!
//! Every node keeps byte offsets into the file, so diagnostics can point at line and column.

use std::borrow::Cow;
use std::ops::Range;

/// Elements whose content is opaque text up to the literal close tag.
pub const RAW_ELEMENTS: &[&str] = &[
    "code_snippet",
    "file_templates",
    "config",
    "git_commit",
    "context",
    "description",
    "functions",
    "test_cases",
    "find_marker",
];

/// Names and (when nothing needed decoding) text borrow from the source: a plan of 1,000
/// sessions is scanned without an allocation per element or attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attr<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
    /// Span of the value (without quotes).
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node<'a> {
    pub name: &'a str,
    pub attrs: Vec<Attr<'a>>,
    pub children: Vec<Node<'a>>,
    /// Direct text content, entity-decoded, concatenated (children's text excluded).
    pub text: Cow<'a, str>,
    /// Span of the start tag.
    pub tag_span: Range<usize>,
    /// Span of the inner content (empty for self-closing elements).
    pub inner: Range<usize>,
    /// Span of the whole element, start tag through close tag.
    pub span: Range<usize>,
}

impl<'a> Node<'a> {
    pub fn attr(&self, name: &str) -> Option<&Attr<'a>> {
        self.attrs
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    pub fn attr_value(&self, name: &str) -> Option<&str> {
        self.attr(name).map(|a| a.value.as_ref())
    }

    pub fn child(&self, name: &str) -> Option<&Node<'a>> {
        self.children.iter().find(|c| c.name == name)
    }

    pub fn children_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s Node<'a>> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Trimmed text of this element.
    pub fn trimmed(&self) -> &str {
        self.text.trim()
    }

    /// Text of this element including the text of all descendants, in document order.
    pub fn deep_text(&self, src: &str) -> String {
        decode_entities(&strip_tags(&src[self.inner.clone()]))
    }
}

/// A scanner problem that makes a block malformed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanIssue {
    pub message: String,
    pub span: Range<usize>,
}

/// A `<session>` block found in a file.
#[derive(Debug, Clone)]
pub struct Block<'a> {
    pub root: Node<'a>,
    /// Notes about recovered problems (stray close tags …), reported as warnings.
    pub recovered: Vec<ScanIssue>,
    /// Problems that make the block invalid (elements nested deeper than [`MAX_DEPTH`]).
    pub errors: Vec<ScanIssue>,
}

/// How deep elements may nest inside a session (the session element is depth 0). Real plans
/// nest five or six levels; the limit keeps every walk over the tree shallow, whatever the input.
pub const MAX_DEPTH: usize = 64;

/// Where every close tag `</name>` and every start of `<name` is inside a block, by name: the
/// scanner asks "is this element ever closed?" for each start tag, and a search through the rest
/// of the block per question made unclosed tags quadratic (80,000 of them: seconds).
struct Index<'a> {
    closes: rustc_hash::FxHashMap<&'a str, Vec<usize>>,
    opens: rustc_hash::FxHashMap<&'a str, Vec<usize>>,
}

impl<'a> Index<'a> {
    fn new(src: &'a str, range: Range<usize>) -> Index<'a> {
        let b = src.as_bytes();
        let mut closes: rustc_hash::FxHashMap<&'a str, Vec<usize>> = Default::default();
        let mut opens: rustc_hash::FxHashMap<&'a str, Vec<usize>> = Default::default();
        let end = range.end.min(b.len());
        let mut i = range.start;
        while i < end {
            let Some(off) = b[i..end].iter().position(|&c| c == b'<') else {
                break;
            };
            let lt = i + off;
            if b.get(lt + 1) == Some(&b'/') {
                let ns = lt + 2;
                let mut ne = ns;
                while ne < end && is_name_char(b[ne]) {
                    ne += 1;
                }
                if ne > ns && ne < end && b[ne] == b'>' {
                    closes.entry(&src[ns..ne]).or_default().push(lt);
                }
            } else if b.get(lt + 1).copied().is_some_and(is_name_start) {
                let ns = lt + 1;
                let mut ne = ns;
                while ne < end && is_name_char(b[ne]) {
                    ne += 1;
                }
                opens.entry(&src[ns..ne]).or_default().push(lt);
            }
            i = lt + 1;
        }
        Index { closes, opens }
    }

    /// Start of the first `</name>` at or after `from` that ends by `limit`.
    fn find_close(&self, from: usize, limit: usize, name: &str) -> Option<usize> {
        let v = self.closes.get(name)?;
        let k = v.partition_point(|&p| p < from);
        v.get(k).copied().filter(|&p| p + name.len() + 3 <= limit)
    }

    /// Whether a `<name` starts in `from..to`.
    fn opened_between(&self, from: usize, to: usize, name: &str) -> bool {
        self.opens.get(name).is_some_and(|v| {
            let k = v.partition_point(|&p| p < from);
            v.get(k).is_some_and(|&p| p < to)
        })
    }
}

/// The scanner's state for one block.
struct Scan<'a, 'i> {
    src: &'a str,
    index: &'i Index<'a>,
    recovered: Vec<ScanIssue>,
    errors: Vec<ScanIssue>,
}

/// Find every session block in `src`. Malformed blocks (a `<session id=…>` start tag at the
/// start of a line without a `</session>`) are returned as issues.
pub fn find_sessions(src: &str) -> (Vec<Block<'_>>, Vec<ScanIssue>) {
    let bytes = src.as_bytes();
    let mut blocks = Vec::new();
    let mut issues = Vec::new();
    // One pass for the candidates (a `<session` first on its line) and the close tags, so that
    // a file of many unclosed blocks is not searched to its end once per block.
    let mut candidates = Vec::new();
    let mut line_start = 0;
    let mut scanned = 0;
    let mut at = 0;
    while let Some(off) = src[at..].find("<session") {
        let start = at + off;
        at = start + "<session".len();
        let after = bytes.get(at).copied().unwrap_or(b' ');
        if !(after.is_ascii_whitespace() || after == b'>' || after == b'/') {
            continue; // <sessions>, <session_id>
        }
        if let Some(nl) = src[scanned..start].rfind('\n') {
            line_start = scanned + nl + 1;
        }
        scanned = start;
        // Inline mentions (in prose, backticks, JSON strings) are not blocks: a block's start
        // tag is the first thing on its line.
        if src[line_start..start].trim().is_empty() {
            candidates.push((start, after != b'/'));
        }
    }
    let closes: Vec<usize> = src.match_indices("</session>").map(|(i, _)| i).collect();
    // next_opener[k]: the first candidate after k that opens a block (`<session/` does not).
    let mut next_opener = vec![candidates.len(); candidates.len()];
    for k in (0..candidates.len().saturating_sub(1)).rev() {
        next_opener[k] = if candidates[k + 1].1 {
            k + 1
        } else {
            next_opener[k + 1]
        };
    }
    let mut pos = 0;
    for (k, &(start, _)) in candidates.iter().enumerate() {
        if start < pos {
            continue;
        }
        let Some(tag) = parse_start_tag(src, start) else {
            continue;
        };
        if !tag.attrs.iter().any(|a| a.name == "id") {
            continue;
        }
        if tag.self_closing {
            issues.push(ScanIssue {
                message: "self-closing <session/> has no content".into(),
                span: start..tag.end,
            });
            pos = tag.end;
            continue;
        }
        // The block ends at the next </session>, unless another block starts first.
        let close = closes
            .get(closes.partition_point(|&c| c < tag.end))
            .copied();
        let mut j = next_opener[k];
        while j < candidates.len() && candidates[j].0 < tag.end {
            j = next_opener[j];
        }
        let next_open = candidates.get(j).map(|&(c, _)| c);
        match close {
            Some(c) if next_open.is_none_or(|n| c < n) => {
                let end = c + "</session>".len();
                let index = Index::new(src, start..end);
                let mut scan = Scan {
                    src,
                    index: &index,
                    recovered: Vec::new(),
                    errors: Vec::new(),
                };
                let root = scan.element(start, tag, end, 0);
                blocks.push(Block {
                    root,
                    recovered: scan.recovered,
                    errors: scan.errors,
                });
                pos = end;
            }
            _ => {
                issues.push(ScanIssue {
                    message: "<session> is never closed (no </session> before the next session \
                              or the end of the file)"
                        .into(),
                    span: start..tag.end,
                });
                pos = tag.end;
            }
        }
    }
    (blocks, issues)
}

struct StartTag<'a> {
    name: &'a str,
    attrs: Vec<Attr<'a>>,
    self_closing: bool,
    /// Byte after the closing `>`.
    end: usize,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':')
}

/// Parse a start tag at `at` (which holds `<`). `None` when it is not a plausible tag.
fn parse_start_tag(src: &str, at: usize) -> Option<StartTag<'_>> {
    let b = src.as_bytes();
    let mut i = at + 1;
    if !b.get(i).copied().is_some_and(is_name_start) {
        return None;
    }
    let ns = i;
    while b.get(i).copied().is_some_and(is_name_char) {
        i += 1;
    }
    let name = &src[ns..i];
    let mut attrs = Vec::new();
    loop {
        let ws = i;
        while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
            i += 1;
        }
        match b.get(i)? {
            b'>' => {
                return Some(StartTag {
                    name,
                    attrs,
                    self_closing: false,
                    end: i + 1,
                });
            }
            b'/' if b.get(i + 1) == Some(&b'>') => {
                return Some(StartTag {
                    name,
                    attrs,
                    self_closing: true,
                    end: i + 2,
                });
            }
            c if is_name_start(*c) && i > ws => {
                let an = i;
                while b.get(i).copied().is_some_and(is_name_char) {
                    i += 1;
                }
                let aname = &src[an..i];
                while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                    i += 1;
                }
                if b.get(i) != Some(&b'=') {
                    return None;
                }
                i += 1;
                while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                    i += 1;
                }
                let quote = *b.get(i)?;
                if quote != b'"' && quote != b'\'' {
                    return None;
                }
                i += 1;
                let vs = i;
                // `\"` inside a "-quoted value is part of the value.
                loop {
                    let c = *b.get(i)?;
                    if c == b'\n' && src[vs..i].matches('\n').count() > 20 {
                        return None;
                    }
                    if c == quote && !(quote == b'"' && i > vs && b[i - 1] == b'\\') {
                        break;
                    }
                    i += 1;
                }
                let raw = &src[vs..i];
                let value = if raw.contains('\\') {
                    Cow::Owned(decode_entities(&raw.replace("\\\"", "\"")))
                } else {
                    decode_cow(raw)
                };
                attrs.push(Attr {
                    name: aname,
                    value,
                    span: vs..i,
                });
                i += 1;
            }
            _ => return None,
        }
    }
}

/// Parse the element whose start tag is at `at`, bounded by `limit`.
impl<'a> Scan<'a, '_> {
    fn element(&mut self, at: usize, tag: StartTag<'a>, limit: usize, depth: usize) -> Node<'a> {
        let src = self.src;
        let mut node = Node {
            name: tag.name,
            attrs: tag.attrs,
            children: Vec::new(),
            text: Cow::Borrowed(""),
            tag_span: at..tag.end,
            inner: tag.end..tag.end,
            span: at..tag.end,
        };
        if tag.self_closing {
            return node;
        }
        if RAW_ELEMENTS.contains(&tag.name) {
            let end = self
                .index
                .find_close(tag.end, limit, tag.name)
                .unwrap_or(limit);
            node.inner = tag.end..end;
            node.text = decode_cow(&src[tag.end..end]);
            node.span = at..(end + tag.name.len() + 3).min(limit);
            return node;
        }
        let (end, after) = self.content(tag.end, limit, tag.name, &mut node, depth);
        node.inner = tag.end..end;
        node.span = at..after;
        node
    }

    /// Parse content until `</name>`; returns (content end, position after the close tag).
    fn content(
        &mut self,
        from: usize,
        limit: usize,
        name: &str,
        node: &mut Node<'a>,
        depth: usize,
    ) -> (usize, usize) {
        let src = self.src;
        let b = src.as_bytes();
        let mut i = from;
        let mut text_start = from;
        // Borrowed while the text is one contiguous piece of the source (the common case).
        let mut raw_text: Cow<'a, str> = Cow::Borrowed("");
        let flush = |raw: &mut Cow<'a, str>, s: &'a str| {
            if s.is_empty() {
            } else if raw.is_empty() {
                *raw = Cow::Borrowed(s);
            } else {
                raw.to_mut().push_str(s);
            }
        };
        while i < limit {
            let Some(off) = src[i..limit].find('<') else {
                break;
            };
            let lt = i + off;
            let rest = &src[lt..limit];
            if rest.starts_with("<!--") {
                flush(&mut raw_text, &src[text_start..lt]);
                let end = rest.find("-->").map_or(limit, |e| lt + e + 3);
                i = end;
                text_start = end;
                continue;
            }
            if rest.starts_with("<![CDATA[") {
                flush(&mut raw_text, &src[text_start..lt]);
                let body = lt + 9;
                let end = src[body..limit].find("]]>").map_or(limit, |e| body + e);
                // CDATA is literal: protect it from entity decoding by escaping `&`.
                raw_text
                    .to_mut()
                    .push_str(&src[body..end].replace('&', "&amp;"));
                i = (end + 3).min(limit);
                text_start = i;
                continue;
            }
            if rest.starts_with("<?") {
                flush(&mut raw_text, &src[text_start..lt]);
                let end = rest.find("?>").map_or(limit, |e| lt + e + 2);
                i = end;
                text_start = end;
                continue;
            }
            if rest.starts_with("</") {
                let ns = lt + 2;
                let mut ne = ns;
                while ne < limit && is_name_char(b[ne]) {
                    ne += 1;
                }
                let cname = &src[ns..ne];
                if ne < limit && b[ne] == b'>' && !cname.is_empty() {
                    if cname == name {
                        flush(&mut raw_text, &src[text_start..lt]);
                        node.text = decode_text(raw_text);
                        return (lt, ne + 1);
                    }
                    // A close tag for something else: stray. If it closes an ancestor, the caller
                    // will see it; we end here without consuming it (implicitly closing `name`).
                    if self.index.opened_between(from, lt, cname) || name == "session" {
                        self.recovered.push(ScanIssue {
                            message: format!("stray </{cname}> ignored"),
                            span: lt..ne + 1,
                        });
                        flush(&mut raw_text, &src[text_start..lt]);
                        i = ne + 1;
                        text_start = i;
                        continue;
                    }
                    self.recovered.push(ScanIssue {
                        message: format!("<{name}> is not closed before </{cname}>"),
                        span: lt..ne + 1,
                    });
                    flush(&mut raw_text, &src[text_start..lt]);
                    node.text = decode_text(raw_text);
                    return (lt, lt);
                }
                i = lt + 2;
                continue;
            }
            if let Some(tag) = parse_start_tag(src, lt).filter(|t| t.end <= limit) {
                let close = self.index.find_close(tag.end, limit, tag.name);
                if !tag.self_closing
                    && depth + 1 >= MAX_DEPTH
                    && let Some(c) = close
                {
                    // Too deep: the element is reported and skipped, not descended into.
                    if self.errors.is_empty() {
                        self.errors.push(ScanIssue {
                            message: format!(
                                "elements are nested more than {MAX_DEPTH} levels deep; <{}> and \
                             its content are not read",
                                tag.name
                            ),
                            span: lt..tag.end,
                        });
                    }
                    flush(&mut raw_text, &src[text_start..lt]);
                    i = c + tag.name.len() + 3;
                    text_start = i;
                    continue;
                }
                if tag.self_closing || close.is_some() {
                    flush(&mut raw_text, &src[text_start..lt]);
                    let child = self.element(lt, tag, limit, depth + 1);
                    i = child.span.end.max(lt + 1);
                    node.children.push(child);
                    text_start = i;
                    continue;
                }
            }
            // Not a tag: a literal `<`.
            i = lt + 1;
        }
        flush(&mut raw_text, &src[text_start..limit.max(text_start)]);
        node.text = decode_text(raw_text);
        self.recovered.push(ScanIssue {
            message: format!("<{name}> is never closed"),
            span: node.tag_span.clone(),
        });
        (limit, limit)
    }
}

/// [`decode_entities`], borrowing when there is nothing to decode.
fn decode_cow(s: &str) -> Cow<'_, str> {
    if s.contains('&') {
        Cow::Owned(decode_entities(s))
    } else {
        Cow::Borrowed(s)
    }
}

fn decode_text(raw: Cow<'_, str>) -> Cow<'_, str> {
    match raw {
        Cow::Borrowed(s) => decode_cow(s),
        Cow::Owned(s) if s.contains('&') => Cow::Owned(decode_entities(&s)),
        owned => owned,
    }
}

/// Decode `&lt; &gt; &amp; &quot; &apos;` and numeric references; keep anything else verbatim.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let mut probe = tail.len().min(12);
        while !tail.is_char_boundary(probe) {
            probe -= 1;
        }
        let semi = tail[..probe].find(';');
        let decoded = semi.and_then(|e| {
            let ent = &tail[1..e];
            let ch = match ent {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ if ent.starts_with("#x") || ent.starts_with("#X") => {
                    u32::from_str_radix(&ent[2..], 16)
                        .ok()
                        .and_then(char::from_u32)
                }
                _ if ent.starts_with('#') => ent[1..].parse().ok().and_then(char::from_u32),
                _ => None,
            };
            ch.map(|c| (c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &tail[len..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Remove tags, keeping text (for "deep text" of prose elements).
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let b = s.as_bytes();
    // The next `>` at or after `i` (searched again only once passed): one search per `<`
    // made text of many `<x` without a `>` quadratic.
    let mut next_gt: Option<Option<usize>> = None;
    while i < s.len() {
        if b[i] == b'<' {
            let rest = &s[i..];
            let closing = rest.starts_with("</");
            let probe = if closing { 2 } else { 1 };
            if next_gt.is_some_and(|g| g.is_some_and(|g| g < i)) {
                next_gt = None;
            }
            let gt = *next_gt.get_or_insert_with(|| rest.find('>').map(|e| i + e));
            if rest.len() > probe
                && is_name_start(b[i + probe])
                && let Some(g) = gt
            {
                i = g + 1;
                continue;
            }
        }
        let ch = s[i..].chars().next().expect("char boundary");
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Line and column (1-based, column in characters) of a byte offset.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    crate::error::line_col(src, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_fenced_and_unfenced_sessions_and_skips_inline_mentions() {
        let src = "# Plan\nSee `<session id=\"X\">` inline.\n\n```xml\n<session id=\"A-01\">\n</session>\n```\n\n<session project=\"P\" id=\"B-01\"><metadata/></session>\n";
        let (blocks, issues) = find_sessions(src);
        assert!(issues.is_empty(), "{issues:?}");
        let ids: Vec<_> = blocks
            .iter()
            .map(|b| b.root.attr_value("id").unwrap())
            .collect();
        assert_eq!(ids, ["A-01", "B-01"]);
    }

    #[test]
    fn raw_code_snippet_keeps_lt_and_amp() {
        let src = "<session id=\"A-01\"><tasks><task id=\"1\" file=\"a.ts\" action=\"CREATE\"><code_snippet language=\"ts\">const a: Array<T> = x && y;</code_snippet></task></tasks></session>";
        let (blocks, _) = find_sessions(src);
        let task = &blocks[0].root.children[0].children[0];
        assert_eq!(
            task.child("code_snippet").unwrap().text,
            "const a: Array<T> = x && y;"
        );
    }

    #[test]
    fn escaped_quotes_in_attributes_and_entities() {
        let src = "<session id=\"A-01\">\n<check command=\"grep \\\"x\\\" f &amp;&amp; echo ok\" name=\"c\">a &lt; b & c</check>\n</session>";
        let (blocks, _) = find_sessions(src);
        let check = &blocks[0].root.children[0];
        assert_eq!(check.attr_value("command"), Some("grep \"x\" f && echo ok"));
        assert_eq!(check.text, "a < b & c");
    }

    #[test]
    fn unclosed_session_is_an_issue() {
        let (blocks, issues) = find_sessions("<session id=\"A-01\">\n<tasks>\n");
        assert!(blocks.is_empty());
        assert_eq!(issues.len(), 1);
    }

    #[test]
    fn lt_in_command_text_is_text() {
        let src =
            "<session id=\"A-01\"><check name=\"n\">test $(wc -l <file) -lt 3</check></session>";
        let (blocks, _) = find_sessions(src);
        assert_eq!(blocks[0].root.children[0].text, "test $(wc -l <file) -lt 3");
    }

    #[test]
    fn nesting_past_the_limit_is_an_error_not_a_recursion() {
        let n = 20_000;
        let src = format!(
            "<session id=\"A-01\">\n{}x{}\n</session>\n",
            "<a>".repeat(n),
            "</a>".repeat(n)
        );
        let (blocks, issues) = find_sessions(&src);
        assert!(issues.is_empty());
        assert_eq!(blocks[0].errors.len(), 1, "{:?}", blocks[0].errors);
        assert!(blocks[0].errors[0].message.contains("more than 64 levels"));
        let mut depth = 0;
        let mut node = &blocks[0].root;
        while let Some(c) = node.children.first() {
            node = c;
            depth += 1;
        }
        assert_eq!(depth, MAX_DEPTH - 1);
    }

    #[test]
    fn unclosed_tags_are_text_and_scanned_once() {
        let n = 80_000;
        let src = format!("<session id=\"A-01\">\n{}\n</session>\n", "<a>".repeat(n));
        let t = std::time::Instant::now();
        let (blocks, _) = find_sessions(&src);
        assert!(blocks[0].root.children.is_empty());
        assert!(blocks[0].root.text.len() >= 3 * n);
        // Quadratic, this took seconds (9.4 s for 240 KB in a release build).
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
    }

    #[test]
    fn entity_probe_stops_at_a_char_boundary() {
        assert_eq!(decode_entities("&aaaaaaaaaaé;"), "&aaaaaaaaaaé;");
        assert_eq!(decode_entities("&#233;"), "é");
    }

    #[test]
    fn line_and_column() {
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
