//! Expressions in the JUEL (Unified EL) subset that Flowable process definitions use:
//! sequence-flow conditions like `${amount > 100}` or `#{approved && !rejected}`, and text
//! attributes like a userTask assignee `${initiator}`, evaluated over process variables.
//!
//! Supported: literals (integers, decimals, `'single'` and `"double"` quoted strings with `\\`,
//! `\'` and `\"` escapes, `true`, `false`, `null`), identifiers (a process variable; a missing
//! one is [`ExprError::UnknownProperty`], as in Flowable), property access `a.b` and `a['b']` on
//! JSON objects, index access `a[0]` on JSON arrays, and the operators with JUEL precedence:
//!
//! 1. `a.b`, `a[b]`
//! 2. unary `!` `not` `-` `empty`
//! 3. `*` `/` `div` `%` `mod`
//! 4. `+` `-`
//! 5. `<` `>` `<=` `>=` `lt` `gt` `le` `ge`
//! 6. `==` `!=` `eq` `ne`
//! 7. `&&` `and` (short-circuit)
//! 8. `||` `or` (short-circuit)
//! 9. `a ? b : c`
//!
//! Coercions follow the EL specification as JUEL implements it: arithmetic and comparisons with
//! a number coerce the other side to a number (a non-numeric string is a type error), `null` in
//! arithmetic counts as 0, `/` always divides as decimals, strings compare lexically, `==` with
//! a boolean coerces the other side to a boolean, and `&&`, `||`, `!` and `?:` coerce their
//! operands to booleans (`null` and any string other than `true` are false, numbers are an
//! error). One leniency over JUEL: a string coerced to a number may hold a decimal even where
//! JUEL would insist on an integer.
//!
//! Method and function calls (`${bean.method()}`, `${variables:get(x)}`) are not supported and
//! fail to parse. Nesting is limited so hostile input cannot overflow the stack.

use std::cmp::Ordering;

use bpm_compat_model::VariableValue;

/// How deeply parentheses, brackets and ternaries may nest (bounds the parser's recursion).
const MAX_NESTING: usize = 64;
/// How deep the syntax tree may grow, counting operator chains (bounds evaluation recursion).
const MAX_TREE_DEPTH: u32 = 256;

/// A parsed `${...}` or `#{...}` expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    root: Node,
}

/// Why an expression could not be parsed or evaluated. `text` is always the whole source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The text is not a well-formed expression.
    #[error("Error parsing '{text}': {message}")]
    Syntax { text: String, message: String },
    /// The expression names a variable (or a property) that is not set.
    #[error("Unknown property used in expression: {text}")]
    UnknownProperty { text: String, name: String },
    /// A value of the wrong type: a non-numeric string in arithmetic, a non-boolean condition,
    /// a binary variable, and the like.
    #[error("Error while evaluating expression: {text}: {message}")]
    Type { text: String, message: String },
}

/// What an expression evaluates to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// An integral number (Java `Long`): integer literals, integer variables, dates as epoch
    /// millis, and integer arithmetic.
    Integer(i64),
    /// A decimal number (Java `Double`): decimal literals, double variables, and any arithmetic
    /// involving one, as well as every `/` division.
    Number(f64),
    /// Text; a JSON object or array also ends up here, rendered as JSON.
    Text(String),
}

/// The variable lookup every evaluation goes through.
type Lookup<'a> = dyn Fn(&str) -> Option<VariableValue> + 'a;

impl Expr {
    /// Parses the wrapped form `${...}` or `#{...}`; whitespace around it is allowed. Text
    /// without the wrapper, or with anything before or after it, is a syntax error.
    pub fn parse(text: &str) -> Result<Expr, ExprError> {
        let source = text.trim();
        let syntax = |message: String| ExprError::Syntax {
            text: source.to_string(),
            message,
        };
        if !(source.starts_with("${") || source.starts_with("#{")) {
            return Err(syntax("expected an expression of the form ${...}".to_string()));
        }
        let close = find_close(source, 2).ok_or_else(|| syntax("missing closing '}'".to_string()))?;
        if close + 1 != source.len() {
            return Err(syntax(format!(
                "unexpected text after '}}' at position {}",
                char_pos(source, close + 1)
            )));
        }
        let inner = source.get(2..close).unwrap_or_default();
        let root = parse_inner(source, inner, 2).map_err(syntax)?;
        Ok(Expr {
            source: source.to_string(),
            root,
        })
    }

    /// The expression's text as parsed, without surrounding whitespace, e.g. `${amount > 100}`.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression, looking variables up by name.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<VariableValue>) -> Result<Value, ExprError> {
        eval(&self.root, lookup)
            .map(Val::into_value)
            .map_err(|fault| fault.into_error(&self.source))
    }

    /// A condition: must evaluate to a boolean (a Text "true"/"false" is coerced like JUEL
    /// does), else [`ExprError::Type`]; `null` is a type error too, as in Flowable.
    pub fn eval_bool(&self, lookup: &dyn Fn(&str) -> Option<VariableValue>) -> Result<bool, ExprError> {
        let message = match self.eval(lookup)? {
            Value::Bool(b) => return Ok(b),
            Value::Text(s) if s.eq_ignore_ascii_case("true") => return Ok(true),
            Value::Text(s) if s.eq_ignore_ascii_case("false") => return Ok(false),
            Value::Null => "condition expression returns null".to_string(),
            other => format!(
                "condition expression returns non-Boolean: {}",
                describe_value(&other)
            ),
        };
        Err(ExprError::Type {
            text: self.source.clone(),
            message,
        })
    }
}

/// Resolves a text attribute that may be an expression (like a userTask assignee `${initiator}`
/// or a literal `kermit`): literal text is returned as is; `${...}` is evaluated and rendered as
/// text (numbers without trailing .0 when integral, booleans as true/false, null as None).
///
/// Text mixing literals and expressions (`order-${id}`) is concatenated like a JUEL composite
/// expression, a null part rendering as the empty string; `\${` stands for a literal `${`.
pub fn resolve_text(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<VariableValue>,
) -> Result<Option<String>, ExprError> {
    let syntax = |message: String| ExprError::Syntax {
        text: text.to_string(),
        message,
    };
    let segments = split_template(text).map_err(syntax)?;
    let mut nodes = Vec::new();
    for segment in &segments {
        if let Segment::Expr { inner, offset } = segment {
            nodes.push(parse_inner(text, inner, *offset).map_err(syntax)?);
        }
    }
    if nodes.is_empty() {
        let literal: String = segments
            .into_iter()
            .map(|s| match s {
                Segment::Lit(s) => s,
                Segment::Expr { .. } => String::new(),
            })
            .collect();
        return Ok(Some(literal));
    }
    let evaluate = |node: &Node| -> Result<Option<String>, ExprError> {
        eval(node, lookup)
            .map(|v| render(v.into_value()))
            .map_err(|fault| fault.into_error(text))
    };
    let only_expression = segments.iter().all(|s| match s {
        Segment::Lit(s) => s.trim().is_empty(),
        Segment::Expr { .. } => true,
    });
    if only_expression && nodes.len() == 1 {
        return match nodes.first() {
            Some(node) => evaluate(node),
            None => Ok(None),
        };
    }
    let mut out = String::new();
    let mut nodes = nodes.iter();
    for segment in &segments {
        match segment {
            Segment::Lit(s) => out.push_str(s),
            Segment::Expr { .. } => {
                if let Some(node) = nodes.next() {
                    if let Some(part) = evaluate(node)? {
                        out.push_str(&part);
                    }
                }
            }
        }
    }
    Ok(Some(out))
}

