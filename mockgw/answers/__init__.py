"""Building the answer to a matched request: scripted replies, generated text, values from schemas."""
