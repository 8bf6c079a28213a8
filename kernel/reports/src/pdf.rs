//! Printable documents as PDF (pdf-writer): A4 pages of headings and wrapped
//! paragraphs in the standard Helvetica fonts, which every PDF reader has,
//! so nothing is embedded. Text outside Latin-1 prints as `?`.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;
/// Helvetica's widest common glyphs average under 0.55 em: wrapping on it
/// never runs past the margin.
const EM_PER_CHAR: f32 = 0.55;

/// A block of text of a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading in bold at `size` points.
    Heading(String, f32),
    /// A paragraph at `size` points, wrapped to the page.
    Paragraph(String, f32),
    /// A label and its value on one line ("Issued by: aus").
    Field(String, String),
    /// Vertical space, in points.
    Space(f32),
    /// A horizontal rule.
    Rule,
    /// The rest starts on a new page.
    PageBreak,
}

/// A document: its title (the PDF's metadata) and its blocks in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    /// The title, shown by PDF readers.
    pub title: String,
    /// What is printed.
    pub blocks: Vec<Block>,
    /// Printed at the foot of every page with "page N of M".
    pub footer: Option<String>,
}

/// `text` in WinAnsi (Latin-1 for the letters of Western European names),
/// `?` for what it cannot hold.
fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => c as u8,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{20ac}' => 0x80,
            _ => b'?',
        })
        .collect()
}

/// The lines of `text` at `size` points within the page's width.
fn wrap(text: &str, size: f32) -> Vec<String> {
    let per_line = (((WIDTH - 2.0 * MARGIN) / (size * EM_PER_CHAR)) as usize).max(10);
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// Lays `document` out on A4 pages and writes the PDF.
pub fn render(document: &Document) -> Vec<u8> {
    let regular = Name(b"F1");
    let bold = Name(b"F2");
    let mut pages: Vec<Content> = vec![Content::new()];
    let mut y = HEIGHT - MARGIN;
    let line = |pages: &mut Vec<Content>, y: &mut f32, font: Name, size: f32, text: &[u8]| {
        let leading = size * 1.35;
        if *y - leading < MARGIN {
            pages.push(Content::new());
            *y = HEIGHT - MARGIN;
        }
        *y -= leading;
        let page = pages.last_mut().expect("one page at least");
        page.begin_text();
        page.set_font(font, size);
        page.next_line(MARGIN, *y);
        page.show(Str(text));
        page.end_text();
    };
    for block in &document.blocks {
        match block {
            Block::Heading(text, size) => {
                for l in wrap(text, *size) {
                    line(&mut pages, &mut y, bold, *size, &win_ansi(&l));
                }
                y -= size * 0.4;
            }
            Block::Paragraph(text, size) => {
                for l in wrap(text, *size) {
                    line(&mut pages, &mut y, regular, *size, &win_ansi(&l));
                }
                y -= size * 0.5;
            }
            Block::Field(label, value) => {
                for l in wrap(&format!("{label}: {value}"), 11.0) {
                    line(&mut pages, &mut y, regular, 11.0, &win_ansi(&l));
                }
            }
            Block::Space(points) => y -= points,
            Block::PageBreak => {
                pages.push(Content::new());
                y = HEIGHT - MARGIN;
            }
            Block::Rule => {
                y -= 8.0;
                let page = pages.last_mut().expect("one page at least");
                page.set_line_width(0.8);
                page.move_to(MARGIN, y);
                page.line_to(WIDTH - MARGIN, y);
                page.stroke();
                y -= 8.0;
            }
        }
    }

    if let Some(footer) = &document.footer {
        let total = pages.len();
        for (n, page) in pages.iter_mut().enumerate() {
            page.begin_text();
            page.set_font(regular, 8.0);
            page.next_line(MARGIN, MARGIN / 2.0);
            page.show(Str(&win_ansi(&format!(
                "{footer} · page {} of {total}",
                n + 1
            ))));
            page.end_text();
        }
    }
    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let (regular_font, bold_font, info) = (Ref::new(3), Ref::new(4), Ref::new(5));
    let page_ids: Vec<Ref> = (0..pages.len() as i32)
        .map(|i| Ref::new(6 + 2 * i))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.document_info(info)
        .title(TextStr(&document.title))
        .producer(TextStr("mmsm"));
    pdf.type1_font(regular_font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold_font)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (content, id) in pages.into_iter().zip(&page_ids) {
        let content_id = Ref::new(id.get() + 1);
        let mut page = pdf.page(*id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        resources
            .fonts()
            .pair(regular, regular_font)
            .pair(bold, bold_font);
        resources.finish();
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_and_flows_onto_new_pages() {
        let words = "confidentiality ".repeat(40);
        let lines = wrap(&words, 11.0);
        assert!(lines.len() > 3);
        let per_line = ((WIDTH - 2.0 * MARGIN) / (11.0 * EM_PER_CHAR)) as usize;
        assert!(lines.iter().all(|l| l.chars().count() <= per_line));
        let document = Document {
            title: "Long".into(),
            blocks: vec![Block::Paragraph(words.repeat(10), 11.0)],
            footer: Some("Long".into()),
        };
        let bytes = render(&document);
        assert!(bytes.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&bytes);
        let pages = text.matches("/MediaBox").count();
        assert!(pages >= 2, "{pages} pages");
        let short = render(&Document {
            title: "Short".into(),
            blocks: vec![Block::Paragraph("One line.".into(), 11.0)],
            footer: None,
        });
        assert_eq!(
            String::from_utf8_lossy(&short).matches("/MediaBox").count(),
            1
        );
    }

    #[test]
    fn western_names_keep_their_letters_and_others_become_question_marks() {
        assert_eq!(win_ansi("Peña €"), vec![b'P', b'e', 0xf1, b'a', b' ', 0x80]);
        assert_eq!(win_ansi("東"), b"?");
    }
}
