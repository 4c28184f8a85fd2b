"""The asset graph, one module per group (ingestion, lake, catalog, ml, serving), each asset beside
its checks. `definitions.py` loads every asset and check found here."""
