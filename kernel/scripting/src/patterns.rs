//! Lua 5.4's string patterns (`string.find`, `match`, `gmatch`, `gsub`),
//! matched in Rust under the script's time budget.
//!
//! Lua's own matcher is a C function: the instruction hook that enforces the
//! budget never fires inside it, and a backtracking pattern such as
//! `string.rep("a*", 40) .. "b"` against forty `a`s runs for hours
//! (issue 18). This matcher follows `lstrlib.c` step for step (same classes,
//! items, captures, anchors, back-references, `%b`, `%f`, and the same
//! errors) and asks `expired` every [`CHECK_EVERY`] steps, so a call stops
//! at its deadline.

/// How many matching steps run between two looks at the clock.
pub(crate) const CHECK_EVERY: u32 = 4096;
/// Lua's `LUA_MAXCAPTURES`.
const MAX_CAPTURES: usize = 32;
/// Lua's `MAXCCALLS`: how deep the matcher may recurse.
const MAX_DEPTH: usize = 200;
const ESCAPE: u8 = b'%';
const SPECIALS: &[u8] = b"^$*+?.([%-";

/// Why a match could not be completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatternError {
    /// The pattern (or a replacement) is malformed: Lua's message.
    Invalid(String),
    /// The deadline passed.
    OutOfTime,
}

type Result<T> = std::result::Result<T, PatternError>;

fn invalid<T>(message: impl Into<String>) -> Result<T> {
    Err(PatternError::Invalid(message.into()))
}

/// One capture's value: a part of the subject, or a position (`()`), 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Capture {
    Text(usize, usize),
    Position(usize),
}

#[derive(Clone, Copy)]
enum CaptureLen {
    Unfinished,
    Position,
    Closed(usize),
}

struct Matcher<'a> {
    src: &'a [u8],
    pat: &'a [u8],
    depth: usize,
    level: usize,
    captures: [(usize, CaptureLen); MAX_CAPTURES],
    steps: u32,
    expired: &'a dyn Fn() -> bool,
}

impl<'a> Matcher<'a> {
    fn new(src: &'a [u8], pat: &'a [u8], expired: &'a dyn Fn() -> bool) -> Self {
        Matcher {
            src,
            pat,
            depth: 0,
            level: 0,
            captures: [(0, CaptureLen::Unfinished); MAX_CAPTURES],
            steps: 0,
            expired,
        }
    }

    fn reset(&mut self) {
        self.level = 0;
        self.depth = 0;
    }

    fn step(&mut self) -> Result<()> {
        self.steps += 1;
        if self.steps >= CHECK_EVERY {
            self.steps = 0;
            if (self.expired)() {
                return Err(PatternError::OutOfTime);
            }
        }
        Ok(())
    }

    fn pat_at(&self, p: usize) -> Option<u8> {
        self.pat.get(p).copied()
    }

    /// The index just past the single-character class at `p`.
    fn class_end(&self, p: usize) -> Result<usize> {
        let c = self.pat[p];
        let mut p = p + 1;
        if c == ESCAPE {
            if p >= self.pat.len() {
                return invalid("malformed pattern (ends with '%')");
            }
            return Ok(p + 1);
        }
        if c == b'[' {
            if self.pat_at(p) == Some(b'^') {
                p += 1;
            }
            // Look for a ']' (the first character of the set may be one).
            loop {
                if p >= self.pat.len() {
                    return invalid("malformed pattern (missing ']')");
                }
                let cc = self.pat[p];
                p += 1;
                if cc == ESCAPE && p < self.pat.len() {
                    p += 1;
                }
                if self.pat_at(p) == Some(b']') {
                    return Ok(p + 1);
                }
            }
        }
        Ok(p)
    }

