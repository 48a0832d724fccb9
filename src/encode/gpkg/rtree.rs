//! The layer's R-tree, packed in one pass as the rows come: GeoPackage's `rtree_<t>_<g>` is
//! SQLite's R-tree module, whose index lives in three ordinary "shadow" tables (`_node`,
//! `_rowid`, `_parent`; SQLite's ext/rtree/rtree.c describes them). Inserting row by row
//! through the virtual table rebalances the tree at each insert and, on a file of gigabytes,
//! reads back pages the cache has lost. Rows that come in spatial order (generate() reads a
//! GeoPackage's rows `ORDER BY` the geometry, which PostGIS sorts along a Hilbert curve) can
//! instead fill the leaves in order, full, and each level above them as the level below
//! completes a node: a packed R-tree (Kamel and Faloutsos' Hilbert R-tree), written straight
//! into the shadow tables, with one open node per level in memory. Rows in another order still
//! give a valid tree, only a looser one. The triggers GeoPackage defines keep it right when
//! others edit the file later, through the virtual table as usual.

use super::sqlite_error;
use crate::error::GnResult;
use crate::spi::ident as q;
use rusqlite::{Connection, Statement};

/// Bytes of a cell of a 2-dimensional R-tree: the 64-bit id (a row's fid in a leaf, a child
/// node's number above), then min x, max x, min y, max y as 32-bit floats, big-endian.
const CELL: usize = 8 + 4 * 4;
/// Bytes before the cells: the tree's depth (meaningful in the root only), the cell count.
const HEADER: usize = 4;
/// The root's node number: SQLite looks the tree up from there.
const ROOT: i64 = 1;

/// A cell as SQLite stores it: an id and its box, rounded outwards to 32-bit floats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    pub id: i64,
    /// [min x, max x, min y, max y]
    pub bbox: [f32; 4],
}

impl Cell {
    /// A row's cell from its envelope ([min x, max x, min y, max y]), rounded as SQLite's
    /// R-tree rounds (rtreeValueDown, rtreeValueUp): a box never shrinks into 32 bits.
    pub fn of_row(id: i64, e: [f64; 4]) -> Cell {
        Cell {
            id,
            bbox: [down(e[0]), up(e[1]), down(e[2]), up(e[3])],
        }
    }

    fn union(cells: &[Cell], id: i64) -> Cell {
        let mut b = cells[0].bbox;
        for c in &cells[1..] {
            b[0] = b[0].min(c.bbox[0]);
            b[1] = b[1].max(c.bbox[1]);
            b[2] = b[2].min(c.bbox[2]);
            b[3] = b[3].max(c.bbox[3]);
        }
        Cell { id, bbox: b }
    }
}

/// The largest f32 not above `d`.
fn down(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) > d {
        f.next_down()
    } else {
        f
    }
}

/// The smallest f32 not below `d`.
fn up(d: f64) -> f32 {
    let f = d as f32;
    if f64::from(f) < d {
        f.next_up()
    } else {
        f
    }
}

/// A node's blob: `size` bytes, the depth (written in the root only), the count, the cells.
pub fn node_blob(size: usize, depth: u16, cells: &[Cell]) -> Vec<u8> {
    let mut b = Vec::with_capacity(size);
    b.extend_from_slice(&depth.to_be_bytes());
    b.extend_from_slice(&(cells.len() as u16).to_be_bytes());
    for c in cells {
        b.extend_from_slice(&c.id.to_be_bytes());
        for v in c.bbox {
            b.extend_from_slice(&v.to_bits().to_be_bytes());
        }
    }
    b.resize(size, 0);
    b
}

/// The statements that write the three shadow tables of one R-tree.
struct Shadow<'c> {
    node: Statement<'c>,
    root: Statement<'c>,
    rowid: Statement<'c>,
    parent: Statement<'c>,
}

/// Builds one R-tree from cells pushed in order, writing each node as it fills.
pub struct PackedRtree<'c> {
    shadow: Shadow<'c>,
    /// bytes of a node, as SQLite sized the root when it created the table
    node_size: usize,
    /// cells per node
    capacity: usize,
    /// the open node of each level, leaves first
    open: Vec<Vec<Cell>>,
    /// nodes written at each level
    written: Vec<u64>,
    next_node: i64,
}