// ---------------------------------------------------------------------------------------------
// Templates: finding `${...}` in text.

enum Segment<'a> {
    Lit(String),
    /// The text between `${` and `}`, and its byte offset in the whole text.
    Expr {
        inner: &'a str,
        offset: usize,
    },
}

/// Splits text into literal parts and `${...}` / `#{...}` parts.
fn split_template(text: &str) -> Result<Vec<Segment<'_>>, String> {
    let mut segments = Vec::new();
    let mut literal = String::new();
    let mut i = 0;
    while let Some(rest) = text.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        if c == '\\' && (rest.starts_with("\\${") || rest.starts_with("\\#{")) {
            literal.push_str(rest.get(1..3).unwrap_or_default());
            i += 3;
        } else if rest.starts_with("${") || rest.starts_with("#{") {
            if !literal.is_empty() {
                segments.push(Segment::Lit(std::mem::take(&mut literal)));
            }
            let close = find_close(text, i + 2).ok_or_else(|| {
                format!(
                    "missing closing '}}' for the expression at position {}",
                    char_pos(text, i)
                )
            })?;
            segments.push(Segment::Expr {
                inner: text.get(i + 2..close).unwrap_or_default(),
                offset: i + 2,
            });
            i = close + 1;
        } else {
            literal.push(c);
            i += c.len_utf8();
        }
    }
    if !literal.is_empty() {
        segments.push(Segment::Lit(literal));
    }
    Ok(segments)
}

/// The byte index of the `}` closing an expression whose body starts at `from`, skipping
/// string literals and balanced braces.
fn find_close(text: &str, from: usize) -> Option<usize> {
    let body = text.get(from..)?;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    let mut depth = 0usize;
    for (at, c) in body.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => quote = Some(c),
            '{' => depth += 1,
            '}' if depth == 0 => return Some(from + at),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The character position (0-based) of a byte offset, for error messages.
fn char_pos(text: &str, byte: usize) -> usize {
    match text.get(..byte) {
        Some(prefix) => prefix.chars().count(),
        None => byte,
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Int(i64),
    Float(f64),
    Str(String),
    /// An identifier or a keyword.
    Word(String),
    Sym(&'static str),
    End,
}

#[derive(Debug)]
struct Token {
    tok: Tok,
    /// Byte offset in the expression body.
    at: usize,
}

const SYMBOLS: [&str; 22] = [
    "==", "!=", "<=", ">=", "&&", "||", "(", ")", "[", "]", ".", "?", ":", "!", "<", ">", "+", "-", "*", "/",
    "%", ",",
];

const KEYWORDS: [&str; 16] = [
    "true",
    "false",
    "null",
    "and",
    "or",
    "not",
    "eq",
    "ne",
    "lt",
    "gt",
    "le",
    "ge",
    "div",
    "mod",
    "empty",
    "instanceof",
];

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || c == '$'
}

fn is_ident_part(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// Splits an expression body into tokens; errors carry the byte offset of the culprit.
fn lex(src: &str) -> Result<Vec<Token>, (usize, String)> {
    let bytes = src.as_bytes();
    let digit_at = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(rest) = src.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        let at = i;
        if c.is_whitespace() {
            i += c.len_utf8();
        } else if c.is_ascii_digit() || (c == '.' && digit_at(i + 1)) {
            let mut float = false;
            while digit_at(i) {
                i += 1;
            }
            if bytes.get(i) == Some(&b'.') {
                float = true;
                i += 1;
                while digit_at(i) {
                    i += 1;
                }
            }
            if matches!(bytes.get(i), Some(b'e' | b'E')) {
                let mut j = i + 1;
                if matches!(bytes.get(j), Some(b'+' | b'-')) {
                    j += 1;
                }
                if digit_at(j) {
                    while digit_at(j) {
                        j += 1;
                    }
                    i = j;
                    float = true;
                }
            }
            let literal = src.get(at..i).unwrap_or_default();
            let tok = match (float, literal.parse::<i64>()) {
                (false, Ok(n)) => Tok::Int(n),
                _ => match literal.parse::<f64>() {
                    Ok(f) => Tok::Float(f),
                    Err(_) => return Err((at, format!("malformed number '{literal}'"))),
                },
            };
            tokens.push(Token { tok, at });
        } else if c == '\'' || c == '"' {
            let mut text = String::new();
            let mut chars = rest.char_indices().skip(1);
            let mut end = None;
            while let Some((k, ch)) = chars.next() {
                if ch == '\\' {
                    match chars.next() {
                        Some((_, e @ ('\\' | '\'' | '"'))) => text.push(e),
                        Some((_, e)) => return Err((at + k, format!("invalid escape sequence \\{e}"))),
                        None => break,
                    }
                } else if ch == c {
                    end = Some(k + ch.len_utf8());
                    break;
                } else {
                    text.push(ch);
                }
            }
            let Some(len) = end else {
                return Err((at, "unterminated string".to_string()));
            };
            i += len;
            tokens.push(Token {
                tok: Tok::Str(text),
                at,
            });
        } else if is_ident_start(c) {
            let len = rest.find(|ch: char| !is_ident_part(ch)).unwrap_or(rest.len());
            tokens.push(Token {
                tok: Tok::Word(rest.get(..len).unwrap_or_default().to_string()),
                at,
            });
            i += len;
        } else if let Some(sym) = SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            tokens.push(Token {
                tok: Tok::Sym(sym),
                at,
            });
            i += sym.len();
        } else {
            let hint = match c {
                '=' => " (assignment is not supported; use ==)",
                '&' => " (use &&)",
                '|' => " (use ||)",
                _ => "",
            };
            return Err((at, format!("unexpected character '{c}'{hint}")));
        }
    }
    tokens.push(Token {
        tok: Tok::End,
        at: src.len(),
    });
    Ok(tokens)
}

// ---------------------------------------------------------------------------------------------
// Syntax tree and parser.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnOp {
    Not,
    Neg,
    Empty,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Lt,
    Gt,
    Le,
    Ge,
    Eq,
    Ne,
}

