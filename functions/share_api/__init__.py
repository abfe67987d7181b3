"""`share_api`: the public, read-only page of a shared conversation."""