impl<'c> PackedRtree<'c> {
    /// The builder of `table` (quoted, as `schema::rtree_table` names it), which must be
    /// empty: as `CREATE VIRTUAL TABLE … USING rtree` left it.
    pub fn new(db: &'c Connection, table: &str) -> GnResult<PackedRtree<'c>> {
        let shadow = |suffix: &str| q(&format!("{}_{suffix}", unquote(table)));
        let (node, rowid, parent) = (shadow("node"), shadow("rowid"), shadow("parent"));
        let node_size: usize = db
            .query_row(
                &format!("SELECT length(data) FROM {node} WHERE nodeno = {ROOT}"),
                [],
                |r| r.get(0),
            )
            .map_err(|e| sqlite_error("R-tree", e))?;
        let prepare = |sql: String| db.prepare(&sql).map_err(|e| sqlite_error("R-tree", e));
        Ok(PackedRtree {
            shadow: Shadow {
                node: prepare(format!("INSERT INTO {node} (nodeno, data) VALUES (?1, ?2)"))?,
                root: prepare(format!("UPDATE {node} SET data = ?1 WHERE nodeno = {ROOT}"))?,
                rowid: prepare(format!(
                    "INSERT INTO {rowid} (rowid, nodeno) VALUES (?1, ?2)"
                ))?,
                parent: prepare(format!(
                    "INSERT INTO {parent} (nodeno, parentnode) VALUES (?1, ?2)"
                ))?,
            },
            node_size,
            capacity: (node_size - HEADER) / CELL,
            open: Vec::new(),
            written: Vec::new(),
            next_node: ROOT + 1,
        })
    }

    /// Adds a row's cell (rows with a NULL or empty geometry have none).
    pub fn push(&mut self, cell: Cell) -> GnResult<()> {
        self.push_at(0, cell)
    }

    /// A cell into the open node of `level`; a full node is written first, so that the last
    /// node of the top level is still open when the rows end, and can become the root.
    fn push_at(&mut self, level: usize, cell: Cell) -> GnResult<()> {
        if self.open.len() == level {
            self.open.push(Vec::with_capacity(self.capacity));
            self.written.push(0);
        }
        if self.open[level].len() == self.capacity {
            self.close(level)?;
        }
        self.open[level].push(cell);
        Ok(())
    }

    /// Writes the open node of `level` under a new number and passes its box up.
    fn close(&mut self, level: usize) -> GnResult<()> {
        let id = self.next_node;
        self.next_node += 1;
        let cells = std::mem::take(&mut self.open[level]);
        self.write(level, id, &cells, 0)?;
        self.written[level] += 1;
        self.push_at(level + 1, Cell::union(&cells, id))
    }

    /// One node: its blob, and where its cells point back to it from.
    fn write(&mut self, level: usize, id: i64, cells: &[Cell], depth: u16) -> GnResult<()> {
        let blob = node_blob(self.node_size, depth, cells);
        let e = |e| sqlite_error("R-tree", e);
        if id == ROOT {
            self.shadow.root.execute([&blob]).map_err(e)?;
        } else {
            self.shadow
                .node
                .execute(rusqlite::params![id, blob])
                .map_err(e)?;
        }
        let up = if level == 0 {
            &mut self.shadow.rowid
        } else {
            &mut self.shadow.parent
        };
        for c in cells {
            up.execute([c.id, id]).map_err(e)?;
        }
        Ok(())
    }

    /// Closes the levels from the leaves up: the first level that wrote no node and has none
    /// above it is the root's, written as node 1 with the tree's depth. No cell at all leaves
    /// the empty root SQLite made.
    pub fn finish(mut self) -> GnResult<()> {
        let mut level = 0;
        while level < self.open.len() {
            let top = self.written[level] == 0 && self.open.len() == level + 1;
            if top {
                let cells = std::mem::take(&mut self.open[level]);
                return self.write(level, ROOT, &cells, level as u16);
            }
            if !self.open[level].is_empty() {
                self.close(level)?;
            }
            level += 1;
        }
        Ok(())
    }
}

/// `"rtree_t_g"` → `rtree_t_g`, for the names of its shadow tables.
fn unquote(quoted: &str) -> String {
    quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(quoted)
        .replace("\"\"", "\"")
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn boxes_round_outwards() {
        let c = Cell::of_row(7, [0.1, 0.1, -0.1, -0.1]);
        assert!(f64::from(c.bbox[0]) <= 0.1 && f64::from(c.bbox[1]) >= 0.1);
        assert!(f64::from(c.bbox[2]) <= -0.1 && f64::from(c.bbox[3]) >= -0.1);
        assert!(c.bbox[0] < c.bbox[1], "0.1 is not a float: the box widens");
        let exact = Cell::of_row(1, [1.5, 2.0, -3.0, 4.25]);
        assert_eq!(exact.bbox, [1.5, 2.0, -3.0, 4.25]);
    }

    #[test]
    fn a_node_blob_is_sqlites() {
        let b = node_blob(
            1228,
            2,
            &[Cell {
                id: 258,
                bbox: [1.0, 2.0, 3.0, 4.0],
            }],
        );
        assert_eq!(b.len(), 1228);
        assert_eq!(&b[..4], &[0, 2, 0, 1]);
        assert_eq!(&b[4..12], &258i64.to_be_bytes());
        assert_eq!(&b[12..16], &1.0f32.to_bits().to_be_bytes());
        assert!(b[28..].iter().all(|&x| x == 0));
    }

    /// Trees of every shape (a lone root leaf, exactly full levels, partial ones) pass
    /// SQLite's own check and answer window queries as a scan of the boxes does.
    #[test]
    fn packed_trees_are_valid_and_complete() {
        for n in [0usize, 1, 50, 51, 52, 51 * 51, 51 * 51 + 1, 7_000] {
            let db = Connection::open_in_memory().unwrap();
            db.execute_batch(
                "PRAGMA page_size = 65536;
                 CREATE TABLE boxes (id INTEGER PRIMARY KEY, minx, maxx, miny, maxy);
                 CREATE VIRTUAL TABLE \"rtree_t_g\" USING rtree(id, minx, maxx, miny, maxy);",
            )
            .unwrap();
            let mut tree = PackedRtree::new(&db, "\"rtree_t_g\"").unwrap();
            let mut boxes = Vec::new();
            for i in 0..n {
                // a walk, as rows in spatial order come
                let (x, y) = ((i % 97) as f64 * 0.01 + 6.0, (i / 97) as f64 * 0.01 + 44.0);
                let e = [x, x + 0.003, y, y + 0.002];
                let fid = i as i64 + 1;
                tree.push(Cell::of_row(fid, e)).unwrap();
                boxes.push((fid, e));
            }
            tree.finish().unwrap();
            for (fid, e) in &boxes {
                db.execute(
                    "INSERT INTO boxes VALUES (?1, ?2, ?3, ?4, ?5)",
                    rusqlite::params![fid, e[0], e[1], e[2], e[3]],
                )
                .unwrap();
            }
            let check: String = db
                .query_row("SELECT rtreecheck('rtree_t_g')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "{n} cells");
            let count: i64 = db
                .query_row("SELECT count(*) FROM \"rtree_t_g\"", [], |r| r.get(0))
                .unwrap();
            assert_eq!(count, n as i64);
            let window = "minx <= 6.30 AND maxx >= 6.20 AND miny <= 44.5 AND maxy >= 44.1";
            let via_tree: Vec<i64> = db
                .prepare(&format!(
                    "SELECT id FROM \"rtree_t_g\" WHERE {window} ORDER BY id"
                ))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            let scanned: Vec<i64> = db
                .prepare(&format!("SELECT id FROM boxes WHERE {window} ORDER BY id"))
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(via_tree, scanned, "{n} cells");
            // the tree stays SQLite's: others may insert and delete through it later
            db.execute(
                "INSERT INTO \"rtree_t_g\" VALUES (?1, 0, 1, 0, 1)",
                [n as i64 + 1],
            )
            .unwrap();
            db.execute("DELETE FROM \"rtree_t_g\" WHERE id = 1", [])
                .unwrap();
            let check: String = db
                .query_row("SELECT rtreecheck('rtree_t_g')", [], |r| r.get(0))
                .unwrap();
            assert_eq!(check, "ok", "{n} cells, then edited");
        }
    }
}
