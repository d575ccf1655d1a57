"""Numba kernels: range-RAPTOR over a departure window and the reduction to percentiles.

The search takes two structures (the shape of ferrobus' RAPTOR):

- :class:`TransitData`, read-only: the timetable of one date (patterns, trips, stop times), the
  walking transfers between stops and the board slack. The router builds it once.
- :class:`SearchState`, reusable: the labels and work lists of one search. One state serves
  many searches in a row (the router keeps one per batch of origins and thread); each search
  resets only the stops the previous one reached, so a query costs what it explores, not what
  the whole network holds.

The reverse search (the latest departure that still arrives by a deadline) is the same search on
the mirrored timetable (:func:`mirror`): times negated, each pattern's stops and trips in reverse
order, boarding and alighting swapped, and the board slack moved onto the arrival times. So the
forward and the reverse search share every helper.

Times are int32/int64 seconds after midnight of the service date; ``INF`` marks "not reached".
Only flat numpy arrays (in named tuples) cross into these functions;
:mod:`kurszugang.routing.router` prepares them and converts ``INF`` at its boundary.

Labels, per round ``k`` (number of rides):

- ``walk_lbl[k, s]``: earliest arrival at stop ``s`` with at most ``k`` rides where the last leg is
  a ride, one walking transfer after a ride, or (``k = 0``) the walk from the origin. Boarding in
  round ``k + 1`` starts from these.
- ``ride_lbl[k, s]``: earliest arrival at ``s`` with at most ``k`` rides where the last leg is a
  ride. Egress walks start only from these, so walking legs are never chained.

Range-RAPTOR runs the departure minutes from the latest to the earliest and keeps the labels
between minutes: a journey possible when leaving later is possible when leaving earlier (wait at
the origin), so labels only improve and each minute only has to explore what the earlier
departure newly makes possible.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numba
import numpy as np
from numba.core import types
from numba.experimental import structref

INF = np.int64(2**40)


@structref.register
class _TransitDataType(types.StructRef):
    def preprocess_fields(self, fields: tuple) -> tuple:
        return tuple((name, types.unliteral(t)) for name, t in fields)


@structref.register
class _SearchStateType(types.StructRef):
    def preprocess_fields(self, fields: tuple) -> tuple:
        return tuple((name, types.unliteral(t)) for name, t in fields)


def _array(dtype: Any, ndim: int = 1) -> types.Array:
    return types.Array(numba.from_dtype(np.dtype(dtype)), ndim, "C")


_DATA_FIELDS = (
    "pattern_stop_start", "pattern_stops", "pattern_pickup", "pattern_dropoff",
    "pattern_trip_start", "pattern_time_start", "arr", "dep",
    "stop_pattern_start", "stop_patterns", "stop_pattern_pos",
    "fp_start", "fp_to", "fp_time", "board_slack",
)
_DATA_DTYPES = (np.int64, np.int32, np.int8, np.int8, np.int64, np.int64, np.int32, np.int32,
                np.int64, np.int32, np.int32, np.int64, np.int64, np.int64)
_DATA_TYPE = _TransitDataType(list(zip(
    _DATA_FIELDS, [_array(d) for d in _DATA_DTYPES] + [types.int64], strict=True)))

_STATE_FIELDS = (
    "walk_lbl", "ride_lbl", "best_ride", "dest_arr",
    "marked", "marked_list", "next_marked", "next_list", "ride_improved", "ride_list",
    "egress_dirty", "egress_list", "touched", "touched_list", "n_touched",
    "pat_from", "pat_list", "par_pattern", "par_trip", "par_board", "par_from",
)
_STATE_TYPES = ([_array(np.int64, 2)] * 2 + [_array(np.int64)] * 2
                + [_array(np.bool_), _array(np.int64)] * 5 + [_array(np.int64)] * 3
                + [_array(np.int64, 2)] * 4)
_STATE_TYPE = _SearchStateType(list(zip(_STATE_FIELDS, _STATE_TYPES, strict=True)))


# Constructors and field access from Python, compiled once and cached (numba's generic proxy
# constructor compiles anew in every process).
@numba.njit(cache=True)
def _pack_data(f: tuple) -> TransitData:
    st = structref.new(_DATA_TYPE)  # type: ignore[call-arg,var-annotated]
    st.pattern_stop_start = f[0]
    st.pattern_stops = f[1]
    st.pattern_pickup = f[2]
    st.pattern_dropoff = f[3]
    st.pattern_trip_start = f[4]
    st.pattern_time_start = f[5]
    st.arr = f[6]
    st.dep = f[7]
    st.stop_pattern_start = f[8]
    st.stop_patterns = f[9]
    st.stop_pattern_pos = f[10]
    st.fp_start = f[11]
    st.fp_to = f[12]
    st.fp_time = f[13]
    st.board_slack = f[14]
    return st


@numba.njit(cache=True)
def _unpack_data(st: TransitData) -> tuple:
    return (st.pattern_stop_start, st.pattern_stops, st.pattern_pickup, st.pattern_dropoff,
            st.pattern_trip_start, st.pattern_time_start, st.arr, st.dep,
            st.stop_pattern_start, st.stop_patterns, st.stop_pattern_pos,
            st.fp_start, st.fp_to, st.fp_time, st.board_slack)


@numba.njit(cache=True)
def _pack_state(f: tuple) -> SearchState:
    st = structref.new(_STATE_TYPE)  # type: ignore[call-arg,var-annotated]
    st.walk_lbl = f[0]
    st.ride_lbl = f[1]
    st.best_ride = f[2]
    st.dest_arr = f[3]
    st.marked = f[4]
    st.marked_list = f[5]
    st.next_marked = f[6]
    st.next_list = f[7]
    st.ride_improved = f[8]
    st.ride_list = f[9]
    st.egress_dirty = f[10]
    st.egress_list = f[11]
    st.touched = f[12]
    st.touched_list = f[13]
    st.n_touched = f[14]
    st.pat_from = f[15]
    st.pat_list = f[16]
    st.par_pattern = f[17]
    st.par_trip = f[18]
    st.par_board = f[19]
    st.par_from = f[20]
    return st


@numba.njit(cache=True)
def _unpack_state(st: SearchState) -> tuple:
    return (st.walk_lbl, st.ride_lbl, st.best_ride, st.dest_arr, st.marked, st.marked_list,
            st.next_marked, st.next_list, st.ride_improved, st.ride_list, st.egress_dirty,
            st.egress_list, st.touched, st.touched_list, st.n_touched, st.pat_from, st.pat_list,
            st.par_pattern, st.par_trip, st.par_board, st.par_from)


class TransitData(structref.StructRefProxy):
    """The read-only arrays a search runs on (layout as in :class:`~kurszugang.routing.Timetable`).

    A numba structref: the kernels receive one pointer, however many arrays it holds (the same
    arrays as a named tuple made the search four times slower, see
    ``benchmarks/bench_kernel_structs.py``). Build it with :meth:`build`; the attributes are
    read-only views of the arrays.

    Attributes
    ----------
    pattern_stop_start, pattern_stops, pattern_pickup, pattern_dropoff
        Stops of each pattern in travel order (CSR, int64 offsets; int32 stop indices; int8
        boarding and alighting allowed).
    pattern_trip_start, pattern_time_start
        Trips of each pattern (int64 offsets) and the offset of its times in ``arr``/``dep``.
    arr, dep
        int32 arrival and departure per trip and position (trip-major within a pattern).
    stop_pattern_start, stop_patterns, stop_pattern_pos
        For each stop (CSR, int64 offsets): the patterns serving it and the position (int32).
    fp_start, fp_to, fp_time
        Walking transfers between stops (CSR, int64): target stop and whole seconds.
    board_slack
        Seconds between arriving at a stop and boarding there.
    """

    pattern_stop_start: np.ndarray
    pattern_stops: np.ndarray
    pattern_pickup: np.ndarray
    pattern_dropoff: np.ndarray
    pattern_trip_start: np.ndarray
    pattern_time_start: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    stop_pattern_start: np.ndarray
    stop_patterns: np.ndarray
    stop_pattern_pos: np.ndarray
    fp_start: np.ndarray
    fp_to: np.ndarray
    fp_time: np.ndarray
    board_slack: int

    def __new__(cls, *fields: Any) -> TransitData:
        return _pack_data(tuple(fields))

    @classmethod
    def build(cls, **fields: Any) -> TransitData:
        """From keyword arrays named as the attributes (converted to the kernels' dtypes)."""
        values = [np.ascontiguousarray(fields[name], dtype=dtype)
                  for name, dtype in zip(_DATA_FIELDS, _DATA_DTYPES, strict=False)]
        return cls(*values, int(fields["board_slack"]))

    def fields(self) -> dict[str, Any]:
        """The attributes as a dict (for building a modified copy)."""
        return dict(zip(_DATA_FIELDS, _unpack_data(self), strict=True))

    @property
    def n_stops(self) -> int:
        """Number of stops."""
        return len(self.stop_pattern_start) - 1

    @property
    def n_patterns(self) -> int:
        """Number of patterns."""
        return len(self.pattern_stop_start) - 1


class SearchState(structref.StructRefProxy):
    """The reusable arrays of one search (see :func:`new_state`), a numba structref.

    ``walk_lbl``/``ride_lbl`` (``(max_rides + 1, n_stops)``, int64) hold the labels after a
    search, ``par_*`` how each label was reached when the search tracked it (else ``(1, 1)``).
    The boolean/list pairs are the sets of stops a round works on; ``touched`` lists the stops
    whose labels a search changed (``n_touched[0]`` of them), which the next search resets.
    """

    walk_lbl: np.ndarray
    ride_lbl: np.ndarray
    best_ride: np.ndarray
    dest_arr: np.ndarray
    marked: np.ndarray
    marked_list: np.ndarray
    next_marked: np.ndarray
    next_list: np.ndarray
    ride_improved: np.ndarray
    ride_list: np.ndarray
    egress_dirty: np.ndarray
    egress_list: np.ndarray
    touched: np.ndarray
    touched_list: np.ndarray
    n_touched: np.ndarray
    pat_from: np.ndarray
    pat_list: np.ndarray
    par_pattern: np.ndarray
    par_trip: np.ndarray
    par_board: np.ndarray
    par_from: np.ndarray

    def __new__(cls, *fields: Any) -> SearchState:
        return _pack_state(tuple(fields))


def _getter(unpack: Any, i: int) -> property:
    return property(lambda self: unpack(self)[i])


for _i, _name in enumerate(_DATA_FIELDS):
    setattr(TransitData, _name, _getter(_unpack_data, _i))
for _i, _name in enumerate(_STATE_FIELDS):
    setattr(SearchState, _name, _getter(_unpack_state, _i))
structref.define_boxing(_TransitDataType, TransitData)
structref.define_boxing(_SearchStateType, SearchState)
structref.define_attributes(_TransitDataType)
structref.define_attributes(_SearchStateType)


class Csr(NamedTuple):
    """Walking legs from stops to points (egress, or origins in the reverse search), CSR."""

    start: np.ndarray
    to: np.ndarray
    time: np.ndarray


class Window(NamedTuple):
    """Departures ``t_first + i * step`` for ``i < n_minutes``; journeys up to ``max_time`` s."""

    t_first: int
    n_minutes: int
    step: int
    max_time: int


def new_state(data: TransitData, n_dest: int, max_rides: int, *,
              track: bool = False) -> SearchState:
    """A fresh search state for ``data`` with ``n_dest`` destinations and ``max_rides`` rides.

    Examples
    --------
    >>> data = router._data  # the transit data a Router compiled
    >>> state = new_state(data, n_dest=8, max_rides=5)
    >>> state.walk_lbl.shape == (6, data.n_stops)
    True
    """
    n, n_pat, k1 = data.n_stops, data.n_patterns, int(max_rides) + 1
    shape = (k1, n) if track else (1, 1)
    flags = [np.zeros(n, dtype=np.bool_) for _ in range(5)]
    lists = [np.empty(n, dtype=np.int64) for _ in range(5)]
    arrays = dict(
        walk_lbl=np.full((k1, n), INF, dtype=np.int64),
        ride_lbl=np.full((k1, n), INF, dtype=np.int64),
        best_ride=np.full(n, INF, dtype=np.int64),
        dest_arr=np.full(int(n_dest), INF, dtype=np.int64),
        marked=flags[0], marked_list=lists[0], next_marked=flags[1], next_list=lists[1],
        ride_improved=flags[2], ride_list=lists[2], egress_dirty=flags[3], egress_list=lists[3],
        touched=flags[4], touched_list=lists[4], n_touched=np.zeros(1, dtype=np.int64),
        pat_from=np.full(n_pat, -1, dtype=np.int64), pat_list=np.empty(n_pat, dtype=np.int64),
        par_pattern=np.full(shape, -1, dtype=np.int64), par_trip=np.full(shape, -1, dtype=np.int64),
        par_board=np.full(shape, -1, dtype=np.int64), par_from=np.full(shape, -1, dtype=np.int64),
    )
    return SearchState(*(arrays[name] for name in _STATE_FIELDS))


def _reverse_blocks(start: np.ndarray, size: np.ndarray) -> np.ndarray:
    """Index that reverses each block ``[start[b], start[b] + size[b])`` of a flat array."""
    block = np.repeat(np.arange(len(size)), size)
    offset = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    return (start[block] + size[block] - 1 - offset).astype(np.int64)


def mirror(data: TransitData) -> TransitData:
    """The timetable seen backwards in time, for latest-departure (arrive-by) searches.

    A forward search on the mirror from a target at time ``-T`` finds, as earliest arrival
    ``-t`` at a stop, the latest time ``t`` one can be there and still reach the target by ``T``:
    every trip runs its stops in reverse order with times negated, alighting and boarding swap
    roles, and the board slack (needed before a forward boarding, i.e. after a mirrored
    alighting) is added to the mirrored arrival times. Trips stay in pattern order reversed, so
    no trip overtakes another and the earliest-trip search still works. Walking transfers keep
    their direction: the walk from ``s`` to ``q`` stands for the walk back.
    """
    n_sp = np.diff(data.pattern_stop_start)
    n_trips = np.diff(data.pattern_trip_start)
    at_stop = _reverse_blocks(data.pattern_stop_start[:-1], n_sp)
    at_time = _reverse_blocks(data.pattern_time_start, n_sp * n_trips)
    pos = n_sp[data.stop_patterns] - 1 - data.stop_pattern_pos
    return TransitData.build(**{
        **data.fields(),
        "pattern_stops": data.pattern_stops[at_stop],
        "pattern_pickup": data.pattern_dropoff[at_stop],
        "pattern_dropoff": data.pattern_pickup[at_stop],
        "arr": data.board_slack - data.dep[at_time].astype(np.int64),
        "dep": -data.arr[at_time].astype(np.int64),
        "stop_pattern_pos": pos,
        "board_slack": 0,
    })


@numba.njit(cache=True, nogil=True)
def _earliest_trip(dep: np.ndarray, base: int, n_stops_p: int, pos: int,
                   lo: int, hi: int, ready: int) -> int:
    """First trip index in [lo, hi) whose departure at position ``pos`` is >= ``ready``."""
    while lo < hi:
        mid = (lo + hi) // 2
        if dep[base + mid * n_stops_p + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True, nogil=True)
def _push(ev: np.ndarray, n: int, a: int, b: int, c: int) -> np.ndarray:
    """Append the event ``(a, b, c)`` as column ``n`` of ``ev`` (3 × capacity), doubling it when
    full; returns the (possibly new) buffer."""
    if n == ev.shape[1]:
        grown = np.empty((3, 2 * ev.shape[1]), dtype=np.int64)
        grown[:, :n] = ev
        ev = grown
    ev[0, n] = a
    ev[1, n] = b
    ev[2, n] = c
    return ev


# The helpers below copy the structures' arrays into local variables first: a local array
# cannot alias the structure's own memory, so the compiler keeps its data pointer in a register
# instead of reloading it after every store into an array.


@numba.njit(cache=True, nogil=True, inline="always")
def _add(flag: np.ndarray, items: np.ndarray, n: int, s: int) -> int:
    """Put ``s`` into the set (``flag``, ``items[:n]``); returns the new size."""
    if flag[s]:
        return n
    flag[s] = True
    items[n] = s
    return n + 1


@numba.njit(cache=True, nogil=True, inline="always")
def _touch(touched: np.ndarray, touched_list: np.ndarray, n_touched: np.ndarray,
           s: int) -> None:
    """Remember that the labels of stop ``s`` changed (reset by the next search)."""
    if not touched[s]:
        touched[s] = True
        touched_list[n_touched[0]] = s
        n_touched[0] += 1


@numba.njit(cache=True, nogil=True)
def _reset(state: SearchState) -> None:
    """Labels back to ``INF`` for the stops the previous search reached."""
    walk_lbl, ride_lbl, best_ride = state.walk_lbl, state.ride_lbl, state.best_ride
    touched, touched_list, n_touched = state.touched, state.touched_list, state.n_touched
    if 8 * n_touched[0] > len(touched):  # most stops: filling is faster than visiting them
        walk_lbl[:, :] = INF
        ride_lbl[:, :] = INF
        best_ride[:] = INF
        for i in range(n_touched[0]):
            touched[touched_list[i]] = False
    else:
        for i in range(n_touched[0]):
            s = touched_list[i]
            touched[s] = False
            for k in range(walk_lbl.shape[0]):
                walk_lbl[k, s] = INF
                ride_lbl[k, s] = INF
            best_ride[s] = INF
    n_touched[0] = 0


@numba.njit(cache=True, nogil=True)
def _access(state: SearchState, stops: np.ndarray, seconds: np.ndarray, t: int,
            limit: int, track: bool) -> int:
    """Round 0: walk from the origin; returns the number of marked stops."""
    walk_lbl, par_from = state.walk_lbl, state.par_from
    marked, marked_list = state.marked, state.marked_list
    touched, touched_list, n_touched = state.touched, state.touched_list, state.n_touched
    n_marked = 0
    for a in range(len(stops)):
        s = stops[a]
        v = t + seconds[a]
        if v < walk_lbl[0, s] and v <= limit:
            walk_lbl[0, s] = v
            _touch(touched, touched_list, n_touched, s)
            if track:
                par_from[0, s] = -2
            n_marked = _add(marked, marked_list, n_marked, s)
    return n_marked


@numba.njit(cache=True, nogil=True)
def _collect_patterns(data: TransitData, state: SearchState, n_marked: int) -> int:
    """Patterns through the marked stops, each from its earliest marked position; unmarks."""
    sp_start, sp_pattern, sp_pos = data.stop_pattern_start, data.stop_patterns, data.stop_pattern_pos
    marked, marked_list = state.marked, state.marked_list
    pat_from, pat_list = state.pat_from, state.pat_list
    n_pl = 0
    for mi in range(n_marked):
        s = marked_list[mi]
        marked[s] = False
        for j in range(sp_start[s], sp_start[s + 1]):
            p = sp_pattern[j]
            pos = sp_pos[j]
            if pat_from[p] < 0:
                pat_from[p] = pos
                pat_list[n_pl] = p
                n_pl += 1
            elif pos < pat_from[p]:
                pat_from[p] = pos
    return n_pl


@numba.njit(cache=True, nogil=True)
def _scan_patterns(data: TransitData, state: SearchState, n_pl: int, k: int, limit: int,
                   bound: np.ndarray, use_bound: bool, track: bool) -> int:
    """Ride the collected patterns in round ``k``, each from its first marked position; returns
    the number of stops whose ride label improved. With ``use_bound``, ``bound[s]`` caps the
    departure of a trip boarded at stop ``s``."""
    stop_start, stops = data.pattern_stop_start, data.pattern_stops
    pickup, dropoff, slack = data.pattern_pickup, data.pattern_dropoff, data.board_slack
    trip_start, time_start, arr, dep = (data.pattern_trip_start, data.pattern_time_start,
                                        data.arr, data.dep)
    walk_lbl, ride_lbl = state.walk_lbl, state.ride_lbl
    pat_from, pat_list = state.pat_from, state.pat_list
    ride_improved, ride_list = state.ride_improved, state.ride_list
    par_pattern, par_trip, par_board = state.par_pattern, state.par_trip, state.par_board
    n_ride = 0
    for pi in range(n_pl):
        p = pat_list[pi]
        first = pat_from[p]
        pat_from[p] = -1
        s0 = stop_start[p]
        n_sp = stop_start[p + 1] - s0
        n_trips = trip_start[p + 1] - trip_start[p]
        base = time_start[p]
        trip = -1
        board_pos = -1
        for i in range(first, n_sp):
            s = stops[s0 + i]
            if trip >= 0 and dropoff[s0 + i] == 1:
                a_t = np.int64(arr[base + trip * n_sp + i])
                if a_t < ride_lbl[k, s] and a_t <= limit:
                    ride_lbl[k, s] = a_t  # touched in _transfers
                    if track:
                        par_pattern[k, s] = p
                        par_trip[k, s] = trip
                        par_board[k, s] = board_pos
                    n_ride = _add(ride_improved, ride_list, n_ride, s)
            if pickup[s0 + i] == 1:
                w = walk_lbl[k - 1, s]
                if w < INF:
                    ready = w + slack
                    hi = n_trips if trip < 0 else trip
                    if trip < 0 or ready <= dep[base + trip * n_sp + i]:
                        cand = _earliest_trip(dep, base, n_sp, i, 0, hi, ready)
                        if cand < hi and (not use_bound
                                          or dep[base + cand * n_sp + i] <= bound[s]):
                            trip = cand
                            board_pos = i
    return n_ride


@numba.njit(cache=True, nogil=True)
def _transfers(data: TransitData, state: SearchState, n_ride: int, k: int,
               limit: int, n_egress: int, track: bool) -> tuple[int, int]:
    """Walking transfers after the rides of round ``k``; marks the stops for the next round.

    Returns the number of marked stops and of stops whose best ride arrival improved (egress).
    """
    fp_start, fp_to, fp_time = data.fp_start, data.fp_to, data.fp_time
    walk_lbl, ride_lbl, best_ride, par_from = (state.walk_lbl, state.ride_lbl, state.best_ride,
                                               state.par_from)
    ride_improved, ride_list = state.ride_improved, state.ride_list
    egress_dirty, egress_list = state.egress_dirty, state.egress_list
    next_marked, next_list = state.next_marked, state.next_list
    marked, marked_list = state.marked, state.marked_list
    touched, touched_list, n_touched = state.touched, state.touched_list, state.n_touched
    n_marked = 0
    for ri in range(n_ride):
        s = ride_list[ri]
        ride_improved[s] = False
        _touch(touched, touched_list, n_touched, s)
        v = ride_lbl[k, s]
        if v < best_ride[s]:
            best_ride[s] = v
            n_egress = _add(egress_dirty, egress_list, n_egress, s)
        if v < walk_lbl[k, s]:
            walk_lbl[k, s] = v
            if track:
                par_from[k, s] = -1
            n_marked = _add(next_marked, next_list, n_marked, s)
        for f in range(fp_start[s], fp_start[s + 1]):
            q = fp_to[f]
            vq = v + fp_time[f]
            if vq < walk_lbl[k, q] and vq <= limit:
                walk_lbl[k, q] = vq
                _touch(touched, touched_list, n_touched, q)
                if track:
                    par_from[k, q] = s
                n_marked = _add(next_marked, next_list, n_marked, q)
    for mi in range(n_marked):
        s = next_list[mi]
        next_marked[s] = False
        marked[s] = True
        marked_list[mi] = s
    return n_marked, n_egress


@numba.njit(cache=True, nogil=True)
def _egress(state: SearchState, egress: Csr, n_egress: int, minute: int,
            limit: int, ev: np.ndarray, n_ev: int) -> tuple[np.ndarray, int]:
    """Walk to the destinations from stops whose best ride arrival improved; records events."""
    start, to, time = egress
    best_ride, dest_arr = state.best_ride, state.dest_arr
    egress_dirty, egress_list = state.egress_dirty, state.egress_list
    for ei in range(n_egress):
        s = egress_list[ei]
        egress_dirty[s] = False
        v = best_ride[s]
        for e in range(start[s], start[s + 1]):
            d = to[e]
            vd = v + time[e]
            if vd < dest_arr[d] and vd <= limit:
                dest_arr[d] = vd
                ev = _push(ev, n_ev, d, minute, vd)
                n_ev += 1
    return ev, n_ev


@numba.njit(cache=True, nogil=True)
def range_raptor(data: TransitData, state: SearchState, access_stops: np.ndarray,
                 access_time: np.ndarray, egress: Csr, window: Window, bound: np.ndarray,
                 track: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Arrival events at destinations over a departure window (transit legs only).

    Parameters
    ----------
    data
        The timetable and transfers (or their :func:`mirror`).
    state
        A state from :func:`new_state` for ``data`` and this number of destinations; reused
        from search to search. After the search it holds the labels (and, with ``track``, how
        they were reached).
    access_stops, access_time
        Stops walked to from the origin and the walking seconds.
    egress
        For each stop, the destinations walked to and the seconds.
    window
        Departures ``t_first + i * step`` for ``i < n_minutes``; later arrivals than
        ``max_time`` after a departure are not recorded.
    bound
        Empty, or per stop the latest departure of a trip boarded there in round 1 (the
        earliest-arrival bound of the reverse search).
    track
        When True, record how each label was reached (for journey reconstruction):
        ``par_pattern/par_trip/par_board[k, s]`` the ride ending at ``s`` in round ``k`` (pattern,
        trip index within it, boarding position), ``par_from[k, s]`` how the walking label was
        reached (-2 walk from the origin, -1 the ride ending at ``s``, else the stop walked from).

    Returns
    -------
    ev_dest, ev_minute, ev_arr
        Events in the order found (minutes descending): from minute ``ev_minute`` downwards
        (until the next event of the same destination) the earliest arrival at ``ev_dest`` by
        transit is ``ev_arr``. Direct walking from the origin is not included.
    """
    _reset(state)
    max_rides = state.walk_lbl.shape[0] - 1
    marked, marked_list, dest_arr = state.marked, state.marked_list, state.dest_arr
    ev = np.empty((3, max(1024, 2 * len(dest_arr))), dtype=np.int64)
    n_ev = 0
    for minute in range(window.n_minutes - 1, -1, -1):
        t = window.t_first + minute * window.step
        limit = t + window.max_time
        n_marked = _access(state, access_stops, access_time, t, limit, track)
        n_egress = 0
        for k in range(1, max_rides + 1):
            if n_marked == 0:
                break
            n_pl = _collect_patterns(data, state, n_marked)
            n_ride = _scan_patterns(data, state, n_pl, k, limit, bound,
                                    k == 1 and len(bound) > 0, track)
            n_marked, n_egress = _transfers(data, state, n_ride, k, limit, n_egress, track)
        for mi in range(n_marked):
            marked[marked_list[mi]] = False
        ev, n_ev = _egress(state, egress, n_egress, minute, limit, ev, n_ev)
    for e in range(n_ev):  # the next search starts from unreached destinations
        dest_arr[ev[0, e]] = INF
    return ev[0, :n_ev], ev[1, :n_ev], ev[2, :n_ev]


@numba.njit(cache=True, nogil=True)
def _count_at_most(v, run_c, run_lo, run_hi, nr, step):
    """Number of minutes whose transit travel time is <= v (runs of arithmetic sequences)."""
    total = 0
    for j in range(nr):
        # value at minute i is run_c[j] - step * i: <= v  <=>  i >= ceil((run_c[j] - v) / step)
        first = -((v - run_c[j]) // step)
        if first < run_lo[j]:
            first = run_lo[j]
        if first <= run_hi[j]:
            total += run_hi[j] - first + 1
    return total


@numba.njit(cache=True, nogil=True)
def _kth_smallest(k, n_fin, run_c, run_lo, run_hi, nr, step, ptr):
    """The k-th smallest (1-based) of the runs' values, by merging from the nearer end.

    Run ``j`` holds ``run_c[j] - step * i`` for ``i`` in ``[run_lo[j], run_hi[j]]``: ascending as
    ``i`` falls. Merging costs ``k`` (or ``n_fin - k + 1`` from the top) steps over ``nr`` runs.
    """
    if k <= n_fin - k + 1:
        for j in range(nr):
            ptr[j] = run_hi[j]
        v = INF
        for _ in range(k):
            bj = -1
            v = INF
            for j in range(nr):
                if ptr[j] >= run_lo[j]:
                    x = run_c[j] - step * ptr[j]
                    if x < v:
                        v = x
                        bj = j
            ptr[bj] -= 1
        return v
    for j in range(nr):
        ptr[j] = run_lo[j]
    v = -INF
    for _ in range(n_fin - k + 1):
        bj = -1
        v = -INF
        for j in range(nr):
            if ptr[j] <= run_hi[j]:
                x = run_c[j] - step * ptr[j]
                if x > v:
                    v = x
                    bj = j
        ptr[bj] += 1
    return v


@numba.njit(cache=True, nogil=True)
def _run_sum(c, lo, hi, step):
    """Sum of c - step * i for i = lo .. hi (0 when empty)."""
    if lo > hi:
        return 0.0
    n = hi - lo + 1
    return n * float(c) - step * (lo + hi) * n / 2.0


@numba.njit(cache=True, nogil=True)
def _group_by_destination(ev_dest, n_dest):
    """Counting sort of the events by destination (keeps the descending-minute order)."""
    counts = np.zeros(n_dest + 1, dtype=np.int64)
    for e in range(len(ev_dest)):
        counts[ev_dest[e] + 1] += 1
    start = np.cumsum(counts)
    fill = start[:-1].copy()
    order = np.empty(len(ev_dest), dtype=np.int64)
    for e in range(len(ev_dest)):
        d = ev_dest[e]
        order[fill[d]] = e
        fill[d] += 1
    return start, order


@numba.njit(cache=True, nogil=True)
def _direct_walk(direct_dest, direct_time, n_dest):
    """Shortest direct walk per destination (``INF`` where none)."""
    walk = np.full(n_dest, INF, dtype=np.int64)
    for j in range(len(direct_dest)):
        if direct_time[j] < walk[direct_dest[j]]:
            walk[direct_dest[j]] = direct_time[j]
    return walk


@numba.njit(cache=True, nogil=True)
def _runs(ev_minute, ev_arr, order, lo, hi, t_first, step, run_c, run_lo, run_hi):
    """The runs of one destination's events: returns (runs, finite minutes, smallest value)."""
    nr = 0
    n_fin = 0
    vmin = INF
    for e in range(lo, hi):
        m = ev_minute[order[e]]
        nxt = ev_minute[order[e + 1]] if e + 1 < hi else -1
        if m > nxt:
            c = ev_arr[order[e]] - t_first
            run_c[nr] = c
            run_lo[nr] = nxt + 1
            run_hi[nr] = m
            n_fin += m - nxt
            if c - step * m < vmin:
                vmin = c - step * m
            nr += 1
    return nr, n_fin, vmin


@numba.njit(cache=True, nogil=True)
def _mean(w, run_c, run_lo, run_hi, nr, n_fin, n_minutes, step, max_time, n_reached):
    """Mean travel time over the minutes that reach the destination within ``max_time``."""
    total = 0.0
    bound = w if w < INF else max_time
    for j in range(nr):
        # values <= bound from minute `first` on; earlier minutes give w (or drop out)
        first = -((bound - run_c[j]) // step)
        if first < run_lo[j]:
            first = run_lo[j]
        total += _run_sum(run_c[j], first, run_hi[j], step)
        if w < INF and first > run_lo[j]:
            total += (min(first, run_hi[j] + 1) - run_lo[j]) * float(w)
    if w < INF:
        total += (n_minutes - n_fin) * float(w)
    return total / n_reached


@numba.njit(cache=True, nogil=True)
def reduce_events(events, n_dest, direct, window, ranks, want_mean):
    """Per destination: nearest-rank percentiles, best and mean travel time over the window.

    ``events`` is what :func:`range_raptor` returns, ``direct`` the direct walks ``(destination
    indices, seconds)``. Travel time at minute ``i`` is ``min(arrival_i - (t_first + i*step),
    direct walk)``. Percentile ``p`` is the value of 1-based rank ``ranks[j] = ceil(p/100 * n)``
    in the sorted list of the n minutes' travel times (unreachable = infinite). Values above
    ``max_time`` count as unreachable. Returns ``(pct[n_dest, len(ranks)], best[n_dest],
    mean[n_dest], n_reached[n_dest])`` in seconds; ``INF`` where unreachable, mean NaN where
    never reached.

    The minutes' values are never sorted: between two events a destination's transit travel time
    grows by ``step`` per earlier minute, so the values form a few ascending runs, and the k-th
    smallest is found by merging the runs from the nearer end. Taking the minimum
    with the direct walk and dropping values above ``max_time`` are non-decreasing maps, which
    commute with nearest-rank percentiles, so they are applied to the result.
    """
    ev_dest, ev_minute, ev_arr = events
    t_first, n_minutes, step, max_time = window
    n_r = len(ranks)
    pct = np.full((n_dest, n_r), INF, dtype=np.int64)
    best = np.full(n_dest, INF, dtype=np.int64)
    mean = np.full(n_dest, np.nan, dtype=np.float64)
    n_reached = np.zeros(n_dest, dtype=np.int64)
    start, order = _group_by_destination(ev_dest, n_dest)
    walk = _direct_walk(direct[0], direct[1], n_dest)
    run_c = np.empty(n_minutes, dtype=np.int64)
    run_lo = np.empty(n_minutes, dtype=np.int64)
    run_hi = np.empty(n_minutes, dtype=np.int64)
    ptr = np.empty(n_minutes, dtype=np.int64)
    for d in range(n_dest):
        w = walk[d] if walk[d] <= max_time else INF
        lo = start[d]
        hi = start[d + 1]
        if lo == hi and w >= INF:
            continue
        nr, n_fin, vmin = _runs(ev_minute, ev_arr, order, lo, hi, t_first, step, run_c,
                                   run_lo, run_hi)
        for r in range(n_r):
            k = ranks[r]
            raw = INF
            if k <= n_fin:
                raw = _kth_smallest(k, n_fin, run_c, run_lo, run_hi, nr, step, ptr)
            v = raw if raw < w else w
            pct[d, r] = v if v <= max_time else INF
        b0 = vmin if vmin < w else w
        best[d] = b0 if b0 <= max_time else INF
        if w < INF:
            n_reached[d] = n_minutes
        else:
            n_reached[d] = _count_at_most(max_time, run_c, run_lo, run_hi, nr, step)
        if want_mean and n_reached[d] > 0:
            mean[d] = _mean(w, run_c, run_lo, run_hi, nr, n_fin, n_minutes, step, max_time,
                            n_reached[d])
    return pct, best, mean, n_reached


@numba.njit(cache=True, nogil=True)
def expand_events(events, n_dest, direct, window):
    """Travel time per departure minute and destination, ``(n_minutes, n_dest)`` seconds.

    The same semantics as :func:`reduce_events` before sorting: ``INF`` where unreachable within
    ``max_time``. Meant for explaining and checking results, not for large queries.
    """
    ev_dest, ev_minute, ev_arr = events
    t_first, n_minutes, step, max_time = window
    out = np.full((n_minutes, n_dest), INF, dtype=np.int64)
    arr_now = np.full(n_dest, INF, dtype=np.int64)
    walk = _direct_walk(direct[0], direct[1], n_dest)
    e = 0
    for i in range(n_minutes - 1, -1, -1):
        while e < len(ev_dest) and ev_minute[e] == i:
            if ev_arr[e] < arr_now[ev_dest[e]]:
                arr_now[ev_dest[e]] = ev_arr[e]
            e += 1
        t = t_first + i * step
        for d in range(n_dest):
            tt = arr_now[d] - t if arr_now[d] < INF else INF
            if walk[d] < tt:
                tt = walk[d]
            if tt > max_time:
                tt = INF
            out[i, d] = tt
    return out
