//! Raw HTML snippets → tokens (html5ever's tokenizer, the one browsers'
//! rules are written for), and the tokens we keep written back as HTML.
use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// One token of a raw HTML snippet. Names are lowercase (the tokenizer's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Start {
        name: String,
        attrs: Vec<(String, String)>,
    },
    End {
        name: String,
    },
    /// Text, character references decoded.
    Text(String),
}

/// Elements whose content the tokenizer must read as raw text up to their
/// closing tag (as a browser does), so that a `<` inside a stylesheet or a
/// script is not taken for a tag.
const RAW_TEXT: [&str; 6] = ["style", "script", "iframe", "noscript", "template", "xmp"];

#[derive(Default)]
struct Sink {
    tokens: RefCell<Vec<Tok>>,
}

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut tokens = self.tokens.borrow_mut();
        match token {
            Token::TagToken(tag) => {
                let name = tag.name.to_string();
                if tag.kind == TagKind::EndTag {
                    tokens.push(Tok::End { name });
                    return TokenSinkResult::Continue;
                }
                let raw = match name.as_str() {
                    "script" => Some(RawKind::ScriptData),
                    "title" | "textarea" => Some(RawKind::Rcdata),
                    n if RAW_TEXT.contains(&n) => Some(RawKind::Rawtext),
                    _ => None,
                };
                let attrs = tag
                    .attrs
                    .into_iter()
                    .map(|a| (a.name.local.to_string(), a.value.to_string()))
                    .collect();
                tokens.push(Tok::Start { name, attrs });
                if let Some(kind) = raw.filter(|_| !tag.self_closing) {
                    return TokenSinkResult::RawData(kind);
                }
            }
            Token::CharacterTokens(text) => match tokens.last_mut() {
                Some(Tok::Text(t)) => t.push_str(&text),
                _ => tokens.push(Tok::Text(text.to_string())),
            },
            // Comments, doctypes, NUL characters and parse errors carry
            // nothing for the email.
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The tokens of `html`.
pub fn tokenize(html: &str) -> Vec<Tok> {
    let tokenizer = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.tokens.take()
}

/// Appends `text` escaped for an HTML text node.
pub fn push_text(text: &str, out: &mut String) {
    html_escape::encode_text_to_string(text, out);
}

/// Appends `<name a="v">`, attribute values escaped.
pub fn push_start(name: &str, attrs: &[(&str, &str)], out: &mut String) {
    out.push('<');
    out.push_str(name);
    for (key, value) in attrs {
        out.push(' ');
        out.push_str(key);
        out.push_str("=\"");
        html_escape::encode_double_quoted_attribute_to_string(value, out);
        out.push('"');
    }
    out.push('>');
}

/// Appends `</name>`.
pub fn push_end(name: &str, out: &mut String) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(name: &str, attrs: &[(&str, &str)]) -> Tok {
        Tok::Start {
            name: name.into(),
            attrs: attrs
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        }
    }

    #[test]
    fn tags_attributes_and_text_are_tokenized_as_a_browser_would() {
        assert_eq!(
            tokenize("<A HREF='x?a=1&amp;b=2' title=t>caf&eacute;</a><br/><!-- c -->"),
            [
                start("a", &[("href", "x?a=1&b=2"), ("title", "t")]),
                Tok::Text("café".into()),
                Tok::End { name: "a".into() },
                start("br", &[]),
            ]
        );
    }

    #[test]
    fn a_style_block_is_one_text_token_whatever_it_holds() {
        assert_eq!(
            tokenize("<style>a{x:y}</b><i></style>z"),
            [
                start("style", &[]),
                Tok::Text("a{x:y}</b><i>".into()),
                Tok::End {
                    name: "style".into()
                },
                Tok::Text("z".into()),
            ]
        );
    }

    #[test]
    fn written_html_escapes_text_and_attribute_values() {
        let mut out = String::new();
        push_start("a", &[("title", "\"<&>")], &mut out);
        push_text("1 < 2 & 3", &mut out);
        push_end("a", &mut out);
        assert_eq!(out, "<a title=\"&quot;&lt;&amp;&gt;\">1 &lt; 2 &amp; 3</a>");
    }
}