#[derive(Debug, Clone, PartialEq)]
struct Node {
    kind: Kind,
    /// Height of the subtree, leaves being 1.
    depth: u32,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Ident(String),
    /// `base[key]`; `base.name` is stored with a text key.
    Member(Box<Node>, Box<Node>),
    Unary(UnOp, Box<Node>),
    Binary(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Choice(Box<Node>, Box<Node>, Box<Node>),
}

impl Kind {
    fn child_depth(&self) -> u32 {
        match self {
            Kind::Null | Kind::Bool(_) | Kind::Int(_) | Kind::Float(_) | Kind::Text(_) | Kind::Ident(_) => 0,
            Kind::Unary(_, a) => a.depth,
            Kind::Member(a, b) | Kind::Binary(_, a, b) | Kind::And(a, b) | Kind::Or(a, b) => {
                a.depth.max(b.depth)
            }
            Kind::Choice(a, b, c) => a.depth.max(b.depth).max(c.depth),
        }
    }
}

/// Parses an expression body (the text between `${` and `}`) found at byte `offset` of `whole`.
fn parse_inner(whole: &str, inner: &str, offset: usize) -> Result<Node, String> {
    let tokens = lex(inner)
        .map_err(|(at, message)| format!("{message} at position {}", char_pos(whole, offset + at)))?;
    let mut parser = Parser {
        whole,
        offset,
        tokens,
        pos: 0,
        nesting: 0,
    };
    let root = parser.expr()?;
    if parser.peek() != &Tok::End {
        return Err(parser.unexpected());
    }
    Ok(root)
}

struct Parser<'a> {
    whole: &'a str,
    offset: usize,
    tokens: Vec<Token>,
    pos: usize,
    nesting: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        self.tokens.get(self.pos).map_or(&Tok::End, |t| &t.tok)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(0, |t| t.at)
    }

    fn advance(&mut self) -> Tok {
        match self.tokens.get_mut(self.pos) {
            Some(t) if t.tok != Tok::End => {
                self.pos += 1;
                std::mem::replace(&mut t.tok, Tok::End)
            }
            _ => Tok::End,
        }
    }

    fn is_sym(&self, sym: &str) -> bool {
        matches!(self.peek(), Tok::Sym(s) if *s == sym)
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self.peek(), Tok::Word(w) if w == word)
    }

    fn error(&self, message: &str) -> String {
        format!(
            "{message} at position {}",
            char_pos(self.whole, self.offset + self.at())
        )
    }

    fn unexpected(&self) -> String {
        let what = match self.peek() {
            Tok::End => return self.error("unexpected end of expression"),
            Tok::Int(n) => n.to_string(),
            Tok::Float(f) => f.to_string(),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Word(w) => w.clone(),
            Tok::Sym(s) => (*s).to_string(),
        };
        self.error(&format!("unexpected '{what}'"))
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), String> {
        if self.is_sym(sym) {
            self.advance();
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn node(&self, kind: Kind) -> Result<Node, String> {
        let depth = kind.child_depth() + 1;
        if depth > MAX_TREE_DEPTH {
            return Err(self.error("expression nested too deeply"));
        }
        Ok(Node { kind, depth })
    }

    /// `or ('?' expr ':' expr)?`
    fn expr(&mut self) -> Result<Node, String> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error("expression nested too deeply"));
        }
        let mut node = self.or()?;
        if self.is_sym("?") {
            self.advance();
            let then = self.expr()?;
            self.expect_sym(":")?;
            let other = self.expr()?;
            node = self.node(Kind::Choice(Box::new(node), Box::new(then), Box::new(other)))?;
        }
        self.nesting -= 1;
        Ok(node)
    }

    fn or(&mut self) -> Result<Node, String> {
        let mut node = self.and()?;
        while self.is_sym("||") || self.is_word("or") {
            self.advance();
            let rhs = self.and()?;
            node = self.node(Kind::Or(Box::new(node), Box::new(rhs)))?;
        }
        Ok(node)
    }

    fn and(&mut self) -> Result<Node, String> {
        let mut node = self.equality()?;
        while self.is_sym("&&") || self.is_word("and") {
            self.advance();
            let rhs = self.equality()?;
            node = self.node(Kind::And(Box::new(node), Box::new(rhs)))?;
        }
        Ok(node)
    }

    fn binary_op(&self, table: &[(&str, &str, BinOp)]) -> Option<BinOp> {
        table
            .iter()
            .find(|(sym, word, _)| self.is_sym(sym) || self.is_word(word))
            .map(|(_, _, op)| *op)
    }

    fn binary_level(
        &mut self,
        table: &[(&str, &str, BinOp)],
        next: fn(&mut Self) -> Result<Node, String>,
    ) -> Result<Node, String> {
        let mut node = next(self)?;
        while let Some(op) = self.binary_op(table) {
            self.advance();
            let rhs = next(self)?;
            node = self.node(Kind::Binary(op, Box::new(node), Box::new(rhs)))?;
        }
        Ok(node)
    }

    fn equality(&mut self) -> Result<Node, String> {
        self.binary_level(
            &[("==", "eq", BinOp::Eq), ("!=", "ne", BinOp::Ne)],
            Self::relational,
        )
    }

    fn relational(&mut self) -> Result<Node, String> {
        self.binary_level(
            &[
                ("<", "lt", BinOp::Lt),
                (">", "gt", BinOp::Gt),
                ("<=", "le", BinOp::Le),
                (">=", "ge", BinOp::Ge),
            ],
            Self::additive,
        )
    }

    fn additive(&mut self) -> Result<Node, String> {
        self.binary_level(
            &[("+", "", BinOp::Add), ("-", "", BinOp::Sub)],
            Self::multiplicative,
        )
    }

    fn multiplicative(&mut self) -> Result<Node, String> {
        self.binary_level(
            &[
                ("*", "", BinOp::Mul),
                ("/", "div", BinOp::Div),
                ("%", "mod", BinOp::Mod),
            ],
            Self::unary,
        )
    }

    /// Prefix operators, collected iteratively so a long run of them cannot recurse deeply.
    fn unary(&mut self) -> Result<Node, String> {
        let mut ops = Vec::new();
        loop {
            let op = if self.is_sym("!") || self.is_word("not") {
                UnOp::Not
            } else if self.is_sym("-") {
                UnOp::Neg
            } else if self.is_word("empty") {
                UnOp::Empty
            } else {
                break;
            };
            ops.push(op);
            self.advance();
        }
        let mut node = self.value()?;
        for op in ops.into_iter().rev() {
            node = self.node(Kind::Unary(op, Box::new(node)))?;
        }
        Ok(node)
    }

    /// A literal, or an identifier or parenthesized expression with `.name` / `[key]` suffixes.
    fn value(&mut self) -> Result<Node, String> {
        let kind = match self.peek() {
            Tok::Int(n) => Kind::Int(*n),
            Tok::Float(f) => Kind::Float(*f),
            Tok::Str(_) => match self.advance() {
                Tok::Str(s) => return self.node(Kind::Text(s)),
                _ => return Err(self.error("internal parser error")),
            },
            Tok::Word(w) => match w.as_str() {
                "true" => Kind::Bool(true),
                "false" => Kind::Bool(false),
                "null" => Kind::Null,
                w if KEYWORDS.contains(&w) => return Err(self.unexpected()),
                w => Kind::Ident(w.to_string()),
            },
            Tok::Sym("(") => {
                self.advance();
                let inner = self.expr()?;
                self.expect_sym(")")?;
                return self.suffixes(inner);
            }
            _ => return Err(self.unexpected()),
        };
        self.advance();
        let node = self.node(kind)?;
        if matches!(node.kind, Kind::Ident(_)) {
            if self.is_sym("(") || (self.is_sym(":") && self.function_call_follows()) {
                return Err(self.error("function calls are not supported"));
            }
            return self.suffixes(node);
        }
        Ok(node)
    }

    /// Whether the tokens after the current `:` look like `name(` of a `prefix:name(` call.
    fn function_call_follows(&self) -> bool {
        let tok = |k: usize| self.tokens.get(self.pos + k).map(|t| &t.tok);
        matches!(tok(1), Some(Tok::Word(_))) && matches!(tok(2), Some(Tok::Sym("(")))
    }

    fn suffixes(&mut self, mut node: Node) -> Result<Node, String> {
        loop {
            if self.is_sym(".") {
                self.advance();
                let Tok::Word(name) = self.peek().clone() else {
                    return Err(self.unexpected());
                };
                self.advance();
                let key = self.node(Kind::Text(name))?;
                node = self.node(Kind::Member(Box::new(node), Box::new(key)))?;
            } else if self.is_sym("[") {
                self.advance();
                let key = self.expr()?;
                self.expect_sym("]")?;
                node = self.node(Kind::Member(Box::new(node), Box::new(key)))?;
            } else if self.is_sym("(") {
                return Err(self.error("method calls are not supported"));
            } else {
                return Ok(node);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Evaluation.

/// A value during evaluation; JSON objects and arrays stay structured so `a.b` can walk them.
#[derive(Debug, Clone, PartialEq)]
enum Val {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Text(String),
    /// A JSON object or array (JSON scalars become the other variants).
    Json(serde_json::Value),
}

impl Val {
    fn into_value(self) -> Value {
        match self {
            Val::Null => Value::Null,
            Val::Bool(b) => Value::Bool(b),
            Val::Int(n) => Value::Integer(n),
            Val::Float(f) => Value::Number(f),
            Val::Text(s) => Value::Text(s),
            Val::Json(j) => Value::Text(j.to_string()),
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Val::Int(_) | Val::Float(_))
    }
}

/// An evaluation failure before the expression text is attached.
enum Fault {
    Unknown(String),
    Type(String),
}

impl Fault {
    fn into_error(self, text: &str) -> ExprError {
        match self {
            Fault::Unknown(name) => ExprError::UnknownProperty {
                text: text.to_string(),
                name,
            },
            Fault::Type(message) => ExprError::Type {
                text: text.to_string(),
                message,
            },
        }
    }
}

fn from_json(value: serde_json::Value) -> Val {
    use serde_json::Value as J;
    match value {
        J::Null => Val::Null,
        J::Bool(b) => Val::Bool(b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => Val::Int(i),
            (None, Some(f)) => Val::Float(f),
            (None, None) => Val::Text(n.to_string()),
        },
        J::String(s) => Val::Text(s),
        j @ (J::Array(_) | J::Object(_)) => Val::Json(j),
    }
}

fn from_variable(name: &str, value: VariableValue) -> Result<Val, Fault> {
    use VariableValue as V;
    Ok(match value {
        V::Null => Val::Null,
        V::String(s) | V::Uuid(s) | V::LocalDate(s) | V::LocalDateTime(s) => Val::Text(s),
        V::Short(n) => Val::Int(i64::from(n)),
        V::Integer(n) => Val::Int(i64::from(n)),
        V::Long(n) => Val::Int(n),
        V::Double(f) => Val::Float(f),
        V::Boolean(b) => Val::Bool(b),
        V::Date(t) | V::Instant(t) => Val::Int(t.0),
        V::BigInteger(s) | V::BigDecimal(s) => match parse_number(&s) {
            Some(Num::I(n)) => Val::Int(n),
            Some(Num::F(f)) => Val::Float(f),
            None => Val::Text(s),
        },
        V::Json(j) => from_json(j),
        v @ (V::Binary(_) | V::Serializable(_)) => {
            return Err(Fault::Type(format!(
                "variable '{name}' of type {} cannot be used in an expression",
                v.type_name()
            )))
        }
    })
}

fn eval(node: &Node, lookup: &Lookup<'_>) -> Result<Val, Fault> {
    Ok(match &node.kind {
        Kind::Null => Val::Null,
        Kind::Bool(b) => Val::Bool(*b),
        Kind::Int(n) => Val::Int(*n),
        Kind::Float(f) => Val::Float(*f),
        Kind::Text(s) => Val::Text(s.clone()),
        Kind::Ident(name) => match lookup(name) {
            Some(value) => from_variable(name, value)?,
            None => return Err(Fault::Unknown(name.clone())),
        },
        Kind::Member(base, key) => {
            let base = eval(base, lookup)?;
            let key = eval(key, lookup)?;
            member(base, key)?
        }
        Kind::Unary(op, operand) => {
            let v = eval(operand, lookup)?;
            match op {
                UnOp::Not => Val::Bool(!to_bool(&v)?),
                UnOp::Empty => Val::Bool(is_empty(&v)),
                UnOp::Neg => match v {
                    Val::Null => Val::Int(0),
                    other => match to_number(&other)? {
                        Num::I(n) => Val::Int(n.wrapping_neg()),
                        Num::F(f) => Val::Float(-f),
                    },
                },
            }
        }
        Kind::Binary(op, a, b) => {
            let a = eval(a, lookup)?;
            let b = eval(b, lookup)?;
            binary(*op, &a, &b)?
        }
        Kind::And(a, b) => Val::Bool(to_bool(&eval(a, lookup)?)? && to_bool(&eval(b, lookup)?)?),
        Kind::Or(a, b) => Val::Bool(to_bool(&eval(a, lookup)?)? || to_bool(&eval(b, lookup)?)?),
        Kind::Choice(cond, then, other) => {
            if to_bool(&eval(cond, lookup)?)? {
                eval(then, lookup)?
            } else {
                eval(other, lookup)?
            }
        }
    })
}

/// `base[key]` / `base.key`: walks JSON objects and arrays; a missing key is null, like
/// Flowable's JSON resolver. Properties of scalars do not exist.
fn member(base: Val, key: Val) -> Result<Val, Fault> {
    use serde_json::Value as J;
    match base {
        Val::Null => Ok(Val::Null),
        Val::Json(J::Object(mut map)) => {
            if key == Val::Null {
                return Ok(Val::Null);
            }
            Ok(map.remove(&to_text(&key)).map_or(Val::Null, from_json))
        }
        Val::Json(J::Array(items)) => {
            let index = match to_number(&key)? {
                Num::I(n) => n,
                Num::F(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
                Num::F(_) => {
                    return Err(Fault::Type(format!(
                        "cannot use {} as a list index",
                        describe(&key)
                    )))
                }
            };
            let item = usize::try_from(index).ok().and_then(|i| items.into_iter().nth(i));
            Ok(item.map_or(Val::Null, from_json))
        }
        _ => Err(Fault::Unknown(to_text(&key))),
    }
}

#[derive(Debug, Clone, Copy)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn float(self) -> f64 {
        match self {
            Num::I(n) => n as f64,
            Num::F(f) => f,
        }
    }
}

/// A numeric string: an integer if it fits, else a decimal. The empty string is 0 (as in EL).
fn parse_number(text: &str) -> Option<Num> {
    let t = text.trim();
    if t.is_empty() {
        return Some(Num::I(0));
    }
    if let Ok(n) = t.parse::<i64>() {
        return Some(Num::I(n));
    }
    let plausible = t.bytes().any(|b| b.is_ascii_digit())
        && t.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    if plausible {
        t.parse::<f64>().ok().map(Num::F)
    } else {
        None
    }
}

fn to_number(v: &Val) -> Result<Num, Fault> {
    match v {
        Val::Null => Ok(Num::I(0)),
        Val::Int(n) => Ok(Num::I(*n)),
        Val::Float(f) => Ok(Num::F(*f)),
        Val::Text(s) => {
            parse_number(s).ok_or_else(|| Fault::Type(format!("cannot coerce {} to a number", describe(v))))
        }
        Val::Bool(_) | Val::Json(_) => Err(Fault::Type(format!("cannot coerce {} to a number", describe(v)))),
    }
}

fn to_bool(v: &Val) -> Result<bool, Fault> {
    match v {
        Val::Null => Ok(false),
        Val::Bool(b) => Ok(*b),
        Val::Text(s) => Ok(s.eq_ignore_ascii_case("true")),
        Val::Int(_) | Val::Float(_) | Val::Json(_) => {
            Err(Fault::Type(format!("cannot coerce {} to a boolean", describe(v))))
        }
    }
}

fn to_text(v: &Val) -> String {
    match v {
        Val::Null => String::new(),
        Val::Bool(b) => b.to_string(),
        Val::Int(n) => n.to_string(),
        Val::Float(f) => render_float(*f),
        Val::Text(s) => s.clone(),
        Val::Json(j) => j.to_string(),
    }
}

fn is_empty(v: &Val) -> bool {
    match v {
        Val::Null => true,
        Val::Text(s) => s.is_empty(),
        Val::Json(serde_json::Value::Array(a)) => a.is_empty(),
        Val::Json(serde_json::Value::Object(o)) => o.is_empty(),
        _ => false,
    }
}

fn binary(op: BinOp, a: &Val, b: &Val) -> Result<Val, Fault> {
    Ok(match op {
        BinOp::Eq => Val::Bool(equal(a, b)?),
        BinOp::Ne => Val::Bool(!equal(a, b)?),
        BinOp::Lt => Val::Bool(compare(a, b)? == Some(Ordering::Less)),
        BinOp::Gt => Val::Bool(compare(a, b)? == Some(Ordering::Greater)),
        BinOp::Le => Val::Bool(matches!(compare(a, b)?, Some(Ordering::Less | Ordering::Equal))),
        BinOp::Ge => Val::Bool(matches!(
            compare(a, b)?,
            Some(Ordering::Greater | Ordering::Equal)
        )),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => arithmetic(op, a, b)?,
    })
}

fn arithmetic(op: BinOp, a: &Val, b: &Val) -> Result<Val, Fault> {
    if *a == Val::Null && *b == Val::Null {
        return Ok(Val::Int(0));
    }
    let (x, y) = (to_number(a)?, to_number(b)?);
    if op == BinOp::Div {
        return Ok(Val::Float(x.float() / y.float()));
    }
    Ok(match (x, y) {
        (Num::I(x), Num::I(y)) => Val::Int(match op {
            BinOp::Add => x.wrapping_add(y),
            BinOp::Sub => x.wrapping_sub(y),
            BinOp::Mul => x.wrapping_mul(y),
            _ if y == 0 => return Err(Fault::Type("division by zero".to_string())),
            _ => x.wrapping_rem(y),
        }),
        (x, y) => {
            let (x, y) = (x.float(), y.float());
            Val::Float(match op {
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
                BinOp::Mul => x * y,
                _ => x % y,
            })
        }
    })
}

fn equal(a: &Val, b: &Val) -> Result<bool, Fault> {
    Ok(match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Null, _) | (_, Val::Null) => false,
        _ if a.is_number() || b.is_number() => match (to_number(a)?, to_number(b)?) {
            (Num::I(x), Num::I(y)) => x == y,
            (x, y) => x.float() == y.float(),
        },
        (Val::Bool(_), _) | (_, Val::Bool(_)) => to_bool(a)? == to_bool(b)?,
        (Val::Text(_), _) | (_, Val::Text(_)) => to_text(a) == to_text(b),
        (x, y) => x == y,
    })
}