    /// Whether `c` is in the bracket set `pat[p..=ec]` (`p` at '[', `ec` at ']').
    fn match_bracket(&self, c: u8, p: usize, ec: usize) -> bool {
        let mut p = p + 1;
        let mut found = true;
        if self.pat[p] == b'^' {
            found = false;
            p += 1;
        }
        while p < ec {
            if self.pat[p] == ESCAPE {
                p += 1;
                if match_class(c, self.pat[p]) {
                    return found;
                }
                p += 1;
            } else if self.pat.get(p + 1) == Some(&b'-') && p + 2 < ec {
                if self.pat[p] <= c && c <= self.pat[p + 2] {
                    return found;
                }
                p += 3;
            } else {
                if self.pat[p] == c {
                    return found;
                }
                p += 1;
            }
        }
        !found
    }

    fn single_match(&self, s: usize, p: usize, ep: usize) -> bool {
        let Some(&c) = self.src.get(s) else {
            return false;
        };
        match self.pat[p] {
            b'.' => true,
            ESCAPE => match_class(c, self.pat[p + 1]),
            b'[' => self.match_bracket(c, p, ep - 1),
            pc => pc == c,
        }
    }

    /// Matches the pattern from `p` against the subject from `s`: the end of
    /// the match, if any.
    fn do_match(&mut self, s: usize, p: usize) -> Result<Option<usize>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return invalid("pattern too complex");
        }
        let result = self.match_here(s, p);
        self.depth -= 1;
        result
    }

    fn match_here(&mut self, mut s: usize, mut p: usize) -> Result<Option<usize>> {
        loop {
            self.step()?;
            let Some(pc) = self.pat_at(p) else {
                return Ok(Some(s));
            };
            match pc {
                b'(' => {
                    return if self.pat_at(p + 1) == Some(b')') {
                        self.start_capture(s, p + 2, CaptureLen::Position)
                    } else {
                        self.start_capture(s, p + 1, CaptureLen::Unfinished)
                    };
                }
                b')' => return self.end_capture(s, p + 1),
                b'$' if p + 1 == self.pat.len() => {
                    return Ok((s == self.src.len()).then_some(s));
                }
                ESCAPE if self.pat_at(p + 1) == Some(b'b') => {
                    match self.match_balance(s, p + 2)? {
                        Some(end) => {
                            s = end;
                            p += 4;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                ESCAPE if self.pat_at(p + 1) == Some(b'f') => {
                    p += 2;
                    if self.pat_at(p) != Some(b'[') {
                        return invalid("missing '[' after '%f' in pattern");
                    }
                    let ep = self.class_end(p)?;
                    let previous = if s == 0 { 0 } else { self.src[s - 1] };
                    let current = self.src.get(s).copied().unwrap_or(0);
                    if !self.match_bracket(previous, p, ep - 1)
                        && self.match_bracket(current, p, ep - 1)
                    {
                        p = ep;
                        continue;
                    }
                    return Ok(None);
                }
                ESCAPE if self.pat_at(p + 1).is_some_and(|c| c.is_ascii_digit()) => {
                    match self.match_capture(s, self.pat[p + 1])? {
                        Some(end) => {
                            s = end;
                            p += 2;
                            continue;
                        }
                        None => return Ok(None),
                    }
                }
                _ => {}
            }
            let ep = self.class_end(p)?;
            let suffix = self.pat_at(ep);
            if !self.single_match(s, p, ep) {
                if matches!(suffix, Some(b'*' | b'?' | b'-')) {
                    // Accept the empty match and go on.
                    p = ep + 1;
                    continue;
                }
                return Ok(None);
            }
            match suffix {
                Some(b'?') => {
                    if let Some(end) = self.do_match(s + 1, ep + 1)? {
                        return Ok(Some(end));
                    }
                    p = ep + 1;
                }
                Some(b'+') => return self.max_expand(s + 1, p, ep),
                Some(b'*') => return self.max_expand(s, p, ep),
                Some(b'-') => return self.min_expand(s, p, ep),
                _ => {
                    s += 1;
                    p = ep;
                }
            }
        }
    }

    fn max_expand(&mut self, s: usize, p: usize, ep: usize) -> Result<Option<usize>> {
        let mut i = 0;
        while self.single_match(s + i, p, ep) {
            self.step()?;
            i += 1;
        }
        // Try with the most repetitions, then one fewer, and so on.
        loop {
            if let Some(end) = self.do_match(s + i, ep + 1)? {
                return Ok(Some(end));
            }
            if i == 0 {
                return Ok(None);
            }
            i -= 1;
        }
    }

    fn min_expand(&mut self, mut s: usize, p: usize, ep: usize) -> Result<Option<usize>> {
        loop {
            if let Some(end) = self.do_match(s, ep + 1)? {
                return Ok(Some(end));
            }
            if self.single_match(s, p, ep) {
                s += 1;
            } else {
                return Ok(None);
            }
        }
    }

    fn start_capture(&mut self, s: usize, p: usize, what: CaptureLen) -> Result<Option<usize>> {
        if self.level >= MAX_CAPTURES {
            return invalid("too many captures");
        }
        self.captures[self.level] = (s, what);
        self.level += 1;
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.level -= 1;
        }
        Ok(result)
    }

    fn end_capture(&mut self, s: usize, p: usize) -> Result<Option<usize>> {
        let l = self.capture_to_close()?;
        let start = self.captures[l].0;
        self.captures[l].1 = CaptureLen::Closed(s - start);
        let result = self.do_match(s, p)?;
        if result.is_none() {
            self.captures[l].1 = CaptureLen::Unfinished;
        }
        Ok(result)
    }

    fn capture_to_close(&self) -> Result<usize> {
        (0..self.level)
            .rev()
            .find(|&l| matches!(self.captures[l].1, CaptureLen::Unfinished))
            .map_or_else(|| invalid("invalid pattern capture"), Ok)
    }

    fn match_balance(&mut self, s: usize, p: usize) -> Result<Option<usize>> {
        if p + 1 >= self.pat.len() {
            return invalid("malformed pattern (missing arguments to '%b')");
        }
        let (open, close) = (self.pat[p], self.pat[p + 1]);
        if self.src.get(s) != Some(&open) {
            return Ok(None);
        }
        let mut depth = 1;
        let mut at = s + 1;
        while at < self.src.len() {
            self.step()?;
            let c = self.src[at];
            if c == close {
                depth -= 1;
                if depth == 0 {
                    return Ok(Some(at + 1));
                }
            } else if c == open {
                depth += 1;
            }
            at += 1;
        }
        Ok(None)
    }

    fn match_capture(&mut self, s: usize, digit: u8) -> Result<Option<usize>> {
        let l = self.check_capture(digit)?;
        // A position capture never matches text (Lua compares its length, -2,
        // as a huge unsigned one).
        let (start, CaptureLen::Closed(len)) = self.captures[l] else {
            return Ok(None);
        };
        let end = s + len;
        if end <= self.src.len() && self.src[start..start + len] == self.src[s..end] {
            Ok(Some(end))
        } else {
            Ok(None)
        }
    }

    fn check_capture(&self, digit: u8) -> Result<usize> {
        let l = (digit - b'1') as usize;
        if digit < b'1' || l >= self.level || matches!(self.captures[l].1, CaptureLen::Unfinished) {
            return invalid(format!(
                "invalid capture index %{}",
                digit.wrapping_sub(b'0')
            ));
        }
        Ok(l)
    }

    /// Capture `i` of the match `s..e` (the whole match when there are none and `i` is 0).
    fn capture(&self, i: usize, s: usize, e: usize) -> Result<Capture> {
        if i >= self.level {
            if i != 0 {
                return invalid(format!("invalid capture index %{}", i + 1));
            }
            return Ok(Capture::Text(s, e));
        }
        match self.captures[i] {
            (start, CaptureLen::Closed(len)) => Ok(Capture::Text(start, start + len)),
            (start, CaptureLen::Position) => Ok(Capture::Position(start + 1)),
            (_, CaptureLen::Unfinished) => invalid("unfinished capture"),
        }
    }

    /// Every capture of the match `s..e` (the whole match when there are none).
    fn captures_of(&self, s: usize, e: usize) -> Result<Vec<Capture>> {
        let n = if self.level == 0 { 1 } else { self.level };
        (0..n).map(|i| self.capture(i, s, e)).collect()
    }
}

fn match_class(c: u8, class: u8) -> bool {
    let matched = match class.to_ascii_lowercase() {
        b'a' => c.is_ascii_alphabetic(),
        b'c' => c.is_ascii_control(),
        b'd' => c.is_ascii_digit(),
        b'g' => c.is_ascii_graphic(),
        b'l' => c.is_ascii_lowercase(),
        b'p' => c.is_ascii_punctuation(),
        b's' => matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c),
        b'u' => c.is_ascii_uppercase(),
        b'w' => c.is_ascii_alphanumeric(),
        b'x' => c.is_ascii_hexdigit(),
        _ => return class == c,
    };
    if class.is_ascii_uppercase() {
        !matched
    } else {
        matched
    }
}

