"""The HTML report: ratings, charts, matches and visual replays in one self-contained file."""

from arena.report.build import build_report

__all__ = ["build_report"]
