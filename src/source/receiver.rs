//! The one DestReceiver of gn_export: every query's rows (a cursor's batch, a whole export, a
//! COPY's query) arrive here, are decoded by column kind in a memory context reset after each
//! row, and are handed to the consumer.

use super::decode::Kind;
use super::Decoding;
use crate::encode::Value;
use crate::error::GnResult;
use pgrx::pg_sys;
use pgrx::prelude::*;

/// Builds a DestReceiver that decodes each row and hands it to `f`, for the duration of `body`.
pub fn with_receiver<R>(
    decoding: &Decoding,
    f: &mut dyn FnMut(&[Value]) -> GnResult<()>,
    body: impl FnOnce(*mut pg_sys::DestReceiver) -> R,
) -> R {
    let mut f = f;
    // the callback reaches the closure through a thin pointer to this fat reference
    let f_ptr = &mut f as *mut &mut dyn FnMut(&[Value]) -> GnResult<()> as *mut std::ffi::c_void;
    // SAFETY: a child of the current context, deleted below (or with its parent if an ERROR
    // unwinds through here)
    let row_cxt = unsafe {
        pg_sys::AllocSetContextCreateInternal(
            pg_sys::CurrentMemoryContext,
            c"gn_export row".as_ptr(),
            0,
            8 * 1024,
            8 * 1024 * 1024,
        )
    };
    // lives on this stack frame while `body` runs, and its callbacks run only during `body`
    let mut rx = Receiver {
        base: pg_sys::DestReceiver {
            receiveSlot: Some(rx_receive),
            rStartup: Some(rx_startup),
            rShutdown: Some(rx_noop),
            rDestroy: Some(rx_noop),
            mydest: pg_sys::CommandDest::DestNone,
        },
        decoding: decoding.clone(),
        kinds: Vec::new(),
        row_cxt,
        f: f_ptr,
    };
    let r = body(&mut rx.base);
    // SAFETY: made above; no row is decoded into it any more
    unsafe { pg_sys::MemoryContextDelete(row_cxt) };
    r
}

/// The DestReceiver a batch is fetched into.
#[repr(C)]
struct Receiver {
    base: pg_sys::DestReceiver,
    decoding: Decoding,
    kinds: Vec<Kind>,
    row_cxt: pg_sys::MemoryContext,
    /// a `*mut &mut dyn FnMut(&[Value]) -> GnResult<()>`, alive during PortalRunFetch
    f: *mut std::ffi::c_void,
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_startup(
    me: *mut pg_sys::DestReceiver,
    _op: std::ffi::c_int,
    desc: pg_sys::TupleDesc,
) {
    // SAFETY: `me` is the `base` of a Receiver built by with_receiver (repr(C), first field),
    // alive while the executor runs; `desc` is the valid TupleDesc of the rows to come.
    let (rx, attrs) = unsafe {
        let rx = &mut *(me as *mut Receiver);
        (rx, crate::pg_compat::tupdesc_attrs(desc))
    };
    rx.kinds = attrs
        .iter()
        .enumerate()
        .map(|(i, a)| match &rx.decoding.postgis {
            Some(p) if Some(i) == rx.decoding.feature_column => {
                Kind::feature(p, rx.decoding.feature_srid)
            }
            Some(p) if rx.decoding.wkt_columns.contains(&i) => Kind::wkt(p),
            _ => Kind::for_type(a.atttypid),
        })
        .collect();
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_receive(
    slot: *mut pg_sys::TupleTableSlot,
    me: *mut pg_sys::DestReceiver,
) -> bool {
    use crate::error::OrRaise;
    // SAFETY: `me` as in rx_startup; `slot` is a valid slot of the TupleDesc given to it, and
    // slot_getallattrs fills its `natts` values and null flags. The row's decoded values point
    // into the slot or into `row_cxt`, and are dropped before that context is reset.
    let res = unsafe {
        let rx = &mut *(me as *mut Receiver);
        pg_sys::slot_getallattrs(slot);
        let natts = rx.kinds.len();
        let values = std::slice::from_raw_parts((*slot).tts_values, natts);
        let nulls = std::slice::from_raw_parts((*slot).tts_isnull, natts);
        let old = pg_sys::MemoryContextSwitchTo(rx.row_cxt);
        let row: Vec<Value> = (0..natts)
            .map(|i| rx.kinds[i].decode(values[i], nulls[i]))
            .collect();
        let f = &mut *(rx.f as *mut &mut dyn FnMut(&[Value]) -> GnResult<()>);
        let res = f(&row);
        drop(row);
        pg_sys::MemoryContextSwitchTo(old);
        pg_sys::MemoryContextReset(rx.row_cxt);
        res
    };
    res.or_raise();
    true
}

#[pg_guard]
unsafe extern "C-unwind" fn rx_noop(_me: *mut pg_sys::DestReceiver) {}
