"""Outputs for district staff: web map, tables for German Excel, GeoPackage and GeoTIFF for QGIS,
static maps for reports.

Each output lives in its own module (``tables``, ``geopackage``, ...); import from there.
"""
