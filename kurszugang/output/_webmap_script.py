"""The web map's own script (layer control, filters, "von hier aus", search), as one string.

It reads its data from the page's ``<script type="application/json" id="kz-data">`` block and
the layer objects from ``window.kurszugangKarte``; every text that comes from an input is put
into the page with ``textContent`` or through :js:`esc`, never as markup.
"""

PAGE_SCRIPT = r"""
(function () {
'use strict';
var K = window.kurszugangKarte, D = JSON.parse(document.getElementById('kz-data').textContent);
var T = D.t, map = K.map;
K.data = D;
function collapseInfo() { var d = document.querySelector('.kz-info details'); if (d) d.open = false; }
function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
function clock(s) { if (s == null) return '–'; s = Math.round(s); var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60); return ('0' + h).slice(-2) + ':' + ('0' + m).slice(-2); }
function mins(s) { return Math.round(s / 60) + ' ' + T.min; }
function metres(m) { return Number(Math.round(m)).toLocaleString(D.locale) + ' m'; }
K.esc = esc;
// features are added here (styled from their properties, className included), not by folium
Object.keys(D.geo).forEach(function (k) { var l = K.refs[k]; l.options.style = function (f) { return f.properties.style; }; l.addData(D.geo[k]); });

// ---- layer control: groups, collapsed at start --------------------------------------------
function addItem(box, item, type, group) {
  var label = el('label'), input = el('input');
  input.type = type === 'radio' ? 'radio' : 'checkbox'; if (type === 'radio') input.name = 'kz-' + group;
  var layer = item.id ? K.refs[item.id] : null;
  input.checked = !!item.show;
  label.setAttribute('data-kz-layer', item.name);
  input.addEventListener('change', function () {
    if (type === 'radio') {
      box.querySelectorAll('input').forEach(function (o) { var l = K.refs[o.getAttribute('data-id')]; if (l && map.hasLayer(l) && !o.checked) map.removeLayer(l); });
    }
    if (layer) { if (input.checked) map.addLayer(layer); else map.removeLayer(layer); }
  });
  if (item.id) input.setAttribute('data-id', item.id);
  var name = el('span', null, ' ' + item.name);
  if (item.swatch) { var sw = el('span', 'kz-swatch'); sw.style.background = item.swatch; label.appendChild(input); label.appendChild(sw); }
  else if (item.symbol) { var sy = el('span', 'kz-sym', item.symbol[0]); sy.style.background = item.symbol[1]; label.appendChild(input); label.appendChild(sy); }
  else label.appendChild(input);
  label.appendChild(name);
  box.appendChild(label);
}
var LayerControl = L.Control.extend({
  options: {position: 'topright'},
  onAdd: function () {
    var c = L.DomUtil.create('div', 'leaflet-control-layers kz-layers');
    var toggle = L.DomUtil.create('a', 'leaflet-control-layers-toggle', c);
    toggle.href = '#'; toggle.title = T.layers; toggle.setAttribute('role', 'button');
    var list = L.DomUtil.create('section', 'leaflet-control-layers-list', c);
    var head = el('div', 'kz-layers-head'); head.appendChild(el('b', null, T.layers));
    var close = el('a', 'kz-close', '×'); close.href = '#'; close.title = T.close; head.appendChild(close);
    list.appendChild(head);
    var base = el('div', 'leaflet-control-layers-base');
    D.base.forEach(function (b, i) {
      var label = el('label'), input = el('input'); input.type = 'radio'; input.name = 'kz-base'; input.checked = i === 0;
      input.addEventListener('change', function () { D.base.forEach(function (o) { var l = K.refs[o.id]; if (l) map.removeLayer(l); }); var l = K.refs[b.id]; if (l) map.addLayer(l); });
      label.appendChild(input); label.appendChild(el('span', null, ' ' + b.name)); base.appendChild(label);
    });
    list.appendChild(base);
    var overlays = el('div', 'leaflet-control-layers-overlays');
    D.groups.forEach(function (g) {
      var det = el('details', 'kz-group'); det.open = !!g.open;
      det.appendChild(el('summary', null, g.name));
      var box = el('div', 'kz-group-items');
      if (g.type === 'radio') addItem(box, {name: T.none, show: !g.items.some(function (i) { return i.show; })}, 'radio', g.key);
      g.items.forEach(function (item) { addItem(box, item, g.type, g.key); });
      det.appendChild(box);
      if (g.key === 'kurse') det.appendChild(filterBox());
      overlays.appendChild(det);
    });
    list.appendChild(overlays);
    L.DomEvent.disableClickPropagation(c); L.DomEvent.disableScrollPropagation(c);
    L.DomEvent.on(toggle, 'click', function (e) { L.DomEvent.preventDefault(e); collapseInfo(); L.DomUtil.addClass(c, 'leaflet-control-layers-expanded'); });
    L.DomEvent.on(close, 'click', function (e) { L.DomEvent.preventDefault(e); L.DomUtil.removeClass(c, 'leaflet-control-layers-expanded'); });
    return c;
  }
});

// ---- filters of the course markers ----------------------------------------------------------
var F = {care: false, free: false, before: ''};
function visible(courses) {
  return courses.some(function (c) {
    if (F.care && !c[0]) return false;
    if (F.free && !(c[1] > 0)) return false;
    if (F.before && !(c[2] && c[2] <= F.before)) return false;
    return true;
  });
}
function applyFilters() {
  K.markers.forEach(function (m) {
    var show = visible(D.marker_courses[m[2]]), has = m[1].hasLayer(m[0]);
    if (show && !has) m[1].addLayer(m[0]); else if (!show && has) m[1].removeLayer(m[0]);
  });
}
function filterBox() {
  var box = el('div', 'kz-filters'); box.appendChild(el('div', 'kz-filter-head', T.filter));
  function check(key, text) {
    var label = el('label'), input = el('input'); input.type = 'checkbox'; input.setAttribute('data-kz-filter', key);
    input.addEventListener('change', function () { F[key] = input.checked; applyFilters(); });
    label.appendChild(input); label.appendChild(el('span', null, ' ' + text)); box.appendChild(label);
  }
  check('care', T.filter_care); check('free', T.filter_free);
  var label = el('label', null, T.filter_before + ' '), input = el('input'); input.type = 'date'; input.setAttribute('data-kz-filter', 'before');
  input.addEventListener('change', function () { F.before = input.value || ''; applyFilters(); });
  label.appendChild(input); box.appendChild(label);
  return box;
}
K.applyFilters = applyFilters;

// ---- von hier aus ----------------------------------------------------------------------------
var V = D.here, cellIndex = {}, highlight = null;
if (V) {
  for (var i = 0; i < V.lat.length; i++) {
    var key = Math.floor(V.lat[i] * 100) + ':' + Math.floor(V.lon[i] * 100);
    (cellIndex[key] = cellIndex[key] || []).push(i);
  }
}
function cellAt(lat, lon) {
  if (!V) return -1;
  var a = V.e1, b = V.e2, det = a[0] * b[1] - a[1] * b[0], bi = Math.floor(lat * 100), bj = Math.floor(lon * 100);
  for (var di = -1; di <= 1; di++) for (var dj = -1; dj <= 1; dj++) {
    var list = cellIndex[(bi + di) + ':' + (bj + dj)] || [];
    for (var n = 0; n < list.length; n++) {
      var c = list[n], dy = lat - V.lat[c], dx = lon - V.lon[c];
      var u = (dy * b[1] - dx * b[0]) / det, v = (a[0] * dx - a[1] * dy) / det;
      if (Math.abs(u) <= 0.5 && Math.abs(v) <= 0.5) return c;
    }
  }
  return -1;
}
function corners(c) {
  var la = V.lat[c], lo = V.lon[c], a = V.e1, b = V.e2;
  return [[-1, -1], [1, -1], [1, 1], [-1, 1]].map(function (s) { return [la + (s[0] * a[0] + s[1] * b[0]) / 2, lo + (s[0] * a[1] + s[1] * b[1]) / 2]; });
}
function legText(leg, last) {
  var s = D.stops, r = D.routes;
  if (leg[0] === 'walk') {
    var to = leg[2] >= 0 ? T.to_stop + ' ' + s[leg[2]] : (last === 'site' ? T.to_site : T.to_home);
    return clock(leg[4]) + '–' + clock(leg[5]) + ' ' + T.walk + ' ' + metres(leg[6]) + ' ' + to;
  }
  return clock(leg[4]) + ' ' + T.line + ' ' + r[leg[3]] + (leg[7] ? ' (' + T.on_demand + ')' : '') + ' ' + T.from + ' ' + s[leg[1]] + ', ' + clock(leg[5]) + ' ' + T.arr + ' ' + s[leg[2]];
}
function legList(p, dir) {
  var ul = el('ul', 'kz-legs'), legs = [], pre = null, post = null;
  function li(text) { ul.appendChild(el('li', 'kz-leg', text)); }
  if (dir === 'there') {
    if (p.tv === 'walk') { li(clock(p.lh) + '–' + clock(p.as) + ' ' + T.walk + ' ' + metres(p.tm) + ' ' + T.to_site); return ul; }
    legs = V.journeys[p.tj] || [];
    if (legs.length) li(clock(p.lh) + '–' + clock(p.lh + p.ts) + ' ' + T.walk + ' ' + metres(p.tm) + ' ' + T.to_stop + ' ' + D.stops[legs[0][1]]);
    legs.forEach(function (l, i) { li(legText(l, i === legs.length - 1 ? 'site' : '')); });
  } else {
    if (p.bv === 'walk') { li(clock(p.ls) + '–' + clock(p.ah) + ' ' + T.walk + ' ' + metres(p.bm) + ' ' + T.to_home); return ul; }
    legs = V.journeys[p.bj] || [];
    legs.forEach(function (l) { li(legText(l, '')); });
    if (legs.length) { var last = legs[legs.length - 1]; li(clock(p.ah - p.bs) + '–' + clock(p.ah) + ' ' + T.walk + ' ' + metres(p.bm) + ' ' + T.to_home); }
  }
  return ul;
}
function wayLine(p, dir) {
  var div = el('div', 'kz-way');
  var via = dir === 'there' ? p.tv : p.bv, t = dir === 'there' ? p.tt : p.bt;
  var head = dir === 'there' ? T.there : T.back;
  if (dir === 'there' && via === '') {
    div.textContent = head + ': ' + mins(t) + ' (' + T.arrive_between + ' ' + clock(p.start - D.early_s) + ' ' + T.and + ' ' + clock(p.start) + '; ' + T.not_shown + ')';
    return div;
  }
  var from = dir === 'there' ? p.lh : p.ls, to = dir === 'there' ? p.as : p.ah;
  div.appendChild(el('b', null, head + ': '));
  div.appendChild(document.createTextNode(T.dep + ' ' + clock(from) + ', ' + T.arr + ' ' + clock(to) + ' (' + mins(t) + ')'));
  if (via === '') { div.appendChild(el('div', null, T.not_shown)); return div; }
  var det = el('details', 'kz-journey'); det.appendChild(el('summary', null, T.journey));
  det.appendChild(legList(p, dir)); div.appendChild(det);
  return div;
}
function pairsOf(c) {
  var out = [];
  for (var n = V.first[c]; n < V.first[c + 1]; n++) {
    var k = V.course[n], co = D.courses[k];
    var arrive = V.as[n];
    out.push({k: k, tt: V.tt[n], bt: V.bt[n], tv: V.tv[n], bv: V.bv[n], as: arrive, lh: arrive == null ? null : arrive - V.tt[n],
              tm: V.tm[n], ts: V.ts[n], tj: V.tj[n], ls: co.end, ah: co.end + V.bt[n], bm: V.bm[n], bs: V.bs[n], bj: V.bj[n],
              od: V.od[n], start: co.start});
  }
  out.sort(function (a, b) { return Math.max(a.tt, a.bt) - Math.max(b.tt, b.bt); });
  return out;
}
var Here = L.Control.extend({
  options: {position: 'topright'},
  onAdd: function () {
    var c = L.DomUtil.create('div', 'kz-box kz-here');
    c.style.display = 'none';
    L.DomEvent.disableClickPropagation(c); L.DomEvent.disableScrollPropagation(c);
    return c;
  }
});
var here = new Here();
function showHere(lat, lon, where) {
  var box = here.getContainer(); box.innerHTML = ''; box.style.display = 'block'; collapseInfo();
  var head = el('div', 'kz-layers-head'); head.appendChild(el('b', null, T.here_title));
  var close = el('a', 'kz-close', '×'); close.href = '#'; close.title = T.close; head.appendChild(close);
  L.DomEvent.on(close, 'click', function (e) { L.DomEvent.preventDefault(e); box.style.display = 'none'; if (highlight) { map.removeLayer(highlight); highlight = null; } });
  box.appendChild(head);
  if (where) box.appendChild(el('div', 'kz-where', where));
  if (highlight) { map.removeLayer(highlight); highlight = null; }
  var c = cellAt(lat, lon);
  if (c < 0) { box.appendChild(el('div', 'kz-note', V ? T.no_cell : T.no_here)); box.setAttribute('data-cell', ''); return -1; }
  box.setAttribute('data-cell', V.ids[c]);
  highlight = L.polygon(corners(c), {color: '#000', weight: 2, fill: false, interactive: false}).addTo(map);
  var pairs = pairsOf(c);
  box.appendChild(el('div', 'kz-note', pairs.length ? T.here_n.replace('{n}', pairs.length) : T.here_none));
  pairs.forEach(function (p) {
    var co = D.courses[p.k], item = el('div', 'kz-course'); item.setAttribute('data-course', co.id);
    var h = el('div', 'kz-course-head'); var sy = el('span', 'kz-sym', co.sym); sy.style.background = co.colour; h.appendChild(sy);
    h.appendChild(el('b', null, co.type + ' · ' + co.sched)); item.appendChild(h);
    item.appendChild(el('div', null, co.site + ' – ' + co.days + ' ' + clock(co.start) + '–' + clock(co.end) + (co.day ? ' (' + T.analysed + ' ' + co.day + ')' : '')));
    if (p.od) item.appendChild(el('div', 'kz-od', T.only_on_demand));
    item.appendChild(wayLine(p, 'there')); item.appendChild(wayLine(p, 'back'));
    box.appendChild(item);
  });
  return c;
}
K.showHere = showHere; K.cellAt = cellAt;

// ---- search: Gemeinden, places, streets, addresses -----------------------------------------
function norm(s) {
  s = String(s).toLowerCase().replace(/ä/g, 'ae').replace(/ö/g, 'oe').replace(/ü/g, 'ue').replace(/ß/g, 'ss');
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/[^a-z0-9]+/g, ' ').trim();
}
function plain(s) { return norm(String(s).toLowerCase().replace(/ä/g, 'a').replace(/ö/g, 'o').replace(/ü/g, 'u')); }
var S = D.search, keys = S.label.map(function (l) { return [' ' + norm(l), ' ' + plain(l)]; });
function find(text) {
  var q1 = norm(text).split(' ').filter(Boolean), q2 = plain(text).split(' ').filter(Boolean), hits = [];
  if (!q1.length) return hits;
  for (var i = 0; i < keys.length; i++) {
    var score = 0, ok = true;
    for (var j = 0; j < q1.length && ok; j++) {
      var a = keys[i][0].indexOf(q1[j]), b = keys[i][1].indexOf(q2[j] || q1[j]);
      if (a < 0 && b < 0) { ok = false; break; }
      if (keys[i][0].indexOf(' ' + q1[j]) >= 0 || keys[i][1].indexOf(' ' + (q2[j] || q1[j])) >= 0) score += 2; else score += 1;
    }
    if (ok) hits.push([score, S.kind[i], i]);
  }
  hits.sort(function (x, y) { return y[0] - x[0] || x[1] - y[1] || S.label[x[2]].length - S.label[y[2]].length; });
  return hits.slice(0, 12).map(function (h) { return {title: S.label[h[2]], loc: [S.lat[h[2]], S.lon[h[2]]], kind: S.kind[h[2]]}; });
}
K.find = find;
var kinds = {};
var search = new L.Control.Search({
  position: 'topleft', collapsed: false, marker: false, initial: false, minLength: 2, delayType: 150,
  textPlaceholder: T.search, textErr: T.not_found, textCancel: T.cancel, tooltipLimit: 12,
  sourceData: function (text, callResponse) { var hits = find(text); hits.forEach(function (h) { kinds[h.title] = h.kind; }); callResponse(hits); return {abort: function () {}}; },
  filterData: function (text, records) { return records; },
  buildTip: function (text) { var li = el('li', 'search-tip', text); return li; },
  moveToLocation: function (latlng, title) {
    var kind = kinds[title];
    map.setView(latlng, kind === 0 ? 13 : (kind === 1 ? 15 : 17), {animate: false});
    if (kind >= 2) showHere(latlng.lat, latlng.lng, title);
  }
});
map.addControl(search);
K.search = search;

map.addControl(new LayerControl());
map.addControl(here);
function onClick(e) { if (V && cellAt(e.latlng.lat, e.latlng.lng) >= 0) showHere(e.latlng.lat, e.latlng.lng, ''); }
map.on('click', onClick);
// a click on a Gemeinde goes to its layer (popup with its figures), not to the map: listen there too
D.groups.forEach(function (g) { if (g.key === 'gemeinden') g.items.forEach(function (i) { K.refs[i.id].on('click', onClick); }); });
window.kurszugangKarte.ready = true;
})();
"""
