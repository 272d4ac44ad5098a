"""Activity patterns: a species' event times as a circular kernel density, and the overlap of two
species' densities, as Ridout & Linkie (2009) define them and the R package `overlap` computes
them.

Times are angles, x = 2 pi h / 24 for h hours (clock or sun time). The density of n times x_i is
a mean of von Mises kernels,

    f(x) = 1 / (2 pi I0(k) n) * sum_i exp(k cos(x - x_i)),

whose concentration k is Taylor's (2008) plug-in rule on the largest of the von Mises
concentrations fitted to the first three trigonometric moments (`overlap`'s getBandWidth),
times an adjustment (0.8 for Delta1, 1 for Delta4, `overlap`'s defaults). The coefficient of
overlap of densities f and g is Delta = integral of min(f, g) (Delta1, on a 512-point grid,
recommended when either sample has fewer than 75 times), or Delta4 = (mean of min(1, g(x)/f(x))
over f's times + mean of min(1, f(y)/g(y)) over g's times) / 2 for larger samples."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
LARGE_SAMPLE = 75  # Meredith & Ridout: Delta4 from 75 times in both samples, Delta1 below
ADJUST = {"Delta1": 0.8, "Delta4": 1.0}
GRID = 512
_T = np.linspace(0.0, math.pi, 4097)


def bessel_scaled(order: int, x: float) -> float:
    """exp(-x) I_order(x), from its integral (1/pi) * int_0^pi exp(x (cos t - 1)) cos(order t) dt,
    which stays finite for every concentration used here."""
    values = np.exp(x * (np.cos(_T) - 1.0)) * np.cos(order * _T)
    return float(np.trapezoid(values, _T) / math.pi)


def angles(hours: Sequence[float]) -> Array:
    return np.asarray(hours, dtype=np.float64) % 24.0 * (2 * math.pi / 24.0)


def _moment(x: Array, order: int) -> float:
    mean = math.atan2(float(np.sin(x).sum()), float(np.cos(x).sum()))
    return math.hypot(
        float(np.mean(np.sin(order * (x - mean)))), float(np.mean(np.cos(order * (x - mean))))
    )


def _kappa_for(moment: float, order: int) -> float:
    """The von Mises concentration whose `order`-th moment I_order(k)/I_0(k) is `moment`
    (0 when none in (0.0001, 345) is), by bisection: the ratio grows with k."""
    low, high = 1e-4, 345.0

    def ratio(k: float) -> float:
        return bessel_scaled(order, k) / bessel_scaled(0, k) - moment

    if ratio(low) * ratio(high) > 0:
        return 0.0
    for _ in range(80):
        mid = (low + high) / 2
        if ratio(low) * ratio(mid) <= 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2


def bandwidth(x: Array) -> float | None:
    """Taylor's (2008) concentration for the kernel; None when no moment fits (a sample of
    one time, or times spread evenly round the clock)."""
    kappa = max(_kappa_for(_moment(x, order), order) for order in (1, 2, 3))
    if kappa <= 0:
        return None
    ratio = bessel_scaled(2, 2 * kappa) / bessel_scaled(0, kappa) ** 2
    return float((3 * len(x) * kappa**2 * ratio / (4 * math.sqrt(math.pi))) ** 0.4)


def density(x: Array, at: Array, kappa: float) -> Array:
    """The kernel density of the times `x` at the angles `at`."""
    diff = np.cos(at[:, None] - x[None, :]) - 1.0
    kernel = np.exp(kappa * diff) / (2 * math.pi * bessel_scaled(0, kappa))
    return np.asarray(kernel.mean(axis=1), dtype=np.float64)


@dataclass(frozen=True)
class Overlap:
    estimator: str  # "Delta1" or "Delta4"
    value: float
    kappa: tuple[float, float]  # the two densities' concentrations


def overlap(
    a: Sequence[float],
    b: Sequence[float],
    *,
    kappa: tuple[float, float] | None = None,
    estimator: str | None = None,
) -> Overlap | None:
    """The overlap of two samples of times in hours; None when either has fewer than two
    times or no bandwidth. `kappa` fixes the concentrations (else Taylor's rule, adjusted) and
    `estimator` the estimator (else by the samples' sizes)."""
    x, y = angles(a), angles(b)
    if min(len(x), len(y)) < 2 and kappa is None:
        return None
    name = estimator or ("Delta4" if min(len(x), len(y)) >= LARGE_SAMPLE else "Delta1")
    if kappa is None:
        found = bandwidth(x), bandwidth(y)
        if found[0] is None or found[1] is None:
            return None
        kappa = (found[0] * ADJUST[name], found[1] * ADJUST[name])
    if name == "Delta4":
        f_x, g_x = density(x, x, kappa[0]), density(y, x, kappa[1])
        f_y, g_y = density(x, y, kappa[0]), density(y, y, kappa[1])
        value = (np.minimum(1, g_x / f_x).mean() + np.minimum(1, f_y / g_y).mean()) / 2
    else:
        grid = np.linspace(0, 2 * math.pi, GRID, endpoint=False)
        both = np.minimum(density(x, grid, kappa[0]), density(y, grid, kappa[1]))
        value = both.mean() * 2 * math.pi
    return Overlap(name, float(value), kappa)


def density_curve(hours: Sequence[float], points: int = 97) -> list[tuple[float, float]] | None:
    """(hour, density per hour) from 0 to 24 h, for a chart; None when no bandwidth fits."""
    x = angles(hours)
    kappa = bandwidth(x) if len(x) >= 2 else None
    if kappa is None:
        return None
    at = np.linspace(0, 2 * math.pi, points)
    per_radian = density(x, at, kappa * ADJUST["Delta1"])
    return [
        (float(h), float(v) * 2 * math.pi / 24)
        for h, v in zip(at * 24 / (2 * math.pi), per_radian, strict=True)
    ]
