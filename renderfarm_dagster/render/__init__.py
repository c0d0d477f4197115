"""The render engine: specs to SVG to images. Pure Python: no Dagster, no storage."""
