"""A client whose luck changes from run to run: every other run it gives up on an error instead of retrying.

The runs are counted in $FLAKY_COUNTER (a file), so `--repeat 2` sees both behaviours.
"""

import os
import sys
from pathlib import Path

import openai

counter = Path(os.environ["FLAKY_COUNTER"])
runs = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(runs + 1))
client = openai.OpenAI(max_retries=1 if runs % 2 == 0 else 0)
try:
    client.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
except openai.APIError:
    sys.exit(1)
