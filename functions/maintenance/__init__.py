"""`maintenance`: the scheduled clean-up (`parley.maintenance`)."""
