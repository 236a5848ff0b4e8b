use super::*;
use std::time::Instant;

fn t(s: &str) -> Inline {
    Inline::Text(s.into())
}

fn para(inl: Vec<Inline>) -> Vec<Block> {
    vec![Block::Para(inl)]
}

#[test]
fn text_without_markup_is_one_paragraph_as_it_is() {
    let text = "hello there\n\nsecond line with 2 * 3 = 6 and a_b";
    assert_eq!(parse(text), para(vec![t(text)]));
    assert!(is_plain(&parse(text)));
    assert_eq!(plain(text), text);
}

#[test]
fn bare_links_are_links_as_before() {
    let blocks = parse("see https://example.com/a_b_c*, ok");
    assert_eq!(
        blocks,
        para(vec![
            t("see "),
            Inline::Link {
                text: "https://example.com/a_b_c".into(),
                url: "https://example.com/a_b_c".into()
            },
            t("*, ok"),
        ])
    );
    assert!(is_plain(&blocks));
}

#[test]
fn emphasis_strike_and_code() {
    assert_eq!(
        parse("**bold** *it* _it2_ ~~gone~~ `x`"),
        para(vec![
            Inline::Strong(vec![t("bold")]),
            t(" "),
            Inline::Em(vec![t("it")]),
            t(" "),
            Inline::Em(vec![t("it2")]),
            t(" "),
            Inline::Strike(vec![t("gone")]),
            t(" "),
            Inline::Code("x".into()),
        ])
    );
    assert!(!is_plain(&parse("**bold**")));
}

#[test]
fn emphasis_nests() {
    assert_eq!(
        parse("**bold *and it***"),
        para(vec![Inline::Strong(vec![
            t("bold "),
            Inline::Em(vec![t("and it")])
        ])])
    );
}

#[test]
fn unclosed_markers_stay_literal() {
    for s in [
        "**bold",
        "*it",
        "_x",
        "~~y",
        "`code",
        "a ** b",
        "* not a list*",
        "[a](b",
        "[x](javascript:alert(1))",
    ] {
        let blocks = parse(s);
        assert!(is_plain(&blocks) || s.starts_with("* "), "{s}: {blocks:?}");
        if !s.starts_with("* ") {
            assert_eq!(plain(s), s);
        }
    }
}

#[test]
fn markers_inside_words_stay_literal() {
    assert_eq!(parse("2*3*4"), para(vec![t("2*3*4")]));
    assert_eq!(parse("snake_case_name"), para(vec![t("snake_case_name")]));
    assert_eq!(parse("a**b**c"), para(vec![t("a**b**c")]));
    assert_eq!(parse("* spaced *"), parse("* spaced *"));
    assert_eq!(parse("x * y * z"), para(vec![t("x * y * z")]));
}

#[test]
fn code_spans_hold_markers_literally() {
    assert_eq!(
        parse("`**not bold** <b>`"),
        para(vec![Inline::Code("**not bold** <b>".into())])
    );
    assert_eq!(parse("``a ` b``"), para(vec![Inline::Code("a ` b".into())]));
    // A code span inside emphasis keeps the closer it holds as text.
    assert_eq!(
        parse("*a `*` b*"),
        para(vec![Inline::Em(vec![
            t("a "),
            Inline::Code("*".into()),
            t(" b")
        ])])
    );
}

#[test]
fn html_stays_text() {
    let s = "<script>alert(1)</script> <img src=x onerror=alert(1)>";
    assert_eq!(parse(s), para(vec![t(s)]));
}

#[test]
fn links_with_text_allow_only_safe_schemes() {
    assert_eq!(
        parse("[docs](https://example.com/x) [m](mailto:a@b.c)"),
        para(vec![
            Inline::Link {
                text: "docs".into(),
                url: "https://example.com/x".into()
            },
            t(" "),
            Inline::Link {
                text: "m".into(),
                url: "mailto:a@b.c".into()
            },
        ])
    );
    for bad in [
        "[x](javascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](ftp://a)",
        "[x](https://)",
        "[x](https://a b)",
    ] {
        assert!(
            !parse(bad)
                .iter()
                .any(|b| matches!(b, Block::Para(i) if i.iter().any(|i| matches!(i, Inline::Link { text, .. } if text == "x")))),
            "{bad}"
        );
    }
    assert_eq!(plain("[docs](https://e.com)"), "docs (https://e.com)");
}

#[test]
fn fenced_code_blocks_keep_their_text_and_language() {
    let s = "look:\n```rust\nlet x = **y**;\n<b>\n```\nafter";
    assert_eq!(
        parse(s),
        vec![
            Block::Para(vec![t("look:")]),
            Block::Code {
                lang: "rust".into(),
                code: "let x = **y**;\n<b>".into()
            },
            Block::Para(vec![t("after")]),
        ]
    );
    assert_eq!(plain(s), s);
    // No closing fence: text.
    assert_eq!(parse("```\nopen"), para(vec![t("```\nopen")]));
}

