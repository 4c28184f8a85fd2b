"""The asset graph, one module per stage: punkapi -> beer_events -> raw_beers -> cleaned_beers -> beers_table."""
