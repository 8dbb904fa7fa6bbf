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
from dataclasses import dataclass, field
from typing import Any

import folium
import folium.plugins
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["CSS", "LayerInfo", "MapChrome", "Panel", "ZoneSearch"]

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
.geoprio-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:800;pointer-events:none;
 background:rgba(255,255,255,.9);padding:4px 12px;border-radius:5px;box-shadow:0 1px 5px rgba(0,0,0,.3);
 font:600 14px system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#222;white-space:nowrap}
.foliumtooltip{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:340px;white-space:normal}
.foliumtooltip table{border-collapse:collapse}.foliumtooltip th{text-align:left;padding-right:8px;vertical-align:top;font-weight:600}
.foliumpopup{font:12px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:360px}
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


class MapChrome(MacroElement):
    """Style sheet, title box and metric scale of a geoprio map."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.css }}</style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function() {
            var map = {{ this._parent.get_name() }};
            L.control.scale({imperial: false, position: 'bottomleft'}).addTo(map);
            {%- if this.title %}
            var t = L.DomUtil.create('div', 'geoprio-title', map.getContainer());
            t.innerHTML = {{ this.title|tojson }};
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(self, title: str | None):
        super().__init__()
        self._name = "GeoprioChrome"
        self.title = html.escape(title) if title else None
        self.css = CSS


class ZoneSearch(folium.plugins.Search):
    """folium's Search with the layer's own styles restored after a search (``resetStyle``)."""

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
