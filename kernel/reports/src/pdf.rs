//! Printable documents as PDF: A4 pages of headings and wrapped paragraphs,
//! with krilla and the DejaVu Sans fonts embedded in the binary (subset into
//! each PDF by krilla), so accents, the euro sign and most Latin, Greek and
//! Cyrillic text print as written. Lines are broken on the fonts' own advance
//! widths (ttf-parser).
//!
//! Choice (issue 14): krilla over printpdf (a larger tree), genpdf (not
//! maintained since 2021) and typst (a typesetting system, far larger); the
//! DejaVu licence (Bitstream Vera) allows embedding and redistribution.

use std::sync::{Arc, LazyLock};

use krilla::geom::{PathBuilder, Point};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::paint::Stroke;
use krilla::text::{Font, TextDirection};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 64.0;

static REGULAR_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
static BOLD_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

/// The two faces, parsed once per process.
struct Faces {
    regular: Font,
    bold: Font,
}

static FACES: LazyLock<Faces> = LazyLock::new(|| Faces {
    regular: Font::new(Arc::new(REGULAR_DATA.to_vec()).into(), 0).expect("DejaVu Sans is a font"),
    bold: Font::new(Arc::new(BOLD_DATA.to_vec()).into(), 0).expect("DejaVu Sans Bold is a font"),
});

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
    /// Printed at the head of every page but the first (which has its cover).
    pub header: Option<String>,
}

/// The width of `text` at `size` points in the face `data`.
fn text_width(data: &[u8], text: &str, size: f32) -> f32 {
    let Ok(face) = ttf_parser::Face::parse(data, 0) else {
        return text.chars().count() as f32 * size * 0.6;
    };
    let per_unit = size / f32::from(face.units_per_em());
    text.chars()
        .map(|c| {
            face.glyph_index(c)
                .and_then(|g| face.glyph_hor_advance(g))
                .map_or(size * 0.6, |a| f32::from(a) * per_unit)
        })
        .sum()
}

/// The lines of `text` at `size` points that fit between the margins.
fn wrap(data: &[u8], text: &str, size: f32) -> Vec<String> {
    let room = WIDTH - 2.0 * MARGIN;
    let mut lines = Vec::new();
    for paragraph in text.lines() {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_owned()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && text_width(data, &candidate, size) > room {
                lines.push(std::mem::replace(&mut line, word.to_owned()));
            } else {
                line = candidate;
            }
        }
        lines.push(line);
    }
    lines
}

/// What is drawn on a page, laid out before the PDF is written.
enum Mark {
    Text {
        bold: bool,
        size: f32,
        y: f32,
        text: String,
    },
    Rule {
        y: f32,
    },
}

/// Lays `document` out on A4 pages.
fn layout(document: &Document) -> Vec<Vec<Mark>> {
    let mut pages: Vec<Vec<Mark>> = vec![Vec::new()];
    let mut y = MARGIN;
    let line = |pages: &mut Vec<Vec<Mark>>, y: &mut f32, bold: bool, size: f32, text: String| {
        let leading = size * 1.4;
        if *y + leading > HEIGHT - MARGIN {
            pages.push(Vec::new());
            *y = MARGIN;
        }
        *y += leading;
        pages
            .last_mut()
            .expect("one page at least")
            .push(Mark::Text {
                bold,
                size,
                y: *y,
                text,
            });
    };
    for block in &document.blocks {
        match block {
            Block::Heading(text, size) => {
                for l in wrap(BOLD_DATA, text, *size) {
                    line(&mut pages, &mut y, true, *size, l);
                }
                y += size * 0.4;
            }
            Block::Paragraph(text, size) => {
                for l in wrap(REGULAR_DATA, text, *size) {
                    line(&mut pages, &mut y, false, *size, l);
                }
                y += size * 0.5;
            }
            Block::Field(label, value) => {
                for l in wrap(REGULAR_DATA, &format!("{label}: {value}"), 10.5) {
                    line(&mut pages, &mut y, false, 10.5, l);
                }
            }
            Block::Space(points) => y += points,
            Block::PageBreak => {
                pages.push(Vec::new());
                y = MARGIN;
            }
            Block::Rule => {
                y += 8.0;
                pages
                    .last_mut()
                    .expect("one page at least")
                    .push(Mark::Rule { y });
                y += 8.0;
            }
        }
    }
    pages
}