/// Lua's `posrelat` for a start position: 1-based, negative from the end.
pub(crate) fn start_index(init: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let init = if init > 0 {
        init
    } else if init == 0 || init < -len {
        1
    } else {
        len + init + 1
    };
    (init <= len + 1).then_some((init - 1) as usize)
}

/// A successful `find`/`match`: where it is and its captures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) start: usize,
    pub(crate) end: usize,
    /// The pattern's captures; for `match`, the whole match when it has none.
    pub(crate) captures: Vec<Capture>,
    /// Whether the pattern had captures of its own.
    pub(crate) has_captures: bool,
}

/// `string.find` (`find = true`) and `string.match` from byte `init`.
pub(crate) fn find(
    src: &[u8],
    pat: &[u8],
    init: usize,
    plain: bool,
    expired: &dyn Fn() -> bool,
) -> Result<Option<Found>> {
    if plain || !pat.iter().any(|c| SPECIALS.contains(c)) {
        return Ok(find_plain(&src[init..], pat).map(|at| Found {
            start: init + at,
            end: init + at + pat.len(),
            captures: Vec::new(),
            has_captures: false,
        }));
    }
    search(src, pat, init, expired)
}

/// `string.match`: like [`find`] with patterns always.
pub(crate) fn search(
    src: &[u8],
    pat: &[u8],
    init: usize,
    expired: &dyn Fn() -> bool,
) -> Result<Option<Found>> {
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, pat),
    };
    let mut m = Matcher::new(src, pat, expired);
    let mut s = init;
    loop {
        m.reset();
        if let Some(e) = m.do_match(s, 0)? {
            return Ok(Some(Found {
                start: s,
                end: e,
                has_captures: m.level > 0,
                captures: m.captures_of(s, e)?,
            }));
        }
        s += 1;
        if s > src.len() || anchor {
            return Ok(None);
        }
        m.step()?;
    }
}

