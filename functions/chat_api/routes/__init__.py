"""One router per area; `chat_api.app` includes them all."""
