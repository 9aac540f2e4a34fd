"""The report's Plotly figures: one builder per chart, from the frames `shaping.py` returns.

Colours: a colour-blind-safe palette for the top series and grey for `other`, so the long tail
reads as "the rest", not as one more series.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go

from serving.report.shaping import OTHER

# Paul Tol's qualitative palette, as shipped by Plotly.
PALETTE = (
    "rgb(51, 34, 136)",
    "rgb(136, 204, 238)",
    "rgb(68, 170, 153)",
    "rgb(17, 119, 51)",
    "rgb(153, 153, 51)",
    "rgb(221, 204, 119)",
    "rgb(204, 102, 119)",
    "rgb(136, 34, 85)",
    "rgb(170, 68, 153)",
    "rgb(102, 17, 0)",
)
OTHER_COLOUR = "rgb(170, 170, 170)"
BILLED_COLOUR, ESTIMATED_COLOUR = "rgb(51, 34, 136)", "rgb(204, 102, 119)"


def colour_for(labels: Sequence[str]) -> dict[str, str]:
    """Palette colours in label order; `other` is grey."""
    colours, i = {}, 0
    for label in labels:
        if label == OTHER:
            colours[label] = OTHER_COLOUR
        else:
            colours[label] = PALETTE[i % len(PALETTE)]
            i += 1
    return colours


def base_layout(title: str, y_title: str, height: int = 440, **extra: object) -> dict:
    """Layout shared by every chart: white template, titled axes, legend on the right."""
    layout = {
        "title": {"text": title, "x": 0.01},
        "template": "plotly_white",
        "height": height,
        "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
        "yaxis": {"title": {"text": y_title}, "rangemode": "tozero"},
        "legend": {"title": {"text": ""}},
        "hoverlabel": {"namelength": -1},
    }
    layout.update(extra)
    return layout


def _daily_x() -> dict:
    return {"title": {"text": "UTC day"}, "tickformat": "%b %d", "type": "date"}


def stacked_cost_figure(wide: pd.DataFrame, title: str, kind: str = "bar"):
    """Stacked bars (or lines) of USD per day, one trace per column of `wide`."""
    colours = colour_for(list(wide.columns))
    fig = go.Figure()
    for label in wide.columns:
        common = {
            "x": wide.index,
            "y": wide[label],
            "name": str(label),
            "hovertemplate": "%{x|%Y-%m-%d} · %{fullData.name}: $%{y:,.2f}<extra></extra>",
        }
        if kind == "bar":
            fig.add_trace(go.Bar(marker_color=colours[label], **common))
        else:
            fig.add_trace(
                go.Scatter(mode="lines+markers", line={"color": colours[label]}, **common)
            )
    fig.update_layout(
        **base_layout(title, "Cost (USD)", barmode="stack", xaxis=_daily_x()),
    )
    fig.update_yaxes(tickprefix="$", tickformat=",.2f")
    return fig


def token_figure(mix: pd.DataFrame):
    """Stacked token bars per day with the cached share of input on a second axis."""
    fig = go.Figure()
    parts = (
        ("uncached_input_tokens", "Input (uncached)", "rgb(136, 204, 238)"),
        ("cached_input_tokens", "Input (cached)", "rgb(68, 170, 153)"),
        ("output_tokens", "Output", "rgb(51, 34, 136)"),
    )
    for column, name, colour in parts:
        fig.add_trace(
            go.Bar(
                x=mix.index,
                y=mix[column],
                name=name,
                marker_color=colour,
                hovertemplate="%{x|%Y-%m-%d} · " + name + ": %{y:,.0f} tokens<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=mix.index,
            y=mix["cached_share"] * 100,
            name="Cached share of input (%)",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "rgb(204, 102, 119)", "width": 2},
            hovertemplate="%{x|%Y-%m-%d} · cached share: %{y:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            "Input vs output tokens per day, with the cached share of input",
            "Tokens",
            barmode="stack",
            xaxis=_daily_x(),
            yaxis2={
                "title": {"text": "Cached share of input (%)"},
                "overlaying": "y",
                "side": "right",
                "range": [0, 100],
                "ticksuffix": "%",
                "showgrid": False,
            },
            legend={"orientation": "h", "y": -0.2},
        )
    )
    fig.update_layout(margin={"r": 70, "b": 90})
    return fig


def requests_heatmap(matrix: pd.DataFrame):
    """Requests by model (rows) and project (columns) as a heatmap with the counts on hover."""
    fig = go.Figure(
        go.Heatmap(
            z=matrix.to_numpy(),
            x=[str(c) for c in matrix.columns],
            y=[str(i) for i in matrix.index],
            colorscale="Blues",
            colorbar={"title": {"text": "Requests"}},
            hovertemplate="model %{y}<br>project %{x}<br>%{z:,} requests<extra></extra>",
        )
    )
    height = max(320, 120 + 32 * len(matrix.index))
    fig.update_layout(
        **base_layout(
            "Requests by model and project",
            "Model",
            height=height,
            xaxis={"title": {"text": "Project"}, "tickangle": -30},
        )
    )
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_layout(margin={"l": 200, "b": 120})
    return fig


def share_figure(totals: pd.Series):
    """Donut of billed USD by project (top + other)."""
    colours = colour_for(list(totals.index))
    fig = go.Figure(
        go.Pie(
            labels=[str(i) for i in totals.index],
            values=totals.to_numpy(),
            hole=0.45,
            sort=False,
            marker={"colors": [colours[i] for i in totals.index]},
            textinfo="percent",
            hovertemplate="%{label}: $%{value:,.2f} (%{percent})<extra></extra>",
        )
    )
    fig.update_layout(**base_layout("Share of billed spend by project (USD)", ""))
    return fig


def hbar_figure(totals: pd.Series, title: str, x_title: str, colour: str = PALETTE[0]):
    """Horizontal bars, largest on top; `other` in grey."""
    labels = [str(i) for i in totals.index]
    fig = go.Figure(
        go.Bar(
            x=totals.to_numpy(),
            y=labels,
            orientation="h",
            marker_color=[OTHER_COLOUR if i == OTHER else colour for i in labels],
            hovertemplate="%{y}: $%{x:,.2f}<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title,
            "",
            height=max(300, 110 + 28 * len(labels)),
            xaxis={"title": {"text": x_title}, "tickprefix": "$", "tickformat": ",.2f"},
        )
    )
    fig.update_yaxes(autorange="reversed", rangemode=None)
    fig.update_layout(margin={"l": 280})
    return fig


def reconciliation_figure(frame: pd.DataFrame):
    """Billed (Costs API) and estimated (tokens x list prices) USD per day as two lines."""
    fig = go.Figure()
    for column, name, colour, dash in (
        ("billed_cost_usd", "Billed (Costs API)", BILLED_COLOUR, "solid"),
        ("estimated_cost_usd", "Estimated (tokens × list prices)", ESTIMATED_COLOUR, "dash"),
    ):
        fig.add_trace(
            go.Scatter(
                x=frame.index,
                y=frame[column],
                name=name,
                mode="lines+markers",
                line={"color": colour, "dash": dash},
                hovertemplate="%{x|%Y-%m-%d} · " + name + ": $%{y:,.2f}<extra></extra>",
            )
        )
    fig.update_layout(
        **base_layout("Estimated vs billed cost per day", "Cost (USD)", xaxis=_daily_x())
    )
    fig.update_yaxes(tickprefix="$", tickformat=",.2f")
    return fig
