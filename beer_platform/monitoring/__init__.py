"""The served model watched: how far a day's requests drift from what it was trained on, how many
it has never seen the like of, and its error where a beer's true IBU is known. Pure polars,
numpy, scipy and scikit-learn; the monitoring asset (`assets.monitoring`) does the I/O."""
