//! What both stores share: the two event payloads built from the store's own input types (every other
//! payload, and the list of event kinds, is `domain::event`), and (in its submodules) how values become
//! columns, how rows become domain values again, and how a refused write becomes a `Conflict`.
//!
//! Nothing here talks to a database: the SQL is in `sql/`. Payloads carry counts and staff data
//! only — never resident data, and never a token's hash.

pub(crate) mod cameras;
pub(crate) mod codec;
pub(crate) mod conflict;
pub(crate) mod fixes;
pub(crate) mod import;
pub mod incidents;
pub(crate) mod rows;

use super::{NewCity, TokenRecord};
use crate::domain::event::{CityImported, TokenCreated};

/// Settings keys.
pub(crate) const CELL_RESOLUTION: &str = "cell_resolution";
pub(crate) const CITY_NAME: &str = "city_name";
pub(crate) const ATTRIBUTION: &str = "attribution";

/// The message of the `Conflict` an import into a store that already holds grids gets.
pub(crate) const CITY_EXISTS: &str = "the store already holds a city; import into an empty store";

// ---------------------------------------------------------------------------------------------------
// Event payloads built from the store's own input types (every other payload is built in `domain`)
// ---------------------------------------------------------------------------------------------------

/// `city.imported`: the city's name and what it holds, in counts.
pub(crate) fn city_imported(city: &NewCity) -> CityImported {
    CityImported {
        name: city.name.clone(),
        attribution: city.attribution.clone(),
        resolution: u8::from(city.resolution),
        regions: city.regions.len(),
        grids: city.grids.len(),
        cells: city.grids.iter().map(|g| g.cells.len()).sum(),
        buildings: city.buildings.len(),
        households: city
            .buildings
            .iter()
            .map(|(b, _)| u64::from(b.households))
            .sum(),
        base_lines: city.base_lines.len(),
        base_areas: city.base_areas.len(),
    }
}

/// `token.created`: who the token is for. Never the hash: events are replayed to clients.
pub(crate) fn token_created(token: &TokenRecord) -> TokenCreated {
    TokenCreated {
        id: token.id,
        role: token.role,
        scopes: token.scopes.clone(),
        worker: token.worker,
        label: token.label.clone(),
    }
}
