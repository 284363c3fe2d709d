//! Plans a city and prints its figures: grid count, share in range, flags, Polsby–Popper
//! compactness, why each grid out of range is, time.
//!
//! `cargo run --release -p gridwatch-geodata --example plan_city [dongjie | FILE.geojson |
//! FILE.osm.pbf] [RESOLUTION] [--no-barriers]` — the default is the synthetic Dongjie
//! (seed 1) at resolution 12. Times are wall clock of one run on this machine.
//!
//! Also prints how much of the borders between grids of one community lies on the dataset's
//! major roads, railways and water (and on any barrier, residential streets included).
//! `--no-barriers` plans without them (roads and areas left out of the planner's input,
//! still used for that measure): the partitioner before it preferred them.

use gridwatch_geodata::{
    Barriers, BorderShare, CityPlan, Dataset, GridFlag, PartitionRules, Preset, plan_city,
    read_geojson, read_osm_pbf, synthetic_city,
};
use h3o::Resolution;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (flags, mut args): (Vec<String>, Vec<String>) =
        std::env::args().skip(1).partition(|a| a.starts_with("--"));
    let no_barriers = flags.iter().any(|f| f == "--no-barriers");
    args.reverse();
    let source = args.pop().unwrap_or_else(|| "dongjie".to_owned());
    let res = match args.pop() {
        Some(r) => Resolution::try_from(r.parse::<u8>()?)?,
        None => Resolution::Twelve,
    };
    let started = Instant::now();
    let dataset = load(&source)?;
    let loaded = started.elapsed();
    let barriers = Barriers::new(&dataset.roads, &dataset.areas);
    // Without barriers: roads and areas left out of the planner's input.
    let input = if no_barriers {
        Dataset {
            roads: Vec::new(),
            areas: Vec::new(),
            ..dataset.clone()
        }
    } else {
        dataset.clone()
    };
    let started = Instant::now();
    let plan = plan_city(&input, res, &PartitionRules::default())?;
    let planned = started.elapsed();

    let cells: usize = plan.grids.iter().map(|g| g.cells.len()).sum();
    let count = |f: fn(&GridFlag) -> bool| {
        plan.grids
            .iter()
            .filter(|g| g.flag.as_ref().is_some_and(f))
            .count()
    };
    let in_range = plan.grids.iter().filter(|g| g.flag.is_none()).count();
    println!(
        "source            {source} ({} buildings, {} households)",
        dataset.buildings.len(),
        dataset.total_households()
    );
    println!("resolution        {}", u8::from(res));
    println!("cells             {cells}");
    println!("grids             {}", plan.grids.len());
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let share = 100.0 * in_range as f64 / plan.grids.len().max(1) as f64;
    println!("in range          {in_range} ({share:.1}%)");
    println!(
        "single building   {}",
        count(|f| matches!(f, GridFlag::SingleBuildingOverMax { .. }))
    );
    println!(
        "cell over max     {}",
        count(|f| matches!(f, GridFlag::CellOverMax { .. }))
    );
    println!(
        "under min         {}",
        count(|f| matches!(f, GridFlag::UnderMin { .. }))
    );
    println!(
        "over max          {}",
        count(|f| matches!(f, GridFlag::OverMax { .. }))
    );
    let report = &plan.report;
    println!(
        "in range of those that can be  {} of {} ({:.1}%; {} forced out by the input)",
        report.in_range,
        report.grids - report.forced_out_of_range,
        100.0 * report.share_in_range_of_possible,
        report.forced_out_of_range
    );
    println!(
        "Polsby-Popper     mean {:.3}, min {:.3}",
        report.polsby_popper_mean, report.polsby_popper_min
    );
    for (grid, figures) in plan.grids.iter().zip(&report.per_grid) {
        if let Some(reason) = figures.reason {
            println!(
                "  out of range    {} {} households, {} cells, PP {:.3}: {reason:?}",
                grid.code,
                grid.households,
                grid.cells.len(),
                figures.polsby_popper
            );
        }
    }
    let borders = borders(&plan, &barriers);
    println!(
        "grid borders      {} H3 edges inside communities: {:.1}% on major roads/rail/water, {:.1}% on any barrier{}",
        borders.edges,
        100.0 * borders.major_share(),
        100.0 * borders.any_share(),
        if no_barriers {
            " (planned without barriers)"
        } else {
            ""
        }
    );
    println!("load time         {:.1} ms", loaded.as_secs_f64() * 1e3);
    println!("plan time         {:.1} ms", planned.as_secs_f64() * 1e3);
    Ok(())
}

/// How much of the borders between grids of one community lies on `barriers`.
fn borders(plan: &CityPlan, barriers: &Barriers) -> BorderShare {
    let mut by_community: Vec<Vec<&[h3o::CellIndex]>> = Vec::new();
    let mut last: Option<&str> = None;
    for grid in &plan.grids {
        if last != Some(grid.community_code.as_str()) {
            by_community.push(Vec::new());
            last = Some(grid.community_code.as_str());
        }
        if let Some(groups) = by_community.last_mut() {
            groups.push(grid.cells.as_slice());
        }
    }
    let mut borders = BorderShare::default();
    for groups in &by_community {
        borders.add(barriers.border_share(groups));
    }
    borders
}

/// The synthetic Dongjie (seed 1), an OSM PBF extract or a `GeoJSON` file.
fn load(source: &str) -> Result<Dataset, Box<dyn std::error::Error>> {
    let path = Path::new(source);
    Ok(if source == "dongjie" {
        synthetic_city(Preset::Dongjie, 1)
    } else if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("pbf"))
    {
        read_osm_pbf(path)?
    } else {
        read_geojson(path)?
    })
}