/// `None` when the values are unordered (one is null, or a NaN is involved): every relational
/// operator is then false, as in EL.
fn compare(a: &Val, b: &Val) -> Result<Option<Ordering>, Fault> {
    Ok(match (a, b) {
        (Val::Null, Val::Null) => Some(Ordering::Equal),
        (Val::Null, _) | (_, Val::Null) => None,
        _ if a.is_number() || b.is_number() => match (to_number(a)?, to_number(b)?) {
            (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
            (x, y) => x.float().partial_cmp(&y.float()),
        },
        (Val::Text(_), _) | (_, Val::Text(_)) => Some(to_text(a).cmp(&to_text(b))),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        _ => {
            return Err(Fault::Type(format!(
                "cannot compare {} with {}",
                describe(a),
                describe(b)
            )))
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Rendering.

/// A decimal as text: integral values without a trailing `.0`, infinities as Java prints them.
fn render_float(f: f64) -> String {
    if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string()
    } else if f == 0.0 {
        "0".to_string()
    } else {
        f.to_string()
    }
}

fn render(v: Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::Bool(b) => Some(b.to_string()),
        Value::Integer(n) => Some(n.to_string()),
        Value::Number(f) => Some(render_float(f)),
        Value::Text(s) => Some(s),
    }
}

/// A value for an error message, shortened so a large JSON document does not flood the log.
fn describe(v: &Val) -> String {
    let mut out = match v {
        Val::Null => "null".to_string(),
        Val::Text(s) => format!("'{s}'"),
        other => to_text(other),
    };
    if out.chars().count() > 80 {
        out = out.chars().take(77).collect();
        out.push_str("...");
    }
    out
}

fn describe_value(v: &Value) -> String {
    let val = match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Integer(n) => Val::Int(*n),
        Value::Number(f) => Val::Float(*f),
        Value::Text(s) => Val::Text(s.clone()),
    };
    describe(&val)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use bpm_compat_model::{Blob, Timestamp};
    use serde_json::json;

    use super::*;

    fn vars(pairs: &[(&str, VariableValue)]) -> BTreeMap<String, VariableValue> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn eval_with(text: &str, pairs: &[(&str, VariableValue)]) -> Result<Value, ExprError> {
        let map = vars(pairs);
        Expr::parse(text)?.eval(&|name: &str| map.get(name).cloned())
    }

    fn cond(text: &str, pairs: &[(&str, VariableValue)]) -> Result<bool, ExprError> {
        let map = vars(pairs);
        Expr::parse(text)?.eval_bool(&|name: &str| map.get(name).cloned())
    }

    fn resolve(text: &str, pairs: &[(&str, VariableValue)]) -> Result<Option<String>, ExprError> {
        let map = vars(pairs);
        resolve_text(text, &|name: &str| map.get(name).cloned())
    }

    fn no_vars(_: &str) -> Option<VariableValue> {
        None
    }

    fn is_syntax(r: Result<Expr, ExprError>) -> bool {
        matches!(r, Err(ExprError::Syntax { .. }))
    }

    #[test]
    fn amount_threshold() {
        let e = "${amount > 100}";
        assert_eq!(cond(e, &[("amount", VariableValue::Long(150))]), Ok(true));
        assert_eq!(cond(e, &[("amount", VariableValue::Long(50))]), Ok(false));
        assert_eq!(cond(e, &[("amount", VariableValue::Long(100))]), Ok(false));
        assert_eq!(cond(e, &[("amount", VariableValue::Double(100.5))]), Ok(true));
        assert_eq!(cond(e, &[("amount", VariableValue::Double(99.9))]), Ok(false));
        assert_eq!(cond(e, &[("amount", VariableValue::Integer(101))]), Ok(true));
        assert_eq!(cond(e, &[("amount", VariableValue::Short(7))]), Ok(false));
        assert_eq!(
            cond(e, &[("amount", VariableValue::String("150".into()))]),
            Ok(true)
        );
        assert_eq!(
            cond(e, &[("amount", VariableValue::BigDecimal("100.01".into()))]),
            Ok(true)
        );
        assert_eq!(
            cond(e, &[("amount", VariableValue::BigInteger("99".into()))]),
            Ok(false)
        );
        assert_eq!(
            cond("${amount >= 100}", &[("amount", VariableValue::Long(100))]),
            Ok(true)
        );
        assert_eq!(
            cond("${amount <= 100}", &[("amount", VariableValue::Long(100))]),
            Ok(true)
        );
        assert_eq!(
            cond("${amount < 100.5}", &[("amount", VariableValue::Long(100))]),
            Ok(true)
        );
    }

    #[test]
    fn boolean_variables() {
        let yes = [("approved", VariableValue::Boolean(true))];
        let no = [("approved", VariableValue::Boolean(false))];
        assert_eq!(cond("${approved}", &yes), Ok(true));
        assert_eq!(cond("${approved}", &no), Ok(false));
        assert_eq!(cond("${!approved}", &yes), Ok(false));
        assert_eq!(cond("${!approved}", &no), Ok(true));
        assert_eq!(cond("${not approved}", &no), Ok(true));
        assert_eq!(cond("${!!approved}", &yes), Ok(true));
        assert_eq!(cond("${approved == true}", &yes), Ok(true));
        assert_eq!(cond("${approved == 'true'}", &yes), Ok(true));
        assert_eq!(cond("#{approved}", &yes), Ok(true));
        assert_eq!(
            cond("${approved}", &[("approved", VariableValue::Json(json!(true)))]),
            Ok(true)
        );
    }

    #[test]
    fn string_equality() {
        let ok = [("status", VariableValue::String("ok".into()))];
        assert_eq!(cond("${status == 'ok'}", &ok), Ok(true));
        assert_eq!(cond("${status == \"ok\"}", &ok), Ok(true));
        assert_eq!(cond("${status != 'ok'}", &ok), Ok(false));
        assert_eq!(cond("${status == 'nok'}", &ok), Ok(false));
        assert_eq!(cond("${status eq 'ok'}", &ok), Ok(true));
        assert_eq!(cond("${status ne 'ok'}", &ok), Ok(false));
        assert_eq!(
            cond("${x eq \"y\"}", &[("x", VariableValue::String("y".into()))]),
            Ok(true)
        );
        assert_eq!(
            cond("${x eq \"y\"}", &[("x", VariableValue::String("z".into()))]),
            Ok(false)
        );
        assert_eq!(cond("${'ok' == status}", &ok), Ok(true));
    }

    #[test]
    fn logical_precedence_and_short_circuit() {
        let b = |a: bool, b: bool, c: bool| {
            [
                ("a", VariableValue::Boolean(a)),
                ("b", VariableValue::Boolean(b)),
                ("c", VariableValue::Boolean(c)),
            ]
        };
        // `a && b || c` is `(a && b) || c`.
        assert_eq!(cond("${a && b || c}", &b(false, true, true)), Ok(true));
        assert_eq!(cond("${a && b || c}", &b(true, false, false)), Ok(false));
        assert_eq!(cond("${a && b || c}", &b(true, true, false)), Ok(true));
        assert_eq!(cond("${a && (b || c)}", &b(false, true, true)), Ok(false));
        // `a || b && c` is `a || (b && c)`.
        assert_eq!(cond("${a || b && c}", &b(true, false, false)), Ok(true));
        assert_eq!(cond("${c or a and b}", &b(true, false, false)), Ok(false));
        // Short circuit: the missing variable is never looked up.
        assert_eq!(cond("${false && missing}", &[]), Ok(false));
        assert_eq!(cond("${true || missing}", &[]), Ok(true));
        assert_eq!(cond("${true ? true : missing}", &[]), Ok(true));
        assert!(matches!(
            cond("${true && missing}", &[]),
            Err(ExprError::UnknownProperty { .. })
        ));
        // Comparison binds tighter than equality, which binds tighter than &&.
        assert_eq!(cond("${1 < 2 == 2 < 3}", &[]), Ok(true));
        assert_eq!(cond("${1 + 2 * 3 == 7}", &[]), Ok(true));
        assert_eq!(cond("${(1 + 2) * 3 == 9}", &[]), Ok(true));
        assert_eq!(cond("${10 - 4 - 3 == 3}", &[]), Ok(true));
        assert_eq!(cond("${!false && true}", &[]), Ok(true));
    }

    #[test]
    fn missing_variable_is_unknown_property() {
        let err = cond("${missing > 1}", &[]);
        assert_eq!(
            err,
            Err(ExprError::UnknownProperty {
                text: "${missing > 1}".into(),
                name: "missing".into()
            })
        );
        let message = err.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(message, "Unknown property used in expression: ${missing > 1}");
    }

    #[test]
    fn syntax_errors() {
        assert!(is_syntax(Expr::parse("${amount >}")));
        assert!(is_syntax(Expr::parse("amount > 100")));
        assert!(is_syntax(Expr::parse("${amount > 100")));
        assert!(is_syntax(Expr::parse("${}")));
        assert!(is_syntax(Expr::parse("")));
        assert!(is_syntax(Expr::parse("${a} and ${b}")));
        assert!(is_syntax(Expr::parse("x${a}")));
        assert!(is_syntax(Expr::parse("${a = 1}")));
        assert!(is_syntax(Expr::parse("${a & b}")));
        assert!(is_syntax(Expr::parse("${(a}")));
        assert!(is_syntax(Expr::parse("${a)}")));
        assert!(is_syntax(Expr::parse("${a ? b}")));
        assert!(is_syntax(Expr::parse("${'abc}")));
        assert!(is_syntax(Expr::parse("${'a\\x'}")));
        assert!(is_syntax(Expr::parse("${a b}")));
        assert!(is_syntax(Expr::parse("${a.}")));
        assert!(is_syntax(Expr::parse("${a[1}")));
        assert!(is_syntax(Expr::parse("${bean.method()}")));
        assert!(is_syntax(Expr::parse("${fn(1)}")));
        assert!(is_syntax(Expr::parse("${variables:get(x)}")));
        assert!(is_syntax(Expr::parse("${and}")));
        assert!(is_syntax(Expr::parse("${a instanceof b}")));
        assert!(is_syntax(Expr::parse("${1 2}")));
        assert!(is_syntax(Expr::parse("${'x'.length}")));
        let Err(ExprError::Syntax { text, message }) = Expr::parse("  ${amount >}  ") else {
            panic!("expected a syntax error");
        };
        assert_eq!(text, "${amount >}");
        assert!(message.contains("end of expression"), "{message}");
        let Err(err) = Expr::parse("${a # b}") else {
            panic!("expected a syntax error");
        };
        assert!(err.to_string().contains("position 4"), "{err}");
    }

    #[test]
    fn non_boolean_condition_is_type_error() {
        let amount = [("amount", VariableValue::Long(5))];
        assert!(matches!(cond("${amount}", &amount), Err(ExprError::Type { .. })));
        assert!(matches!(cond("${'yes'}", &[]), Err(ExprError::Type { .. })));
        assert!(matches!(cond("${null}", &[]), Err(ExprError::Type { .. })));
        assert_eq!(cond("${'true'}", &[]), Ok(true));
        assert_eq!(cond("${'FALSE'}", &[]), Ok(false));
        assert_eq!(
            cond("${s}", &[("s", VariableValue::String("true".into()))]),
            Ok(true)
        );
        // The value still evaluates fine as a value.
        assert_eq!(eval_with("${amount}", &amount), Ok(Value::Integer(5)));
        let Err(ExprError::Type { text, message }) = cond("${amount}", &amount) else {
            panic!("expected a type error");
        };
        assert_eq!(text, "${amount}");
        assert!(message.contains("non-Boolean"), "{message}");
    }

    #[test]
    fn type_errors() {
        let amount = [("amount", VariableValue::Long(5))];
        assert!(matches!(
            cond("${amount == 'abc'}", &amount),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(
            cond("${amount > 'abc'}", &amount),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(
            eval_with("${'x' + 2}", &[]),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(
            eval_with("${true + 2}", &[]),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(
            cond("${amount && true}", &amount),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(cond("${!amount}", &amount), Err(ExprError::Type { .. })));
        assert!(matches!(cond("${true == 1}", &[]), Err(ExprError::Type { .. })));
        assert!(matches!(eval_with("${7 % 0}", &[]), Err(ExprError::Type { .. })));
        assert!(matches!(
            eval_with("${7 mod 0}", &[]),
            Err(ExprError::Type { .. })
        ));
        let blob = Blob {
            data: vec![1, 2],
            content_type: None,
        };
        assert!(matches!(
            eval_with("${b}", &[("b", VariableValue::Binary(blob.clone()))]),
            Err(ExprError::Type { .. })
        ));
        assert!(matches!(
            cond("${s == null}", &[("s", VariableValue::Serializable(blob))]),
            Err(ExprError::Type { .. })
        ));
    }

    #[test]
    fn arithmetic_and_literals() {
        let a = [("a", VariableValue::Integer(4))];
        assert_eq!(eval_with("${a + 1}", &a), Ok(Value::Integer(5)));
        assert_eq!(eval_with("${a - 10}", &a), Ok(Value::Integer(-6)));
        assert_eq!(eval_with("${a * 2.5}", &a), Ok(Value::Number(10.0)));
        assert_eq!(eval_with("${-a}", &a), Ok(Value::Integer(-4)));
        assert_eq!(eval_with("${- -a}", &a), Ok(Value::Integer(4)));
        assert_eq!(eval_with("${10 / 4}", &[]), Ok(Value::Number(2.5)));
        assert_eq!(eval_with("${10 div 5}", &[]), Ok(Value::Number(2.0)));
        assert_eq!(eval_with("${7 % 3}", &[]), Ok(Value::Integer(1)));
        assert_eq!(eval_with("${7 mod 3}", &[]), Ok(Value::Integer(1)));
        assert_eq!(eval_with("${7.5 % 2}", &[]), Ok(Value::Number(1.5)));
        assert_eq!(eval_with("${'5' + 2}", &[]), Ok(Value::Integer(7)));
        assert_eq!(eval_with("${'1.5' + 1}", &[]), Ok(Value::Number(2.5)));
        assert_eq!(eval_with("${null + null}", &[]), Ok(Value::Integer(0)));
        assert_eq!(eval_with("${null + 3}", &[]), Ok(Value::Integer(3)));
        assert_eq!(eval_with("${.5 + 1e1}", &[]), Ok(Value::Number(10.5)));
        assert_eq!(eval_with("${2E-1}", &[]), Ok(Value::Number(0.2)));
        assert_eq!(eval_with("${'it\\'s'}", &[]), Ok(Value::Text("it's".into())));
        assert_eq!(
            eval_with("${\"a\\\\b\\\"\"}", &[]),
            Ok(Value::Text("a\\b\"".into()))
        );
        assert_eq!(eval_with("${'{}'}", &[]), Ok(Value::Text("{}".into())));
        assert_eq!(eval_with("${null}", &[]), Ok(Value::Null));
        assert_eq!(eval_with("${true}", &[]), Ok(Value::Bool(true)));
        assert_eq!(
            eval_with("${9223372036854775807 + 0}", &[]),
            Ok(Value::Integer(i64::MAX))
        );
        assert_eq!(eval_with("${1 / 0}", &[]), Ok(Value::Number(f64::INFINITY)));
    }

    #[test]
    fn comparisons_and_coercions() {
        let amount = [("amount", VariableValue::Long(150))];
        assert_eq!(cond("${amount == '150'}", &amount), Ok(true));
        assert_eq!(cond("${amount == 150.0}", &amount), Ok(true));
        assert_eq!(cond("${amount gt 100 and amount lt 200}", &amount), Ok(true));
        assert_eq!(cond("${amount ge 150 && amount le 150}", &amount), Ok(true));
        assert_eq!(cond("${'b' > 'a'}", &[]), Ok(true));
        assert_eq!(cond("${'abc' < 'abd'}", &[]), Ok(true));
        assert_eq!(cond("${'10' < '9'}", &[]), Ok(true));
        assert_eq!(cond("${'10' < 9}", &[]), Ok(false));
        assert_eq!(cond("${false < true}", &[]), Ok(true));
        let nothing = [("x", VariableValue::Null)];
        assert_eq!(cond("${x == null}", &nothing), Ok(true));
        assert_eq!(cond("${x != null}", &nothing), Ok(false));
        assert_eq!(cond("${x > 1}", &nothing), Ok(false));
        assert_eq!(cond("${x < 1}", &nothing), Ok(false));
        assert_eq!(cond("${!x}", &nothing), Ok(true));
        assert_eq!(cond("${amount == null}", &amount), Ok(false));
        assert_eq!(cond("${amount != null}", &amount), Ok(true));
        let big = [
            ("a", VariableValue::Long(i64::MAX)),
            ("b", VariableValue::Long(i64::MAX - 1)),
        ];
        assert_eq!(cond("${a == b}", &big), Ok(false));
        assert_eq!(cond("${a > b}", &big), Ok(true));
        let when = [("due", VariableValue::Date(Timestamp(1_700_000_000_000)))];
        assert_eq!(eval_with("${due}", &when), Ok(Value::Integer(1_700_000_000_000)));
        assert_eq!(cond("${due > 1600000000000}", &when), Ok(true));
        let day = [("day", VariableValue::LocalDate("2025-11-24".into()))];
        assert_eq!(cond("${day > '2025-01-01'}", &day), Ok(true));
    }

    #[test]
    fn ternary_and_empty() {
        let amount = [("amount", VariableValue::Long(150))];
        assert_eq!(
            eval_with("${amount > 100 ? 'big' : 'small'}", &amount),
            Ok(Value::Text("big".into()))
        );
        assert_eq!(
            eval_with(
                "${amount > 200 ? 'big' : amount > 100 ? 'medium' : 'small'}",
                &amount
            ),
            Ok(Value::Text("medium".into()))
        );
        let s = |v: &str| [("s", VariableValue::String(v.into()))];
        assert_eq!(cond("${empty s}", &s("")), Ok(true));
        assert_eq!(cond("${empty s}", &s("x")), Ok(false));
        assert_eq!(cond("${not empty s}", &s("x")), Ok(true));
        assert_eq!(cond("${!empty s && s == 'x'}", &s("x")), Ok(true));
        assert_eq!(cond("${empty x}", &[("x", VariableValue::Null)]), Ok(true));
        assert_eq!(
            cond("${empty l}", &[("l", VariableValue::Json(json!([])))]),
            Ok(true)
        );
        assert_eq!(
            cond("${empty l}", &[("l", VariableValue::Json(json!({"a": 1})))]),
            Ok(false)
        );
    }

    #[test]
    fn json_properties() {
        let order = [(
            "order",
            VariableValue::Json(json!({
                "total": 12,
                "price": 2.5,
                "items": ["a", "b"],
                "customer": {"name": "kermit", "vip": true},
                "note": null
            })),
        )];
        assert_eq!(cond("${order.total > 10}", &order), Ok(true));
        assert_eq!(cond("${order.price == 2.5}", &order), Ok(true));
        assert_eq!(cond("${order.customer.vip}", &order), Ok(true));
        assert_eq!(cond("${order.customer.name == 'kermit'}", &order), Ok(true));
        assert_eq!(cond("${order['customer']['name'] == 'kermit'}", &order), Ok(true));
        assert_eq!(
            eval_with("${order.items[1]}", &order),
            Ok(Value::Text("b".into()))
        );
        assert_eq!(eval_with("${order.items[5]}", &order), Ok(Value::Null));
        assert_eq!(
            eval_with("${order.items}", &order),
            Ok(Value::Text("[\"a\",\"b\"]".into()))
        );
        assert_eq!(cond("${order.missing == null}", &order), Ok(true));
        assert_eq!(cond("${order.note == null}", &order), Ok(true));
        assert_eq!(cond("${order.note.deeper == null}", &order), Ok(true));
        assert!(matches!(
            eval_with("${order.total.x}", &order),
            Err(ExprError::UnknownProperty { name, .. }) if name == "x"
        ));
        assert!(matches!(
            eval_with("${order.items['x']}", &order),
            Err(ExprError::Type { .. })
        ));
        assert_eq!(
            eval_with("${n}", &[("n", VariableValue::Json(json!(3)))]),
            Ok(Value::Integer(3))
        );
        assert_eq!(
            eval_with("${n}", &[("n", VariableValue::Json(json!("t")))]),
            Ok(Value::Text("t".into()))
        );
    }

    #[test]
    fn resolve_text_literal_and_expressions() {
        assert_eq!(resolve("kermit", &[]), Ok(Some("kermit".into())));
        assert_eq!(resolve("", &[]), Ok(Some(String::new())));
        let initiator = [("initiator", VariableValue::String("gonzo".into()))];
        assert_eq!(resolve("${initiator}", &initiator), Ok(Some("gonzo".into())));
        assert_eq!(resolve(" ${initiator} ", &initiator), Ok(Some("gonzo".into())));
        assert_eq!(resolve("#{initiator}", &initiator), Ok(Some("gonzo".into())));
        assert_eq!(
            resolve("${n}", &[("n", VariableValue::Long(5))]),
            Ok(Some("5".into()))
        );
        assert_eq!(
            resolve("${n}", &[("n", VariableValue::Double(5.0))]),
            Ok(Some("5".into()))
        );
        assert_eq!(
            resolve("${n}", &[("n", VariableValue::Double(2.5))]),
            Ok(Some("2.5".into()))
        );
        assert_eq!(resolve("${10 / 2}", &[]), Ok(Some("5".into())));
        assert_eq!(
            resolve("${b}", &[("b", VariableValue::Boolean(true))]),
            Ok(Some("true".into()))
        );
        assert_eq!(resolve("${x}", &[("x", VariableValue::Null)]), Ok(None));
        assert_eq!(
            resolve(
                "${amount > 100 ? 'managers' : 'clerks'}",
                &[("amount", VariableValue::Long(5))]
            ),
            Ok(Some("clerks".into()))
        );
        assert_eq!(
            resolve(
                "user-${n}-${x}!",
                &[("n", VariableValue::Long(7)), ("x", VariableValue::Null)]
            ),
            Ok(Some("user-7-!".into()))
        );
        assert_eq!(resolve("cost \\${a}", &[]), Ok(Some("cost ${a}".into())));
        assert_eq!(resolve("price: $5 {x}", &[]), Ok(Some("price: $5 {x}".into())));
        assert_eq!(
            resolve("${missing}", &[]),
            Err(ExprError::UnknownProperty {
                text: "${missing}".into(),
                name: "missing".into()
            })
        );
        assert!(matches!(
            resolve("Hi ${missing}", &[]),
            Err(ExprError::UnknownProperty { text, .. }) if text == "Hi ${missing}"
        ));
        assert!(matches!(resolve("${a >}", &[]), Err(ExprError::Syntax { .. })));
        assert!(matches!(resolve("${a", &[]), Err(ExprError::Syntax { .. })));
    }

    #[test]
    fn source_and_whitespace() {
        let e = Expr::parse("  ${ amount  >  100 }\n").expect("parses");
        assert_eq!(e.source(), "${ amount  >  100 }");
        assert_eq!(e.eval_bool(&|_: &str| Some(VariableValue::Long(101))), Ok(true));
        let e = Expr::parse("${s == '}'}").expect("parses");
        assert_eq!(
            e.eval_bool(&|_: &str| Some(VariableValue::String("}".into()))),
            Ok(true)
        );
        assert_eq!(
            Expr::parse("${a > 1}").expect("parses"),
            Expr::parse(" ${a > 1}").expect("parses")
        );
        let unicode = Expr::parse("${naïve == 'héllo' && größe > 1}").expect("parses");
        let map = vars(&[
            ("naïve", VariableValue::String("héllo".into())),
            ("größe", VariableValue::Integer(2)),
        ]);
        assert_eq!(unicode.eval_bool(&|n: &str| map.get(n).cloned()), Ok(true));
    }

    #[test]
    fn nesting_is_limited_without_overflow() {
        let ok = format!("${{{}1{} == 1}}", "(".repeat(30), ")".repeat(30));
        assert_eq!(Expr::parse(&ok).and_then(|e| e.eval_bool(&no_vars)), Ok(true));
        let deep = format!("${{{}1{}}}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(is_syntax(Expr::parse(&deep)));
        let open = format!("${{{}", "(".repeat(100_000));
        assert!(is_syntax(Expr::parse(&open)));
        let nots = format!("${{{}true}}", "!".repeat(100_000));
        assert!(is_syntax(Expr::parse(&nots)));
        let chain = format!("${{{}1}}", "1 + ".repeat(100_000));
        assert!(is_syntax(Expr::parse(&chain)));
        let brackets = format!("${{a{}}}", "[a".repeat(10_000));
        assert!(is_syntax(Expr::parse(&brackets)));
        let ternary = format!("${{{}1}}", "true ? 1 : ".repeat(10_000));
        assert!(is_syntax(Expr::parse(&ternary)));
        let chain_ok = format!("${{{}1 == 100}}", "1 + ".repeat(99));
        assert_eq!(
            Expr::parse(&chain_ok).and_then(|e| e.eval_bool(&no_vars)),
            Ok(true)
        );
        let too_deep = format!("${{{}1}}", "(".repeat(MAX_NESTING + 1));
        assert!(is_syntax(Expr::parse(&too_deep)));
    }

    #[test]
    fn prefixes_never_panic() {
        let samples = [
            "${amount > 100 && status == 'ok' || !approved}",
            "#{a.b['c'][0] >= -1.5e3 ? \"x\\\"y\" : empty z}",
            "${(a + b) * c / d div e % f mod g - -h}",
            "${x eq 'y' and not (p ne q) or r lt s and t gt u le v ge w}",
            "${naïve == 'héllo' && größe > 1 ? '😀' : null}",
            "user-${n}-\\${lit}-${'}' + 1}",
            "${.5 + 1. + 1e + 2E+3 + 'a\\'b' + \"\\\\\"}",
            "${a[b[c[d]]].e.f(g)}",
            "${x ?: y}",
            "${variables:get(x)}",
        ];
        let map = vars(&[
            ("amount", VariableValue::Long(1)),
            ("a", VariableValue::Json(json!({"b": {"c": [1]}}))),
            ("n", VariableValue::Integer(3)),
            ("status", VariableValue::String("ok".into())),
        ]);
        let lookup = |name: &str| map.get(name).cloned();
        for sample in samples {
            let mut ends: Vec<usize> = sample.char_indices().map(|(i, _)| i).collect();
            ends.push(sample.len());
            for end in ends {
                let prefix = &sample[..end];
                if let Ok(expr) = Expr::parse(prefix) {
                    let _ = expr.eval(&lookup);
                    let _ = expr.eval_bool(&lookup);
                }
                let _ = resolve_text(prefix, &lookup);
                let suffix = &sample[end..];
                let _ = Expr::parse(suffix);
                let _ = resolve_text(suffix, &lookup);
            }
        }
    }

    #[test]
    fn error_messages() {
        let Err(err) = cond("${amount == 'abc'}", &[("amount", VariableValue::Long(1))]) else {
            panic!("expected an error");
        };
        assert_eq!(
            err.to_string(),
            "Error while evaluating expression: ${amount == 'abc'}: cannot coerce 'abc' to a number"
        );
        let Err(err) = Expr::parse("${a >}") else {
            panic!("expected an error");
        };
        assert_eq!(
            err.to_string(),
            "Error parsing '${a >}': unexpected end of expression at position 5"
        );
    }
}
