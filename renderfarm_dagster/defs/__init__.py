"""Dagster definitions: thin glue over the catalog, render and storage packages."""