fn find_plain(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `string.gmatch`'s state: the next position and the end of the last match.
pub(crate) struct GMatch {
    pos: usize,
    last: Option<usize>,
}

impl GMatch {
    pub(crate) fn new(init: usize) -> Self {
        GMatch {
            pos: init,
            last: None,
        }
    }

    /// The next match's captures (the whole match when there are none).
    pub(crate) fn next(
        &mut self,
        src: &[u8],
        pat: &[u8],
        expired: &dyn Fn() -> bool,
    ) -> Result<Option<Vec<Capture>>> {
        let mut m = Matcher::new(src, pat, expired);
        let mut s = self.pos;
        while s <= src.len() {
            m.reset();
            if let Some(e) = m.do_match(s, 0)? {
                if Some(e) != self.last {
                    self.pos = e;
                    self.last = Some(e);
                    return m.captures_of(s, e).map(Some);
                }
            }
            s += 1;
            m.step()?;
        }
        self.pos = s;
        Ok(None)
    }
}

/// A table or function replacement of `gsub`: the match's captures in, the
/// replacement out (`None` keeps the match), or Lua's error.
pub(crate) type Lookup<'a> =
    &'a mut dyn FnMut(&[Capture]) -> std::result::Result<Option<Vec<u8>>, String>;

/// What replaces each match in `gsub`.
pub(crate) enum Replacement<'a> {
    /// A string with `%0`-`%9` and `%%`.
    Text(&'a [u8]),
    /// A table (asked with the first capture) or a function (called with
    /// every capture); `None` keeps the match.
    Lookup(Lookup<'a>),
}

/// `string.gsub`: the result and the number of matches replaced (at most `max`).
pub(crate) fn gsub(
    src: &[u8],
    pat: &[u8],
    mut replacement: Replacement<'_>,
    max: Option<usize>,
    expired: &dyn Fn() -> bool,
) -> std::result::Result<(Vec<u8>, usize), GsubError> {
    let (anchor, pat) = match pat.first() {
        Some(b'^') => (true, &pat[1..]),
        _ => (false, pat),
    };
    let max = max.unwrap_or(usize::MAX);
    let mut m = Matcher::new(src, pat, expired);
    let mut out = Vec::with_capacity(src.len());
    let mut s = 0;
    let mut last = None;
    let mut n = 0;
    while n < max {
        m.reset();
        let end = m.do_match(s, 0)?;
        match end {
            Some(e) if Some(e) != last => {
                n += 1;
                let whole = &src[s..e];
                match &mut replacement {
                    Replacement::Text(text) => add_text(&m, &mut out, text, s, e)?,
                    Replacement::Lookup(lookup) => {
                        let captures = m.captures_of(s, e)?;
                        match lookup(&captures).map_err(GsubError::Lua)? {
                            Some(value) => out.extend_from_slice(&value),
                            None => out.extend_from_slice(whole),
                        }
                    }
                }
                s = e;
                last = Some(e);
            }
            _ if s < src.len() => {
                out.push(src[s]);
                s += 1;
            }
            _ => break,
        }
        if anchor {
            break;
        }
        m.step()?;
    }
    out.extend_from_slice(&src[s.min(src.len())..]);
    Ok((out, n))
}

fn add_text(m: &Matcher<'_>, out: &mut Vec<u8>, text: &[u8], s: usize, e: usize) -> Result<()> {
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        i += 1;
        if c != ESCAPE {
            out.push(c);
            continue;
        }
        let Some(&d) = text.get(i) else {
            return invalid("invalid use of '%' in replacement string");
        };
        i += 1;
        if d == ESCAPE {
            out.push(ESCAPE);
        } else if d.is_ascii_digit() {
            let capture = if d == b'0' {
                Capture::Text(s, e)
            } else {
                m.capture((d - b'1') as usize, s, e)?
            };
            match capture {
                Capture::Text(a, b) => out.extend_from_slice(&m.src[a..b]),
                Capture::Position(p) => out.extend_from_slice(p.to_string().as_bytes()),
            }
        } else {
            return invalid("invalid use of '%' in replacement string");
        }
    }
    Ok(())
}

/// Why `gsub` failed: the pattern, the deadline, or a Lua replacement.
#[derive(Debug)]
pub(crate) enum GsubError {
    Pattern(PatternError),
    Lua(String),
}

impl From<PatternError> for GsubError {
    fn from(e: PatternError) -> Self {
        GsubError::Pattern(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never() -> bool {
        false
    }

    fn texts(src: &str, found: &Found) -> Vec<String> {
        found
            .captures
            .iter()
            .map(|c| match c {
                Capture::Text(a, b) => src[*a..*b].to_owned(),
                Capture::Position(p) => format!("@{p}"),
            })
            .collect()
    }

    fn matched(src: &str, pat: &str) -> Option<Vec<String>> {
        search(src.as_bytes(), pat.as_bytes(), 0, &never)
            .unwrap()
            .map(|f| texts(src, &f))
    }

    #[test]
    fn matches_as_lua_does() {
        assert_eq!(matched("hello world", "o w"), Some(vec!["o w".into()]));
        assert_eq!(
            matched("key = value", "(%w+)%s*=%s*(%w+)"),
            Some(vec!["key".into(), "value".into()])
        );
        assert_eq!(matched("  x", "^%s*()"), Some(vec!["@3".into()]));
        assert_eq!(matched("f(a(b)c)d", "%b()"), Some(vec!["(a(b)c)".into()]));
        assert_eq!(
            matched("THE (quick) fox", "%f[%a]%a+"),
            Some(vec!["THE".into()])
        );
        assert_eq!(matched("abcabc", "(abc)%1"), Some(vec!["abc".into()]));
        assert_eq!(
            matched("2026-12-04", "^(%d+)-(%d%d)-(%d%d)$"),
            Some(vec!["2026".into(), "12".into(), "04".into()])
        );
        assert_eq!(matched("aaa", "a-b"), None);
        assert_eq!(matched("<a><b>", "<(.-)>"), Some(vec!["a".into()]));
        assert_eq!(matched("<a><b>", "<(.*)>"), Some(vec!["a><b".into()]));
        assert_eq!(matched("x]", "[]]"), Some(vec!["]".into()]));
        assert_eq!(matched("a-b", "[%a-]+"), Some(vec!["a-b".into()]));
        assert_eq!(matched("Q9", "[^%d]"), Some(vec!["Q".into()]));
        assert_eq!(matched("abc", "$"), Some(vec!["".into()]));
        assert_eq!(matched("ab", "^b"), None);
        assert_eq!(matched("colour", "colou?r"), Some(vec!["colour".into()]));
    }

    #[test]
    fn malformed_patterns_fail_with_luas_words() {
        for (pat, message) in [
            ("%", "malformed pattern (ends with '%')"),
            ("[a", "malformed pattern (missing ']')"),
            ("(a", "unfinished capture"),
            ("a)", "invalid pattern capture"),
            ("%1", "invalid capture index %1"),
            ("%fa", "missing '[' after '%f' in pattern"),
        ] {
            assert_eq!(
                search(b"abc", pat.as_bytes(), 0, &never),
                Err(PatternError::Invalid(message.into())),
                "{pat}"
            );
        }
    }

    #[test]
    fn find_is_plain_without_specials_and_from_init() {
        let found = find(b"a.b.c", b".", 2, true, &never).unwrap().unwrap();
        assert_eq!((found.start, found.end), (3, 4));
        assert_eq!(start_index(-2, 5), Some(3));
        assert_eq!(start_index(0, 5), Some(0));
        assert_eq!(start_index(7, 5), None);
        assert_eq!(start_index(6, 5), Some(5));
    }

    #[test]
    fn gmatch_and_gsub_follow_lua_on_empty_matches() {
        let src = b"one two  three";
        let mut g = GMatch::new(0);
        let mut words = Vec::new();
        while let Some(c) = g.next(src, b"%a+", &never).unwrap() {
            let Capture::Text(a, b) = c[0] else { panic!() };
            words.push(String::from_utf8(src[a..b].to_vec()).unwrap());
        }
        assert_eq!(words, ["one", "two", "three"]);
        // Lua 5.4: gsub("abc", "%w*", "-") == "-", 1... and ("hello world", "o*", "x").
        let (out, n) = gsub(b"abc", b"%w*", Replacement::Text(b"-"), None, &never).unwrap();
        assert_eq!((out.as_slice(), n), (&b"-"[..], 1));
        let (out, n) = gsub(b"hello", b"l*", Replacement::Text(b"x"), None, &never).unwrap();
        assert_eq!(
            (String::from_utf8(out).unwrap(), n),
            ("xhxexox".to_owned(), 4)
        );
        let (out, n) = gsub(
            b"a=1, b=2",
            b"(%w+)=(%w+)",
            Replacement::Text(b"%2=%1 %%"),
            Some(1),
            &never,
        )
        .unwrap();
        assert_eq!(
            (String::from_utf8(out).unwrap(), n),
            ("1=a %, b=2".to_owned(), 1)
        );
    }

    #[test]
    fn a_backtracking_bomb_stops_when_the_clock_says_so() {
        let subject = "a".repeat(40);
        let pattern = "a*".repeat(40) + "b";
        let started = std::time::Instant::now();
        let expired = || started.elapsed() > std::time::Duration::from_millis(100);
        let result = search(subject.as_bytes(), pattern.as_bytes(), 0, &expired);
        assert_eq!(result, Err(PatternError::OutOfTime));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
