"""The pieces a geoprio map is made of beyond folium's own: Leaflet elements, CSS, and LayerInfo.

* :class:`Panel` — a legend or chart box (a Leaflet control) shown while its layer is on;
* :class:`MapChrome` — the style sheet (:data:`CSS`), the title box and the metric scale;
* :class:`ZoneSearch` — folium's search box that restores the layer's styles after a search;
* :class:`LayerInfo` — what each ``add_*_layer`` function returns: the layer's name in the
  layer control, its kind and how many features it draws.

The JavaScript lives in the elements' Jinja templates and is written into the page by folium.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import folium
import folium.plugins
from branca.element import MacroElement
from folium.template import Template as FoliumTemplate
from jinja2 import Template

__all__ = [
    "CSS",
    "NORTH_ARROW",
    "LayerControl",
    "LayerInfo",
    "MapChrome",
    "Panel",
    "PopupPolicy",
    "RankMarkers",
    "ZoneSearch",
    "popup_table",
]

#: The style sheet of every geoprio map: panels, legends, the title box, tooltips and popups.
CSS = """
.geoprio-panel{background:rgba(255,255,255,.93);padding:6px 9px;border-radius:5px;box-shadow:0 1px 5px rgba(0,0,0,.35);
 font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#222;max-width:290px}
.geoprio-panel h4{margin:0 0 4px;font-size:12.5px;font-weight:600}
.geoprio-panel .row{display:flex;align-items:center;margin:1px 0}
.geoprio-panel .sw{width:16px;height:12px;margin-right:6px;border:1px solid #777;flex:none}
.geoprio-panel .ring{border-radius:50%}
.geoprio-panel .grad{height:10px;border:1px solid #777;margin:2px 0}
.geoprio-panel .ticks{display:flex;justify-content:space-between;font-size:11px}
.geoprio-panel .note{margin-top:3px;font-size:11px;color:#444}
.geoprio-light{filter:grayscale(1) brightness(1.12) contrast(.82)}
.geoprio-title{position:absolute;top:0;left:0;right:0;z-index:800;background:rgba(255,255,255,.95);padding:5px 12px 6px;
 box-shadow:0 1px 4px rgba(0,0,0,.3);text-align:center;color:#222;
 font:600 15px/1.25 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.geoprio-title .sub{font-weight:400;font-size:12px;color:#444;margin-top:1px}
.geoprio-source{background:rgba(255,255,255,.9);padding:2px 6px;border-radius:3px;color:#333;max-width:420px;
 font:11px/1.3 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
.geoprio-north{background:rgba(255,255,255,.9);border-radius:4px;box-shadow:0 1px 4px rgba(0,0,0,.3);width:30px;height:40px;line-height:0}
.geoprio-stamp{position:absolute;top:50%;left:50%;transform:translate(-50%,-50%) rotate(-18deg);z-index:650;pointer-events:none;
 font:800 56px/1 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;letter-spacing:.08em;color:rgba(200,0,0,.22);
 border:6px solid rgba(200,0,0,.22);padding:6px 22px;border-radius:10px;white-space:nowrap}
.geoprio-stamp small{display:block;font-size:16px;font-weight:600;letter-spacing:.02em;text-align:center;margin-top:4px}
.geoprio-rank{background:none;border:none}
.geoprio-rank span{display:flex;align-items:center;justify-content:center;width:100%;height:100%;border-radius:50%;
 background:#fff;border:2px solid #222;font:700 11px/1 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111;
 box-shadow:0 1px 3px rgba(0,0,0,.4)}
.geoprio-zlow .geoprio-rank span{transform:scale(.72)}
.geoprio-rank.site span{border-color:#fff;color:#fff}
.leaflet-control-layers-expanded .leaflet-control-layers-list{max-height:42vh;overflow-y:auto}
.leaflet-tooltip.foliumtooltip{opacity:1 !important}
.foliumtooltip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:340px;white-space:normal}
.foliumtooltip table{border-collapse:collapse}.foliumtooltip th{text-align:left;padding-right:8px;vertical-align:top;font-weight:600}
.foliumpopup{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:360px;min-width:200px}
.foliumpopup table{border-collapse:collapse}.foliumpopup th{text-align:left;padding-right:8px;vertical-align:top;font-weight:600}
"""


class Panel(MacroElement):
    """A legend or chart box (Leaflet control) shown while its layer is on the map."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var panel = L.control({position: {{ this.position|tojson }}});
            panel.onAdd = function() {
                var div = L.DomUtil.create('div', 'geoprio-panel {{ this.css_class }}');
                div.innerHTML = {{ this.html|tojson }};
                L.DomEvent.disableClickPropagation(div);
                L.DomEvent.disableScrollPropagation(div);
                return div;
            };
            {%- if this.layer %}
            var layer = {{ this.layer.get_name() }};
            if (map.hasLayer(layer)) { panel.addTo(map); }
            map.on('layeradd', function(e) { if (e.layer === layer) { panel.addTo(map); } });
            map.on('layerremove', function(e) { if (e.layer === layer) { panel.remove(); } });
            {%- else %}
            panel.addTo(map);
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html_text: str, *, layer: Any = None, position: str = "bottomright", css_class: str = "geoprio-legend"):
        super().__init__()
        self._name = "GeoprioPanel"
        self.html = html_text
        self.layer = layer
        self.position = position
        self.css_class = css_class


#: The north arrow (an SVG in the map's lower-left corner; the maps are drawn north up).
NORTH_ARROW = (
    '<svg width="30" height="40" viewBox="0 0 30 40" role="img" aria-label="N">'
    '<text x="15" y="12" text-anchor="middle" font-size="11" font-weight="700" font-family="Arial,sans-serif">N</text>'
    '<path d="M15 14 L22 36 L15 31 Z" fill="#222"/><path d="M15 14 L8 36 L15 31 Z" fill="#fff" stroke="#222" stroke-width="1"/></svg>'
)

#: Moves the map after a popup opens so that the popup is inside the map and clear of every
#: control and of the title band (the smallest pan that does it); Leaflet's own auto-pan only
#: knows the map's edges.
_CLEAR_POPUP_JS = """
function geoprioClearPopup(map, popup) {
    var el = popup.getElement();
    if (!el) { return; }
    var box = map.getContainer().getBoundingClientRect(), m = 6;
    var obst = Array.prototype.slice.call(map.getContainer().querySelectorAll('.leaflet-control, .geoprio-title'))
        .map(function(e) { return e.getBoundingClientRect(); })
        .filter(function(r) { return r.width > 0 && r.height > 0; });
    var p = el.getBoundingClientRect();
    function hits(dx, dy) {
        var l = p.left + dx, r = p.right + dx, t = p.top + dy, b = p.bottom + dy;
        if (l < box.left + m || r > box.right - m || t < box.top + m || b > box.bottom - m) { return true; }
        return obst.some(function(o) { return l < o.right + m && r > o.left - m && t < o.bottom + m && b > o.top - m; });
    }
    if (!hits(0, 0)) { return; }
    var xs = [0, box.left + m - p.left, box.right - m - p.right], ys = [0, box.top + m - p.top, box.bottom - m - p.bottom];
    obst.forEach(function(o) {
        xs.push(o.right + m + 1 - p.left, o.left - m - 1 - p.right);
        ys.push(o.bottom + m + 1 - p.top, o.top - m - 1 - p.bottom);
    });
    var best = null;
    xs.forEach(function(dx) { ys.forEach(function(dy) {
        var d = Math.abs(dx) + Math.abs(dy);
        if ((best === null || d < best[2]) && !hits(dx, dy)) { best = [dx, dy, d]; }
    }); });
    if (best !== null) { map.panBy([-best[0], -best[1]], {animate: false}); }
}
"""


class PopupPolicy(MacroElement):
    """Before any layer: popups open on click and pan the map clear of every control
    (:data:`_CLEAR_POPUP_JS`), in place of Leaflet's auto-pan, which only knows the map's edges.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.Popup.mergeOptions({autoPan: false, maxWidth: 360});
        {{ this.js }}
        (function() {
            var map = {{ this._parent.get_name() }};
            map.on('popupopen', function(e) { geoprioClearPopup(map, e.popup); });
        })();
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "GeoprioPopups"
        self.js = _CLEAR_POPUP_JS


class MapChrome(MacroElement):
    """Style sheet, the title band (title and subtitle), the source line, the north arrow, the
    metric scale and, on synthetic data, the stamp.

    The title is a band across the top of the map; the controls of the top corners start below
    it, so that none ever covers it.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var box = map.getContainer();
            {%- if this.source %}
            var src = L.control({position: 'bottomleft'});
            src.onAdd = function() {
                var d = L.DomUtil.create('div', 'geoprio-source');
                d.innerHTML = {{ this.source|tojson }};
                return d;
            };
            src.addTo(map);
            {%- endif %}
            L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
            var north = L.control({position: 'bottomleft'});
            north.onAdd = function() {
                var d = L.DomUtil.create('div', 'geoprio-north');
                d.title = {{ this.north_title|tojson }};
                d.innerHTML = {{ this.north|tojson }};
                return d;
            };
            north.addTo(map);
            {%- if this.title %}
            var t = L.DomUtil.create('div', 'geoprio-title', box);
            t.innerHTML = {{ this.title|tojson }};
            L.DomEvent.disableClickPropagation(t);
            var place = function() {
                box.querySelectorAll('.leaflet-top').forEach(function(c) { c.style.top = t.offsetHeight + 'px'; });
            };
            place();
            map.on('resize', place);
            {%- endif %}
            {%- if this.stamp %}
            var s = L.DomUtil.create('div', 'geoprio-stamp', box);
            s.innerHTML = {{ this.stamp|tojson }};
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        title: str | None,
        *,
        subtitle: str | None = None,
        source: str | None = None,
        stamp: tuple[str, str] | None = None,
        north_title: str = "N",
    ):
        super().__init__()
        self._name = "GeoprioChrome"
        head = html.escape(title) if title else ""
        if subtitle:
            head += f'<div class="sub">{html.escape(subtitle)}</div>'
        self.title = head or None
        self.source = html.escape(source) if source else None
        self.stamp = f"{html.escape(stamp[0])}<small>{html.escape(stamp[1])}</small>" if stamp else None
        self.north = NORTH_ARROW
        self.north_title = north_title
        self.css = CSS


def popup_table(props: Mapping[str, str], fields: Sequence[str], aliases: Sequence[str]) -> str:
    """A popup's HTML table, as folium's GeoJsonPopup draws it (``props`` are escaped already)."""
    rows = "".join(f"<tr><th>{html.escape(a)}</th><td>{props[f]}</td></tr>" for f, a in zip(fields, aliases, strict=True) if f in props)
    return f"<table>{rows}</table>"


class RankMarkers(MacroElement):
    """Numbered circles (rank labels) at given points, on the map while ``layer`` is on.

    ``points``: ``[lat, lon, rank]`` (Leaflet's order), or ``[lat, lon, rank, popup HTML]``
    for a circle that opens a popup on click, or ``[lat, lon, rank, popup HTML, ring colour]``
    for a circle ringed in the colour of its feature; ``color``: the circles' fill (white with black
    numbers by default). Without a popup a circle is not clickable: a click reaches the shape
    under the number.
    The circles shrink below zoom 12, so that the numbers do not cover a city seen whole.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            var layer = {{ this.layer.get_name() }};
            var group = L.layerGroup();
            {{ this.points|tojson }}.forEach(function(p) {
                var ring = p[4] ? ';border:3px solid ' + p[4] : '';
                var mk = L.marker([p[0], p[1]], {
                    icon: L.divIcon({className: {{ this.css_class|tojson }}, iconSize: [22, 22], iconAnchor: [11, 11],
                                     html: '<span style="{{ this.style }}' + ring + '">' + p[2] + '</span>'}),
                    interactive: p.length > 3 && p[3] !== null, keyboard: false, zIndexOffset: 1000 - p[2]
                });
                if (p.length > 3 && p[3] !== null) { mk.bindPopup(p[3], {className: 'foliumpopup'}); }
                mk.addTo(group);
            });
            var sync = function() { if (map.hasLayer(layer)) { group.addTo(map); } else { group.remove(); } };
            sync();
            map.on('layeradd layerremove', function(e) { if (e.layer === layer) { sync(); } });
            var size = function() { map.getContainer().classList.toggle('geoprio-zlow', map.getZoom() < 12); };
            size();
            map.on('zoomend', size);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, layer: Any, points: list[list[Any]], *, color: str | None = None):
        super().__init__()
        self._name = "GeoprioRanks"
        self.layer = layer
        self.points = points
        self.css_class = "geoprio-rank site" if color else "geoprio-rank"
        self.style = f"background:{html.escape(color)}" if color else ""


class LayerControl(folium.LayerControl):
    """folium's layer control, collapsed on small screens (a phone, a tablet held upright)."""

    _template = FoliumTemplate(
        """
        {% macro script(this,kwargs) %}
            var {{ this.get_name() }}_layers = {
                base_layers : {
                    {%- for key, val in this.base_layers.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
                overlays :  {
                    {%- for key, val in this.overlays.items() %}
                    {{ key|tojson }} : {{val}},
                    {%- endfor %}
                },
            };
            let {{ this.get_name() }} = L.control.layers(
                {{ this.get_name() }}_layers.base_layers,
                {{ this.get_name() }}_layers.overlays,
                Object.assign({{ this.options|tojavascript }},
                              {collapsed: window.matchMedia({{ this.small|tojson }}).matches})
            ).addTo({{this._parent.get_name()}});
        {% endmacro %}
        """
    )

    def __init__(self, *, small: str = "(max-width: 900px), (max-height: 600px)"):
        super().__init__(position="topright", collapsed=False)
        self.small = small


class ZoneSearch(folium.plugins.Search):
    """folium's Search, accent- and case-insensitive, with the layer's own styles restored after a search (``resetStyle``)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Search({
                layer: {{ this.layer.get_name() }},
                propertyName: {{ this.search_label|tojson }},
                collapsed: {{ this.collapsed|tojson }},
                textPlaceholder: {{ this.placeholder|tojson }},
                textErr: {{ this.text_err|tojson }},
                textCancel: {{ this.text_cancel|tojson }},
                position: {{ this.position|tojson }},
                initial: false,
                marker: false,
                // accent- and case-insensitive: "simon bolivar" finds "Simón Bolívar"
                filterData: function(text, records) {
                    var fold = function(s) { return String(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase(); };
                    var want = fold(text).trim(), found = {};
                    for (var key in records) {
                        if (fold(key).indexOf(want) !== -1) { found[key] = records[key]; }
                    }
                    return found;
                },
                moveToLocation: function(latlng, title, map) {
                    map.fitBounds(latlng.layer.getBounds(), {maxZoom: 16});
                }
            });
            {{ this.get_name() }}.on('search:locationfound', function(e) {
                var map = {{ this._parent.get_name() }};
                if (!map.hasLayer({{ this.layer.get_name() }})) { map.addLayer({{ this.layer.get_name() }}); }
                {{ this.layer.get_name() }}.resetStyle();
                e.layer.setStyle({weight: 4, color: '#00e5ff'});
                e.layer.bringToFront();
            });
            {{ this.get_name() }}.on('search:collapsed', function(e) {
                {{ this.layer.get_name() }}.resetStyle();
            });
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
            {%- if not this.show %}
            // leaflet-search puts its layer on the map; keep it off until asked for
            {{ this._parent.get_name() }}.removeLayer({{ this.layer.get_name() }});
            {%- endif %}
        {% endmacro %}
        """
    )

    def __init__(
        self,
        layer: folium.GeoJson,
        *,
        search_label: str,
        placeholder: str,
        text_err: str,
        text_cancel: str,
        show: bool,
        position: str = "topleft",
    ):
        super().__init__(layer, search_label=search_label, geom_type="Polygon", position=position, placeholder=placeholder)
        self.text_err = text_err
        self.text_cancel = text_cancel
        self.show = show


@dataclass(frozen=True)
class LayerInfo:
    """What one call drew: the layer's name in the layer control, its kind and feature count."""

    name: str
    kind: str
    features: int
    layer: Any = field(repr=False, compare=False, default=None)
    note: str = ""
