"""A client with no timeout of its own (the standard library's urllib) that also starts a worker process: under a
hang it never ends, and the verdict must kill it and its worker. The worker writes its pid to $WORKER_PID_FILE."""

import json
import os
import subprocess
import sys
import urllib.request

worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
with open(os.environ["WORKER_PID_FILE"], "a") as file:
    file.write(f"{worker.pid}\n")
request = urllib.request.Request(
    os.environ["OPENAI_BASE_URL"] + "/chat/completions",
    data=json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
    headers={"Authorization": f"Bearer {os.environ['OPENAI_API_KEY']}", "Content-Type": "application/json"},
)
with urllib.request.urlopen(request) as response:  # no timeout: waits as long as the server does
    print(json.load(response)["choices"][0]["message"]["content"])
worker.kill()