/// Lays `document` out on A4 pages and writes the PDF.
pub fn render(document: &Document) -> Vec<u8> {
    let pages = layout(document);
    let total = pages.len();
    let mut pdf = krilla::Document::new();
    pdf.set_metadata(
        Metadata::new()
            .title(document.title.clone())
            .producer("mmsm".into()),
    );
    for (n, marks) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(WIDTH, HEIGHT).expect("A4 is a page size");
        let mut page = pdf.start_page_with(settings);
        let mut surface = page.surface();
        for mark in marks {
            match mark {
                Mark::Text {
                    bold,
                    size,
                    y,
                    text,
                } => {
                    let font = if bold {
                        FACES.bold.clone()
                    } else {
                        FACES.regular.clone()
                    };
                    surface.draw_text(
                        Point::from_xy(MARGIN, y),
                        font,
                        size,
                        &text,
                        false,
                        TextDirection::Auto,
                    );
                }
                Mark::Rule { y } => {
                    let mut path = PathBuilder::new();
                    path.move_to(MARGIN, y);
                    path.line_to(WIDTH - MARGIN, y);
                    if let Some(path) = path.finish() {
                        surface.set_fill(None);
                        surface.set_stroke(Some(Stroke {
                            width: 0.8,
                            ..Stroke::default()
                        }));
                        surface.draw_path(&path);
                        surface.set_stroke(None);
                        surface.set_fill(Some(krilla::paint::Fill::default()));
                    }
                }
            }
        }
        if let Some(header) = document.header.as_ref().filter(|_| n > 0) {
            surface.draw_text(
                Point::from_xy(MARGIN, MARGIN / 2.0),
                FACES.regular.clone(),
                8.0,
                header,
                false,
                TextDirection::Auto,
            );
        }
        if let Some(footer) = &document.footer {
            surface.draw_text(
                Point::from_xy(MARGIN, HEIGHT - MARGIN / 2.0),
                FACES.regular.clone(),
                8.0,
                &format!("{footer} · page {} of {total}", n + 1),
                false,
                TextDirection::Auto,
            );
        }
        surface.finish();
        page.finish();
    }
    pdf.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_wraps_within_the_margins_and_flows_onto_new_pages() {
        let words = "confidentiality ".repeat(40);
        let lines = wrap(REGULAR_DATA, &words, 11.0);
        assert!(lines.len() > 3);
        assert!(lines
            .iter()
            .all(|l| text_width(REGULAR_DATA, l, 11.0) <= WIDTH - 2.0 * MARGIN));
        let long = layout(&Document {
            title: "Long".into(),
            blocks: vec![Block::Paragraph(words.repeat(10), 11.0)],
            footer: Some("Long".into()),
            header: Some("Long".into()),
        });
        assert!(long.len() >= 2, "{} pages", long.len());
        let bytes = render(&Document {
            title: "Short".into(),
            blocks: vec![Block::Paragraph("One line, 100 €, Peña.".into(), 11.0)],
            footer: None,
            header: None,
        });
        assert!(bytes.starts_with(b"%PDF-"));
    }

    #[test]
    fn a_page_break_starts_a_new_page() {
        let pages = layout(&Document {
            title: "Two".into(),
            blocks: vec![
                Block::Paragraph("one".into(), 11.0),
                Block::PageBreak,
                Block::Paragraph("two".into(), 11.0),
            ],
            footer: None,
            header: None,
        });
        assert_eq!(pages.len(), 2);
    }
}
