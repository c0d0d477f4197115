"""Catalog operations over the storage interfaces: inbox, rendering with resume, manifests."""
