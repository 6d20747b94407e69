//! The campaign's coverage curve as a small self-contained SVG.

use std::fmt::Write;

use super::campaign::{Campaign, CurvePoint};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const MARGIN: f64 = 48.0;

/// Distinct coverage keys against runs: the campaign's curve, and blind
/// seeds' in the same budget when measured. Plain SVG, no script, no fonts
/// beyond the viewer's default.
pub(crate) fn svg(name: &str, campaign: &Campaign) -> String {
    let blind = campaign.blind_curve.as_deref().unwrap_or(&[]);
    let runs_max = campaign
        .curve
        .iter()
        .chain(blind)
        .map(|p| p.runs)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let keys_max = campaign
        .curve
        .iter()
        .chain(blind)
        .map(|p| p.keys)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |runs: u64| MARGIN + (WIDTH - 2.0 * MARGIN) * runs as f64 / runs_max;
    let y = |keys: u64| HEIGHT - MARGIN - (HEIGHT - 2.0 * MARGIN) * keys as f64 / keys_max;
    let line = |curve: &[CurvePoint]| -> String {
        let mut points = format!("{:.1},{:.1}", x(0), y(0));
        for p in curve {
            let _ = write!(points, " {:.1},{:.1}", x(p.runs), y(p.keys));
        }
        points
    };
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        svg,
        r#"<text x="{MARGIN}" y="20">{}: distinct coverage keys vs runs (campaign seed {})</text>"#,
        escape(name),
        campaign.campaign_seed
    );
    let (x0, y0, x1, y1) = (MARGIN, HEIGHT - MARGIN, WIDTH - MARGIN, MARGIN);
    let _ = writeln!(
        svg,
        r#"<path d="M{x0},{y1} L{x0},{y0} L{x1},{y0}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        svg,
        r#"<text x="{x1}" y="{}" text-anchor="end">{} runs</text><text x="4" y="{}">{} keys</text>"#,
        y0 + 30.0,
        runs_max,
        y1 - 4.0,
        keys_max
    );
    if !blind.is_empty() {
        let _ = writeln!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#999" stroke-width="2" stroke-dasharray="6 4"/>"##,
            line(blind)
        );
        let _ = writeln!(
            svg,
            r##"<text x="{}" y="{}" fill="#777">blind seeds</text>"##,
            x1 - 140.0,
            y0 - 10.0
        );
    }
    let _ = writeln!(
        svg,
        r##"<polyline points="{}" fill="none" stroke="#c33" stroke-width="2"/>"##,
        line(&campaign.curve)
    );
    let label = if campaign.guided { "guided" } else { "blind" };
    let _ = writeln!(
        svg,
        r##"<text x="{}" y="{}" fill="#c33">{label}</text>"##,
        x1 - 140.0,
        y0 - 26.0
    );
    if let Some(run) = campaign.first_failure_run {
        let _ = writeln!(
            svg,
            r##"<line x1="{0:.1}" y1="{y1}" x2="{0:.1}" y2="{y0}" stroke="#c33" stroke-dasharray="2 3"/><text x="{0:.1}" y="{1}" fill="#c33" text-anchor="end">first failure (run {run}) </text>"##,
            x(run + 1),
            y1 + 14.0
        );
    }
    svg.push_str("</svg>\n");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
