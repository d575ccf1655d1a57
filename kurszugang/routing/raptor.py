"""Numba kernels: range-RAPTOR over a departure window and the reduction to percentiles.

Only flat numpy arrays cross into these functions; :mod:`kurszugang.routing.router` prepares them.
Times are int32/int64 seconds after midnight of the service date; ``INF`` marks "not reached".

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

import numba
import numpy as np

INF = np.int64(2**40)


@numba.njit(cache=True, nogil=True)
def _earliest_trip(dep: np.ndarray, base: np.int64, n_stops_p: np.int64, pos: np.int64,
                   lo: np.int64, hi: np.int64, ready: np.int64) -> np.int64:
    """First trip index in [lo, hi) whose departure at position ``pos`` is >= ``ready``."""
    while lo < hi:
        mid = (lo + hi) // 2
        if dep[base + mid * n_stops_p + pos] >= ready:
            hi = mid
        else:
            lo = mid + 1
    return lo


@numba.njit(cache=True, nogil=True)
def _push(ev: np.ndarray, n: np.int64, a: np.int64, b: np.int64, c: np.int64) -> np.ndarray:
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


@numba.njit(cache=True, nogil=True)
def range_raptor(
    # timetable
    pattern_stop_start, pattern_stops, pattern_pickup, pattern_dropoff,
    pattern_trip_start, pattern_time_start, arr, dep,
    stop_pattern_start, stop_patterns, stop_pattern_pos,
    # walking: transfers between stops (CSR), access from the origin, egress to destinations (CSR)
    fp_start, fp_to, fp_time,
    access_stops, access_time,
    eg_start, eg_dest, eg_time, n_dest,
    # query
    t_first, n_minutes, step, slack, max_rides, max_time,
    # journey tracking (for explaining one departure): arrays (max_rides + 1, n_stops) or (1, 1)
    track, par_pattern, par_trip, par_board, par_from, out_ride, out_walk,
):
    """Arrival events at destinations over a departure window (transit legs only).

    Parameters
    ----------
    t_first, n_minutes, step
        Departures ``t_first + i * step`` for ``i = 0 .. n_minutes - 1`` (seconds).
    slack
        Board slack (seconds): arrival at a stop + slack <= the trip's departure there.
    max_rides
        Maximum number of vehicles boarded.
    max_time
        Maximum travel time (seconds); later arrivals are not recorded.
    track
        When True, record how each label was reached (for :func:`journey` reconstruction):
        ``par_pattern/par_trip/par_board[k, s]`` the ride ending at ``s`` in round ``k`` (pattern,
        trip index within it, boarding position), ``par_from[k, s]`` how the walking label was
        reached (-2 walk from the origin, -1 the ride ending at ``s``, else the stop walked from);
        ``out_ride``/``out_walk`` receive the final ride and walking labels.

    Returns
    -------
    ev_dest, ev_minute, ev_arr
        Events in the order found (minutes descending): from minute ``ev_minute`` downwards
        (until the next event of the same destination) the earliest arrival at ``ev_dest`` by
        transit is ``ev_arr``. Direct walking from the origin is not included.
    """
    n_stops = len(stop_pattern_start) - 1
    n_pat = len(pattern_stop_start) - 1
    K = max_rides
    walk_lbl = np.full((K + 1, n_stops), INF, dtype=np.int64)
    ride_lbl = np.full((K + 1, n_stops), INF, dtype=np.int64)
    best_ride = np.full(n_stops, INF, dtype=np.int64)
    dest_arr = np.full(n_dest, INF, dtype=np.int64)

    marked = np.zeros(n_stops, dtype=np.bool_)
    marked_list = np.empty(n_stops, dtype=np.int64)
    next_marked = np.zeros(n_stops, dtype=np.bool_)
    next_list = np.empty(n_stops, dtype=np.int64)
    ride_improved = np.zeros(n_stops, dtype=np.bool_)
    ride_list = np.empty(n_stops, dtype=np.int64)
    egress_dirty = np.zeros(n_stops, dtype=np.bool_)
    egress_list = np.empty(n_stops, dtype=np.int64)
    pat_from = np.full(n_pat, -1, dtype=np.int64)
    pat_list = np.empty(n_pat, dtype=np.int64)

    ev = np.empty((3, max(1024, n_dest * 2)), dtype=np.int64)  # destination, minute, arrival
    n_ev = 0

    for minute in range(n_minutes - 1, -1, -1):
        t = t_first + minute * step
        limit = t + max_time
        n_marked = 0
        n_egress = 0
        # Round 0: walk from the origin.
        for a in range(len(access_stops)):
            s = access_stops[a]
            v = t + access_time[a]
            if v < walk_lbl[0, s] and v <= limit:
                walk_lbl[0, s] = v
                if track:
                    par_from[0, s] = -2
                if not marked[s]:
                    marked[s] = True
                    marked_list[n_marked] = s
                    n_marked += 1
        for k in range(1, K + 1):
            if n_marked == 0:
                break
            # Patterns through marked stops, from the earliest marked position.
            n_pl = 0
            for mi in range(n_marked):
                s = marked_list[mi]
                for j in range(stop_pattern_start[s], stop_pattern_start[s + 1]):
                    p = stop_patterns[j]
                    pos = stop_pattern_pos[j]
                    if pat_from[p] < 0:
                        pat_from[p] = pos
                        pat_list[n_pl] = p
                        n_pl += 1
                    elif pos < pat_from[p]:
                        pat_from[p] = pos
            for mi in range(n_marked):
                marked[marked_list[mi]] = False
            n_ride = 0
            for pi in range(n_pl):
                p = pat_list[pi]
                start_pos = pat_from[p]
                pat_from[p] = -1
                s0 = pattern_stop_start[p]
                n_sp = pattern_stop_start[p + 1] - s0
                t_lo = pattern_trip_start[p]
                n_trips = pattern_trip_start[p + 1] - t_lo
                base = pattern_time_start[p]
                trip = np.int64(-1)
                board_pos = np.int64(-1)
                for i in range(start_pos, n_sp):
                    s = pattern_stops[s0 + i]
                    if trip >= 0 and pattern_dropoff[s0 + i] == 1:
                        a_t = np.int64(arr[base + trip * n_sp + i])
                        if a_t < ride_lbl[k, s] and a_t <= limit:
                            ride_lbl[k, s] = a_t
                            if track:
                                par_pattern[k, s] = p
                                par_trip[k, s] = trip
                                par_board[k, s] = board_pos
                            if not ride_improved[s]:
                                ride_improved[s] = True
                                ride_list[n_ride] = s
                                n_ride += 1
                    if pattern_pickup[s0 + i] == 1:
                        w = walk_lbl[k - 1, s]
                        if w < INF:
                            ready = w + slack
                            hi = n_trips if trip < 0 else trip
                            if trip < 0 or ready <= dep[base + trip * n_sp + i]:
                                cand = _earliest_trip(dep, base, n_sp, i, 0, hi, ready)
                                if cand < hi:
                                    trip = cand
                                    board_pos = i
            # Walking transfers after the rides of this round.
            n_marked = 0
            for ri in range(n_ride):
                s = ride_list[ri]
                ride_improved[s] = False
                v = ride_lbl[k, s]
                if v < best_ride[s]:
                    best_ride[s] = v
                    if not egress_dirty[s]:
                        egress_dirty[s] = True
                        egress_list[n_egress] = s
                        n_egress += 1
                if v < walk_lbl[k, s]:
                    walk_lbl[k, s] = v
                    if track:
                        par_from[k, s] = -1
                    if not next_marked[s]:
                        next_marked[s] = True
                        next_list[n_marked] = s
                        n_marked += 1
                for f in range(fp_start[s], fp_start[s + 1]):
                    q = fp_to[f]
                    vq = v + fp_time[f]
                    if vq < walk_lbl[k, q] and vq <= limit:
                        walk_lbl[k, q] = vq
                        if track:
                            par_from[k, q] = s
                        if not next_marked[q]:
                            next_marked[q] = True
                            next_list[n_marked] = q
                            n_marked += 1
            for mi in range(n_marked):
                s = next_list[mi]
                next_marked[s] = False
                marked[s] = True
                marked_list[mi] = s
        for mi in range(n_marked):
            marked[marked_list[mi]] = False
        # Egress from stops whose best ride arrival improved.
        for ei in range(n_egress):
            s = egress_list[ei]
            egress_dirty[s] = False
            v = best_ride[s]
            for e in range(eg_start[s], eg_start[s + 1]):
                d = eg_dest[e]
                vd = v + eg_time[e]
                if vd < dest_arr[d]:
                    dest_arr[d] = vd
                    ev = _push(ev, n_ev, d, minute, vd)
                    n_ev += 1
    if track:
        out_ride[:, :] = ride_lbl
        out_walk[:, :] = walk_lbl
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
def reduce_events(ev_dest, ev_minute, ev_arr, n_dest, direct_dest, direct_time,
                  t_first, n_minutes, step, max_time, ranks, want_mean):
    """Per destination: nearest-rank percentiles, best and mean travel time over the window.

    Travel time at minute ``i`` is ``min(arrival_i - (t_first + i*step), direct walk)``. Percentile
    ``p`` is the value of 1-based rank ``ranks[j] = ceil(p/100 * n)`` in the sorted list of the n
    minutes' travel times (unreachable = infinite). Values above ``max_time`` count as
    unreachable. Returns ``(pct[n_dest, len(ranks)], best[n_dest], mean[n_dest],
    n_reached[n_dest])`` in seconds; ``INF`` where unreachable, mean NaN where never reached.

    The minutes' values are never sorted: between two events a destination's transit travel time
    grows by ``step`` per earlier minute, so the values form a few ascending runs, and the k-th
    smallest is found by merging the runs from the nearer end. Taking the minimum
    with the direct walk and dropping values above ``max_time`` are non-decreasing maps, which
    commute with nearest-rank percentiles, so they are applied to the result.
    """
    n_r = len(ranks)
    pct = np.full((n_dest, n_r), INF, dtype=np.int64)
    best = np.full(n_dest, INF, dtype=np.int64)
    mean = np.full(n_dest, np.nan, dtype=np.float64)
    n_reached = np.zeros(n_dest, dtype=np.int64)
    # Group events by destination (counting sort keeps the descending-minute order).
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
    walk = np.full(n_dest, INF, dtype=np.int64)
    for j in range(len(direct_dest)):
        if direct_time[j] < walk[direct_dest[j]]:
            walk[direct_dest[j]] = direct_time[j]
    run_c = np.empty(n_minutes, dtype=np.int64)
    run_lo = np.empty(n_minutes, dtype=np.int64)
    run_hi = np.empty(n_minutes, dtype=np.int64)
    ptr = np.empty(n_minutes, dtype=np.int64)
    for d in range(n_dest):
        w = walk[d]
        if w > max_time:
            w = INF
        lo = start[d]
        hi = start[d + 1]
        if lo == hi and w >= INF:
            continue
        nr = 0
        n_fin = 0
        vmin = INF
        vmax = -INF
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
                if c - step * (nxt + 1) > vmax:
                    vmax = c - step * (nxt + 1)
                nr += 1
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
            mean[d] = total / n_reached[d]
    return pct, best, mean, n_reached


@numba.njit(cache=True, nogil=True)
def expand_events(ev_dest, ev_minute, ev_arr, n_dest, direct_dest, direct_time,
                  t_first, n_minutes, step, max_time):
    """Travel time per departure minute and destination, ``(n_minutes, n_dest)`` seconds.

    The same semantics as :func:`reduce_events` before sorting: ``INF`` where unreachable within
    ``max_time``. Meant for explaining and checking results, not for large queries.
    """
    out = np.full((n_minutes, n_dest), INF, dtype=np.int64)
    arr_now = np.full(n_dest, INF, dtype=np.int64)
    walk = np.full(n_dest, INF, dtype=np.int64)
    for j in range(len(direct_dest)):
        if direct_time[j] < walk[direct_dest[j]]:
            walk[direct_dest[j]] = direct_time[j]
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


@numba.njit(cache=True, nogil=True)
def _latest_trip(arr: np.ndarray, base: np.int64, n_stops_p: np.int64, pos: np.int64,
                 lo: np.int64, hi: np.int64, limit: np.int64) -> np.int64:
    """Last trip index in [lo, hi) whose arrival at position ``pos`` is <= ``limit`` (lo-1 if none)."""
    a = lo
    b = hi
    while a < b:
        mid = (a + b) // 2
        if arr[base + mid * n_stops_p + pos] <= limit:
            a = mid + 1
        else:
            b = mid
    return a - 1


@numba.njit(cache=True, nogil=True)
def reverse_range_raptor(
    pattern_stop_start, pattern_stops, pattern_pickup, pattern_dropoff,
    pattern_trip_start, pattern_time_start, arr, dep,
    stop_pattern_start, stop_patterns, stop_pattern_pos,
    fp_start, fp_to, fp_time,
    target_stops, target_time,
    src_start, src_origin, src_time, n_origin,
    t_first, n_minutes, step, slack, max_rides, max_time, earliest_arrival,
):
    """Latest departures from origins that reach one target by each deadline of a window.

    The mirror image of :func:`range_raptor`: labels are the latest moment one can be at a stop
    and still reach the target by the deadline ``t_first + i * step``; deadlines are processed from
    the earliest to the latest, keeping labels (a later deadline allows everything an earlier
    one does).

    Parameters
    ----------
    target_stops, target_time
        Stops from which the target is walked to, and the walking seconds.
    src_start, src_origin, src_time
        For each stop (CSR): origins that walk to it and the walking seconds (access legs).
    earliest_arrival
        Journeys must reach the target at or after this time (seconds); ``-INF`` for no bound.
    max_time
        Departures more than this before the deadline are not recorded.

    Returns
    -------
    ev_origin, ev_minute, ev_dep
        Events in the order found (deadline minutes ascending): from deadline ``ev_minute`` on,
        the latest departure from ``ev_origin`` by transit is ``ev_dep`` (direct walks excluded).
    """
    n_stops = len(stop_pattern_start) - 1
    n_pat = len(pattern_stop_start) - 1
    K = max_rides
    NEG = -INF
    walk_lbl = np.full((K + 1, n_stops), NEG, dtype=np.int64)
    ride_lbl = np.full((K + 1, n_stops), NEG, dtype=np.int64)
    best_ride = np.full(n_stops, NEG, dtype=np.int64)
    origin_dep = np.full(n_origin, NEG, dtype=np.int64)
    lower = np.full(n_stops, NEG, dtype=np.int64)
    for a in range(len(target_stops)):
        lb = earliest_arrival - target_time[a]
        if lb > lower[target_stops[a]]:
            lower[target_stops[a]] = lb

    marked = np.zeros(n_stops, dtype=np.bool_)
    marked_list = np.empty(n_stops, dtype=np.int64)
    next_marked = np.zeros(n_stops, dtype=np.bool_)
    next_list = np.empty(n_stops, dtype=np.int64)
    ride_improved = np.zeros(n_stops, dtype=np.bool_)
    ride_list = np.empty(n_stops, dtype=np.int64)
    src_dirty = np.zeros(n_stops, dtype=np.bool_)
    src_list = np.empty(n_stops, dtype=np.int64)
    pat_from = np.full(n_pat, -1, dtype=np.int64)
    pat_list = np.empty(n_pat, dtype=np.int64)

    ev = np.empty((3, max(1024, n_origin * 2)), dtype=np.int64)  # origin, minute, departure
    n_ev = 0

    for minute in range(n_minutes):
        t = t_first + minute * step
        limit = t - max_time
        n_marked = 0
        n_src = 0
        # Round 0: walk to the target (the last leg of the journey).
        for a in range(len(target_stops)):
            s = target_stops[a]
            v = t - target_time[a]
            if v > walk_lbl[0, s] and v >= limit:
                walk_lbl[0, s] = v
                if not marked[s]:
                    marked[s] = True
                    marked_list[n_marked] = s
                    n_marked += 1
        for k in range(1, K + 1):
            if n_marked == 0:
                break
            n_pl = 0
            for mi in range(n_marked):
                s = marked_list[mi]
                for j in range(stop_pattern_start[s], stop_pattern_start[s + 1]):
                    p = stop_patterns[j]
                    pos = stop_pattern_pos[j]
                    if pat_from[p] < 0:
                        pat_from[p] = pos
                        pat_list[n_pl] = p
                        n_pl += 1
                    elif pos > pat_from[p]:
                        pat_from[p] = pos
            for mi in range(n_marked):
                marked[marked_list[mi]] = False
            n_ride = 0
            for pi in range(n_pl):
                p = pat_list[pi]
                start_pos = pat_from[p]
                pat_from[p] = -1
                s0 = pattern_stop_start[p]
                n_sp = pattern_stop_start[p + 1] - s0
                t_lo = pattern_trip_start[p]
                n_trips = pattern_trip_start[p + 1] - t_lo
                base = pattern_time_start[p]
                trip = np.int64(-1)
                for i in range(start_pos, -1, -1):
                    s = pattern_stops[s0 + i]
                    # Forward boarding at s: be there `slack` before the departure.
                    if trip >= 0 and pattern_pickup[s0 + i] == 1:
                        d_t = np.int64(dep[base + trip * n_sp + i]) - slack
                        if d_t > ride_lbl[k, s] and d_t >= limit:
                            ride_lbl[k, s] = d_t
                            if not ride_improved[s]:
                                ride_improved[s] = True
                                ride_list[n_ride] = s
                                n_ride += 1
                    # Forward alighting at s: the latest trip arriving by the label.
                    if pattern_dropoff[s0 + i] == 1:
                        w = walk_lbl[k - 1, s]
                        if w > NEG:
                            lo_arr = lower[s] if k == 1 else NEG
                            if trip < 0 or w >= arr[base + trip * n_sp + i]:
                                lo_t = 0 if trip < 0 else trip + 1
                                cand = _latest_trip(arr, base, n_sp, i, lo_t, n_trips, w)
                                if cand >= lo_t and arr[base + cand * n_sp + i] >= lo_arr:
                                    trip = cand
            n_marked = 0
            for ri in range(n_ride):
                s = ride_list[ri]
                ride_improved[s] = False
                v = ride_lbl[k, s]
                if v > best_ride[s]:
                    best_ride[s] = v
                    if not src_dirty[s]:
                        src_dirty[s] = True
                        src_list[n_src] = s
                        n_src += 1
                if v > walk_lbl[k, s]:
                    walk_lbl[k, s] = v
                    if not next_marked[s]:
                        next_marked[s] = True
                        next_list[n_marked] = s
                        n_marked += 1
                for f in range(fp_start[s], fp_start[s + 1]):
                    q = fp_to[f]
                    vq = v - fp_time[f]
                    if vq > walk_lbl[k, q] and vq >= limit:
                        walk_lbl[k, q] = vq
                        if not next_marked[q]:
                            next_marked[q] = True
                            next_list[n_marked] = q
                            n_marked += 1
            for mi in range(n_marked):
                s = next_list[mi]
                next_marked[s] = False
                marked[s] = True
                marked_list[mi] = s
        for mi in range(n_marked):
            marked[marked_list[mi]] = False
        # Access: walk from the origins to stops whose latest boarding time improved.
        for si in range(n_src):
            s = src_list[si]
            src_dirty[s] = False
            v = best_ride[s]
            for e in range(src_start[s], src_start[s + 1]):
                o = src_origin[e]
                vo = v - src_time[e]
                if vo > origin_dep[o] and vo >= limit:
                    origin_dep[o] = vo
                    ev = _push(ev, n_ev, o, minute, vo)
                    n_ev += 1
    return ev[0, :n_ev], ev[1, :n_ev], ev[2, :n_ev]
