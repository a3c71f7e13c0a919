//! The CSV of every run and a PNG of latency against grants, one line per engine (p50 solid, p99
//! dashed), drawn with a bundled font.

use crate::Row;
use plotters::prelude::*;
use std::path::Path;

/// Writes `rows` as CSV.
pub fn csv(rows: &[Row], path: &Path) -> anyhow::Result<()> {
    let mut out = String::from(
        "engine,size,users,grants,checks,allowed_share,p50_ns,p99_ns,p999_ns,checks_per_s_1t,checks_per_s_2t,bytes_per_grant,load_ms\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{:.3},{},{},{},{:.0},{:.0},{:.0},{:.1}\n",
            r.engine,
            r.size,
            r.users,
            r.grants,
            r.checks,
            r.allowed_share,
            r.p50,
            r.p99,
            r.p999,
            r.per_s_1,
            r.per_s_2,
            r.bytes_per_grant,
            r.load_ms
        ));
    }
    std::fs::write(path, out)?;
    Ok(())
}

/// `12000` as `12k`, `1000000` as `1M`.
fn count(n: f64) -> String {
    match n {
        n if n >= 1e6 => format!("{}M", n / 1e6),
        n if n >= 1e3 => format!("{}k", n / 1e3),
        n => format!("{n}"),
    }
}

/// Nanoseconds as people read them.
fn duration(ns: f64) -> String {
    match ns {
        ns if ns >= 1e9 => format!("{} s", ns / 1e9),
        ns if ns >= 1e6 => format!("{} ms", ns / 1e6),
        ns if ns >= 1e3 => format!("{} µs", ns / 1e3),
        ns => format!("{ns} ns"),
    }
}

/// Draws latency against grants.
pub fn png(rows: &[Row], path: &Path) -> anyhow::Result<()> {
    plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow::anyhow!("the bundled font could not be loaded"))?;
    let root = BitMapBackend::new(path, (1000, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_grants = rows.iter().map(|r| r.grants).max().unwrap_or(10).max(10) as f64;
    let min_grants = rows.iter().map(|r| r.grants).min().unwrap_or(1).max(1) as f64;
    let max_ns = rows.iter().map(|r| r.p99).max().unwrap_or(10).max(10) as f64;
    let min_ns = rows.iter().map(|r| r.p50).filter(|n| *n > 0).min().unwrap_or(1) as f64;
    let mut chart = ChartBuilder::on(&root)
        .caption("Check latency against grants (p50 solid, p99 dashed)", ("sans-serif", 24))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(90)
        .build_cartesian_2d((min_grants / 2.0..max_grants * 2.0).log_scale(), (min_ns / 2.0..max_ns * 2.0).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("grants")
        .y_desc("time per check")
        .x_label_formatter(&|g| count(*g))
        .y_label_formatter(&|ns| duration(*ns))
        .light_line_style(RGBColor(238, 238, 238))
        .label_style(("sans-serif", 14))
        .draw()?;
    let colours = [RGBColor(31, 119, 180), RGBColor(214, 39, 40), RGBColor(44, 160, 44)];
    let mut engines: Vec<&str> = Vec::new();
    for r in rows {
        if !engines.contains(&r.engine) {
            engines.push(r.engine);
        }
    }
    for (i, engine) in engines.iter().enumerate() {
        let colour = colours[i % colours.len()];
        let mine: Vec<&Row> = rows.iter().filter(|r| r.engine == *engine).collect();
        let p50: Vec<(f64, f64)> = mine.iter().map(|r| (r.grants as f64, r.p50.max(1) as f64)).collect();
        let p99: Vec<(f64, f64)> = mine.iter().map(|r| (r.grants as f64, r.p99.max(1) as f64)).collect();
        chart
            .draw_series(LineSeries::new(p50.clone(), colour.stroke_width(3)).point_size(4))?
            .label(*engine)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(3)));
        chart.draw_series(DashedLineSeries::new(p99, 6, 4, colour.stroke_width(2)))?;
        chart.draw_series(p50.iter().map(|p| Circle::new(*p, 4, colour.filled())))?;
    }
    chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).label_font(("sans-serif", 16)).draw()?;
    root.present()?;
    Ok(())
}
