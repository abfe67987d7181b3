"""Lambda function package (handler in app.py)."""
