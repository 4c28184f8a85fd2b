"""The model's evaluation plots, as PNG bytes for the asset's metadata (matplotlib, no pyplot state)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure


def evaluation_plots(actual: np.ndarray, predicted: np.ndarray) -> bytes:
    """A 600x300 PNG: out-of-fold predicted vs actual IBU (with y = x), and residuals vs predicted."""
    figure = Figure(figsize=(6, 3), dpi=100, layout="constrained")
    left, right = figure.subplots(1, 2)
    top = float(max(actual.max(), predicted.max()) * 1.05)
    left.scatter(actual, predicted, s=6, alpha=0.6)
    left.plot([0, top], [0, top], color="black", linewidth=0.8)
    left.set(xlabel="actual IBU", ylabel="predicted IBU (out of fold)", xlim=(0, top), ylim=(0, top))
    right.scatter(predicted, actual - predicted, s=6, alpha=0.6)
    right.axhline(0, color="black", linewidth=0.8)
    right.set(xlabel="predicted IBU", ylabel="actual - predicted")
    for axes in (left, right):
        _small_labels(axes)
        axes.yaxis.label.set_size(8)
    return _png(figure)


def comparison_plot(actual: np.ndarray, card: np.ndarray, recipe: np.ndarray, tinseth: np.ndarray) -> bytes:
    """A 900x300 PNG: out-of-fold predictions of each model and the raw Tinseth estimate against
    the listed IBU (log scales: the dataset runs from 0 to 250), with y = x."""
    figure = Figure(figsize=(9, 3), dpi=100, layout="constrained")
    panels = {"card model (out of fold)": card, "recipe model (out of fold)": recipe, "Tinseth estimate": tinseth}
    top = float(max(actual.max(), *(values.max() for values in panels.values())) * 1.1) + 1
    for axes, (title, values) in zip(figure.subplots(1, 3, sharey=True), panels.items(), strict=True):
        axes.scatter(actual + 1, values + 1, s=5, alpha=0.6)
        axes.plot([1, top], [1, top], color="black", linewidth=0.8)
        axes.set(xscale="log", yscale="log", xlim=(1, top), ylim=(1, top), xlabel="listed IBU + 1")
        axes.set_title(title, fontsize=8)
        _small_labels(axes)
    figure.axes[0].set_ylabel("predicted IBU + 1", fontsize=8)
    return _png(figure)


def _small_labels(axes) -> None:
    axes.tick_params(labelsize=7)
    axes.xaxis.label.set_size(8)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
