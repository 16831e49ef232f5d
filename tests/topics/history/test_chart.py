"""The server-side SVG chart: well-formed, one bar per value, heights to scale, labels escaped. Pure."""
from __future__ import annotations

from xml.etree import ElementTree

from topics.history.chart import bar_chart

SVG = "{http://www.w3.org/2000/svg}"


def test_each_value_is_a_bar_whose_height_is_to_scale_and_titled():
    svg = ElementTree.fromstring(bar_chart([("03-01", 2), ("03-02", 4), ("03-03", 0)], title="Grants", unit=" g"))

    bars = [rect for rect in svg.iter(f"{SVG}rect") if rect.get("class") == "bar"]
    heights = [float(rect.get("height")) for rect in bars]
    assert len(bars) == 3
    assert heights[1] == 2 * heights[0] and heights[2] == 0
    assert [rect.find(f"{SVG}title").text for rect in bars] == ["03-01: 2 g", "03-02: 4 g", "03-03: 0 g"]
    assert svg.get("aria-label") == "Grants"


def test_labels_and_title_are_escaped_and_no_style_or_script_is_emitted():
    markup = bar_chart([("<b>&", 1)], title='"><script>alert(1)</script>')

    ElementTree.fromstring(markup)  # still well-formed
    assert "<script" not in markup and "style=" not in markup
    assert "&lt;b&gt;&amp;" in markup


def test_no_values_draw_an_empty_axis():
    svg = ElementTree.fromstring(bar_chart([], title="Nothing"))

    assert [rect for rect in svg.iter(f"{SVG}rect")] == []
