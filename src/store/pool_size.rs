//! How many connections the database pool holds.
//!
//! On MariaDB/MySQL every request waits on the server with a pooled
//! connection in hand, so the pool, not the cores, bounds how many
//! requests are in progress: a fixed pool that suits two cores leaves
//! most of a larger host idle. Unless `database.max_connections` names a
//! size, the pool therefore follows the host's cores, within bounds, and
//! never takes more than half of what the server accepts
//! (`@@max_connections`, read at connect), leaving the rest to other
//! Roster nodes and clients. A size set by hand above the server's limit
//! is kept, with a warning: the server refuses connections past it.
//! SQLite caps its own pool further (`store::connect_with`).

/// Connections per core when the size follows the host.
pub const PER_CORE: u32 = 2;
/// The smallest pool the host's cores give.
pub const MIN: u32 = 8;
/// The largest pool the host's cores give.
pub const MAX: u32 = 64;

/// The pool size for a host with `cores`, before the server's limit.
pub fn for_host(cores: usize) -> u32 {
    let cores = u32::try_from(cores).unwrap_or(u32::MAX);
    cores.saturating_mul(PER_CORE).clamp(MIN, MAX)
}

/// The cores this process may run on (its CPU affinity included).
pub fn host_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// `configured`, or the host's size where it is 0: the most the pool will
/// hold, before the server's limit is known.
pub fn configured_or_host(configured: u32) -> u32 {
    if configured > 0 {
        configured
    } else {
        for_host(host_cores())
    }
}

/// The size chosen, and a warning for the operator where the configured
/// size does not fit the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub size: u32,
    pub warning: Option<String>,
}

/// The pool size for `configured` (0: from the host's `cores`), on a
/// server that accepts `server_max` connections (`None` where unknown,
/// as for SQLite).
pub fn choose(configured: u32, cores: usize, server_max: Option<u32>) -> Chosen {
    if configured > 0 {
        let warning = server_max.filter(|&max| configured > max).map(|max| {
            format!(
                "database.max_connections = {configured} exceeds the database server's \
                 max_connections = {max}: requests fail once the pool grows past what the \
                 server accepts; lower database.max_connections or raise the server's limit"
            )
        });
        return Chosen {
            size: configured,
            warning,
        };
    }
    let host = for_host(cores);
    let size = match server_max {
        Some(max) => host.min((max / 2).max(1)),
        None => host,
    };
    Chosen {
        size,
        warning: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pool_follows_the_cores_within_bounds() {
        assert_eq!(for_host(1), MIN);
        assert_eq!(for_host(2), MIN);
        assert_eq!(for_host(4), 8);
        assert_eq!(for_host(8), 16);
        assert_eq!(for_host(16), 32);
        assert_eq!(for_host(32), MAX);
        assert_eq!(for_host(256), MAX);
    }

    #[test]
    fn the_default_takes_at_most_half_of_what_the_server_accepts() {
        assert_eq!(choose(0, 16, None).size, 32);
        assert_eq!(choose(0, 16, Some(151)).size, 32);
        assert_eq!(choose(0, 16, Some(40)).size, 20);
        assert_eq!(choose(0, 2, Some(10)).size, 5);
        assert_eq!(choose(0, 2, Some(1)).size, 1);
        assert_eq!(choose(0, 16, Some(40)).warning, None);
    }

    #[test]
    fn a_size_set_by_hand_is_kept_and_warned_about_past_the_servers_limit() {
        assert_eq!(
            choose(12, 64, Some(151)),
            Chosen {
                size: 12,
                warning: None
            }
        );
        let over = choose(200, 2, Some(151));
        assert_eq!(over.size, 200);
        let warning = over.warning.expect("a warning");
        assert!(
            warning.contains("200") && warning.contains("151"),
            "{warning}"
        );
        assert_eq!(choose(200, 2, None).warning, None);
    }
}
