"""`export_worker`: the steps of the export workflow (`parley.export_job`)."""