#[test]
fn quotes_and_lists() {
    assert_eq!(
        parse("> quoted **b**\n> more\nafter"),
        vec![
            Block::Quote(vec![Block::Para(vec![
                t("quoted "),
                Inline::Strong(vec![t("b")]),
                t("\nmore")
            ])]),
            Block::Para(vec![t("after")]),
        ]
    );
    assert_eq!(
        parse("- one\n- two\n  - nested"),
        vec![Block::List {
            start: None,
            items: vec![
                vec![Block::Para(vec![t("one")])],
                vec![
                    Block::Para(vec![t("two")]),
                    Block::List {
                        start: None,
                        items: vec![vec![Block::Para(vec![t("nested")])]]
                    }
                ],
            ]
        }]
    );
    assert_eq!(
        parse("3. three\n4. four"),
        vec![Block::List {
            start: Some(3),
            items: vec![
                vec![Block::Para(vec![t("three")])],
                vec![Block::Para(vec![t("four")])]
            ]
        }]
    );
    assert_eq!(plain("* a\n* b"), "- a\n- b");
    assert_eq!(plain("> a\n> b"), "> a\n> b");
}

fn depth(blocks: &[Block]) -> usize {
    blocks
        .iter()
        .map(|b| match b {
            Block::Quote(inner) => 1 + depth(inner),
            Block::List { items, .. } => 1 + items.iter().map(|i| depth(i)).max().unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn nesting_is_bounded() {
    let deep_quote = ">".repeat(1000) + " x";
    assert!(depth(&parse(&deep_quote)) <= MAX_DEPTH);
    let deep_list: String = (0..200)
        .map(|n| format!("{}- item\n", "  ".repeat(n)))
        .collect();
    assert!(depth(&parse(&deep_list)) <= MAX_DEPTH);
    let deep_em = "*_".repeat(500) + "x" + &"_*".repeat(500);
    let blocks = parse(&deep_em);
    fn em_depth(inl: &[Inline]) -> usize {
        inl.iter()
            .map(|i| match i {
                Inline::Em(c) | Inline::Strong(c) | Inline::Strike(c) => 1 + em_depth(c),
                _ => 0,
            })
            .max()
            .unwrap_or(0)
    }
    let Block::Para(inl) = &blocks[0] else {
        panic!("{blocks:?}")
    };
    assert!(em_depth(inl) <= MAX_DEPTH);
}

#[test]
fn hostile_input_parses_in_linear_time() {
    let limit = crate::protocol::MAX_MESSAGE_BYTES;
    let inputs = [
        "**a ".repeat(limit / 4),
        "*".repeat(limit),
        "_a".repeat(limit / 2),
        "`".repeat(limit),
        (1..200).map(|n| "`".repeat(n) + "x").collect::<String>(),
        "[a](".repeat(limit / 4),
        "> ".repeat(limit / 2),
        "- ".repeat(limit / 2),
        "~~x ".repeat(limit / 4),
        "*a _b ~~c `d ".repeat(limit / 13),
        "https://a.b/".repeat(limit / 12),
    ];
    for input in inputs {
        let start = Instant::now();
        let blocks = parse(&input);
        let _ = plain(&input);
        let took = start.elapsed();
        assert!(
            took.as_millis() < 1000,
            "{}… took {took:?}",
            &input[..20.min(input.len())]
        );
        assert!(!blocks.is_empty());
    }
}

#[test]
fn mentions_and_emoji_pass_through() {
    let s = "@alice 🎉 thanks, @bob_smith!";
    assert_eq!(parse(s), para(vec![t(s)]));
}

#[test]
fn first_line_and_dialect_text() {
    assert_eq!(
        first_line("\n```rust\n**fix** the boiler\nmore"),
        "fix the boiler"
    );
    let quote = ReplyQuote::of(3, "alice", "**Boiler** is broken\nsecond");
    assert_eq!(quote.excerpt, "Boiler is broken");
    assert_eq!(
        dialect_text("on *it*", Some(&quote)),
        "> alice: Boiler is broken\non it"
    );
    assert_eq!(
        dialect_text("ok", Some(&ReplyQuote::gone(3, "alice"))),
        "> (deleted message)\nok"
    );
    let long = "x".repeat(500);
    let q = ReplyQuote::of(1, "a", &long);
    assert_eq!(
        q.excerpt.chars().count(),
        crate::protocol::MAX_EXCERPT_CHARS
    );
    assert!(q.excerpt.ends_with('…'));
}
