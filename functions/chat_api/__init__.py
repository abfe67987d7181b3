"""`chat_api`: the HTTP API (Powertools event handler; routes in `chat_api.routes`)."""
